//! Fuzzing the parsers of outside bytes: the SAM frame codec and the ID card's text block
//! (`drivers/idcard`), the scanner framer (`drivers/scanner`), the offline code's QR text
//! (`protocol`) and the printer's status answers (`drivers/printer`).
//!
//! [`targets`] holds the bodies, [`seeds`] the seed corpora made from real inputs, and
//! [`mutate`] the small mutation loop that `scripts/fuzz` runs on stable Rust when cargo-fuzz
//! and a nightly toolchain are not there.

pub mod mutate;
pub mod seeds;
pub mod targets;

pub use targets::{offline_code, printer_status, sam_codec, scanner_framer, text_block};
