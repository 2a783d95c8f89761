//! libFuzzer entry for the `offline_code` body in `src/lib.rs` (`cargo +nightly fuzz run offline_code`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiosk_fuzz::offline_code(data);
});
