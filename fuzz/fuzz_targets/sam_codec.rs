//! libFuzzer entry for the `sam_codec` body in `src/lib.rs` (`cargo +nightly fuzz run sam_codec`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiosk_fuzz::sam_codec(data);
});
