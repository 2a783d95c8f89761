//! libFuzzer entry for the `printer_status` body in `src/lib.rs` (`cargo +nightly fuzz run printer_status`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiosk_fuzz::printer_status(data);
});
