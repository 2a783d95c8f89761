//! The printing path for slips: lay out the bytes, check them, then print. A slip whose QR does
//! not decode to the code, or whose code does not verify against the issuer keys, never reaches
//! the printer.

use protocol::KeySet;

use crate::check::{SlipCheckError, check_slip};
use crate::slip::{SlipContent, SlipError, slip_bytes};
use crate::{PrintError, PrintReport, Printer, Profile};

/// Why a slip was not printed.
#[derive(Debug, thiserror::Error)]
pub enum SlipPrintError {
    /// The slip cannot be laid out for this profile (nothing was sent).
    #[error("the slip cannot be laid out: {0}")]
    Layout(#[from] SlipError),
    /// The rendered slip failed its check (nothing was sent).
    #[error("the slip failed its check: {0}")]
    Check(#[from] SlipCheckError),
    /// The printer refused or failed.
    #[error(transparent)]
    Print(#[from] PrintError),
}

/// Lays out `content` for `profile`, renders the bytes and checks that the QR decodes to
/// `content.qr_text` and that the code verifies against `keys`; only then prints.
pub fn print_slip(
    printer: &mut dyn Printer,
    content: &SlipContent,
    profile: &Profile,
    keys: &KeySet,
) -> Result<PrintReport, SlipPrintError> {
    let bytes = checked_slip(content, profile, keys)?;
    Ok(printer.print(&bytes)?)
}

/// The slip's bytes, checked: what [`print_slip`] sends.
pub fn checked_slip(
    content: &SlipContent,
    profile: &Profile,
    keys: &KeySet,
) -> Result<Vec<u8>, SlipPrintError> {
    let bytes = slip_bytes(content, profile)?;
    check_slip(&bytes, profile.dots_per_line, &content.qr_text, keys)?;
    Ok(bytes)
}
