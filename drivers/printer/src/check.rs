//! The check every slip passes before it is printed: render the ESC/POS bytes with our own
//! renderer, find and decode the QR code with a pure-Rust decoder (`rqrr`), compare its text with
//! the code we meant to print, and verify that code's signature against the central's keys.

use protocol::{CodeError, KeySet, OfflineCode};

use crate::render::{Bitmap, RenderError, render};

/// White margin, in dots, added around the bitmap before looking for QR codes.
const MARGIN: u32 = 16;

/// Why a slip must not be printed.
#[derive(Debug, thiserror::Error)]
pub enum SlipCheckError {
    /// The bytes could not be rendered.
    #[error("the slip cannot be rendered: {0}")]
    Render(#[from] RenderError),
    /// No QR code was found on the rendered slip.
    #[error("no QR code found on the slip")]
    NoQr,
    /// A QR code was found but could not be decoded.
    #[error("the QR code on the slip cannot be decoded: {0}")]
    Undecodable(String),
    /// The QR code decodes to another text than the code meant to be printed.
    #[error("the QR code reads {found:?}, expected {expected:?}")]
    Mismatch {
        /// The text we meant to print.
        expected: String,
        /// The text the QR code carries.
        found: String,
    },
    /// The QR text is not a validly signed offline code.
    #[error("the code on the slip does not verify: {0}")]
    Signature(#[source] CodeError),
}

/// Renders `bytes` for a printer of `dots_per_line` dots, decodes every QR code on it and checks
/// that each reads `expected_qr_text`, then that the text is an offline code whose signature
/// verifies against `keys`.
pub fn check_slip(
    bytes: &[u8],
    dots_per_line: u16,
    expected_qr_text: &str,
    keys: &KeySet,
) -> Result<(), SlipCheckError> {
    let bitmap = render(bytes, dots_per_line)?;
    let texts = decode_qr(&bitmap)?;
    if let Some(found) = texts.iter().find(|t| t.as_str() != expected_qr_text) {
        return Err(SlipCheckError::Mismatch {
            expected: expected_qr_text.to_owned(),
            found: found.clone(),
        });
    }
    OfflineCode::verify(expected_qr_text, keys).map_err(SlipCheckError::Signature)?;
    Ok(())
}

/// Decodes every QR code on `bitmap` with `rqrr`, scaling the image up when the modules are too
/// small to be found at the printer's resolution. Returns at least one text, or the reason none
/// was read.
pub fn decode_qr(bitmap: &Bitmap) -> Result<Vec<String>, SlipCheckError> {
    let mut last_error = None;
    for scale in [1u32, 2, 3] {
        let w = (bitmap.width + 2 * MARGIN) * scale;
        let h = (bitmap.height + 2 * MARGIN) * scale;
        let mut img =
            rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
                let (x, y) = (x as u32 / scale, y as u32 / scale);
                let black = x >= MARGIN && y >= MARGIN && bitmap.get(x - MARGIN, y - MARGIN);
                if black { 0 } else { 255 }
            });
        let grids = img.detect_grids();
        if grids.is_empty() {
            continue;
        }
        let mut texts = Vec::new();
        for grid in grids {
            match grid.decode() {
                Ok((_, text)) => texts.push(text),
                Err(e) => last_error = Some(e.to_string()),
            }
        }
        if !texts.is_empty() {
            return Ok(texts);
        }
    }
    Err(match last_error {
        Some(e) => SlipCheckError::Undecodable(e),
        None => SlipCheckError::NoQr,
    })
}
