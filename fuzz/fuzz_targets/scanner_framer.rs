//! libFuzzer entry for the `scanner_framer` body in `src/lib.rs` (`cargo +nightly fuzz run scanner_framer`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    kiosk_fuzz::scanner_framer(data);
});
