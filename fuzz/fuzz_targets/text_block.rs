//! libFuzzer entry for the `text_block` body in `src/lib.rs` (`cargo +nightly fuzz run text_block`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiosk_fuzz::text_block(data);
});
