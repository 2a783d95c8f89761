//! The slip as a PDF, for kiosks with an office printer and for archives: the rendered bitmap is
//! placed at the print head's resolution (8 dots per mm, 203.2 dpi) on a page as wide as the paper
//! roll and as tall as the slip, or centred on an A6 page.

use printpdf::{
    Mm, Op, PdfDocument, PdfSaveOptions, Pt, RawImage, RawImageData, RawImageFormat,
    XObjectTransform,
};

use crate::render::{RenderError, render};

/// Dots per inch of a thermal head with 8 dots per mm.
pub const HEAD_DPI: f32 = 203.2;

/// A6 page size in mm (portrait).
const A6_MM: (f32, f32) = (105.0, 148.0);

/// Margin kept around the slip on an A6 page, in mm.
const A6_MARGIN_MM: f32 = 5.0;

/// The page the slip is placed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PdfPage {
    /// As wide as the paper roll (58 mm for 384 dots, 80 mm for 576) and as tall as the slip.
    PaperWidth,
    /// An A6 page (105 x 148 mm) with the slip centred at print size, scaled down only if it would
    /// not fit.
    A6,
}

/// Why a PDF could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PdfError {
    /// The bytes could not be rendered.
    #[error("the slip cannot be rendered: {0}")]
    Render(#[from] RenderError),
}

/// The width in mm of the paper roll for a head of `dots_per_line` dots: 58 mm for 384 dots,
/// 80 mm for 576, otherwise the print width plus 10 mm.
pub fn paper_width_mm(dots_per_line: u16) -> f32 {
    match dots_per_line {
        576 => 80.0,
        n => f32::from(n) / 8.0 + 10.0,
    }
}

/// Renders the ESC/POS `bytes` for a printer of `dots_per_line` dots and returns a one-page PDF
/// carrying the slip as an image.
pub fn slip_pdf(bytes: &[u8], dots_per_line: u16, page: PdfPage) -> Result<Vec<u8>, PdfError> {
    let bitmap = render(bytes, dots_per_line)?;
    let img_w_mm = bitmap.width as f32 / 8.0;
    let img_h_mm = bitmap.height as f32 / 8.0;
    let (page_w, page_h, scale) = match page {
        PdfPage::PaperWidth => (paper_width_mm(dots_per_line), img_h_mm, 1.0f32),
        PdfPage::A6 => {
            let (w, h) = A6_MM;
            let fit = ((w - 2.0 * A6_MARGIN_MM) / img_w_mm)
                .min((h - 2.0 * A6_MARGIN_MM) / img_h_mm)
                .min(1.0);
            (w, h, fit)
        }
    };
    let x = (page_w - img_w_mm * scale) / 2.0;
    let y = (page_h - img_h_mm * scale) / 2.0;

    let mut doc = PdfDocument::new("随申码·离线码");
    let image = RawImage {
        pixels: RawImageData::U8(bitmap.to_luma8()),
        width: bitmap.width as usize,
        height: bitmap.height as usize,
        data_format: RawImageFormat::R8,
        tag: Vec::new(),
    };
    let id = doc.add_image(&image);
    let ops = vec![Op::UseXobject {
        id,
        transform: XObjectTransform {
            translate_x: Some(Pt::from(Mm(x))),
            translate_y: Some(Pt::from(Mm(y))),
            scale_x: Some(scale),
            scale_y: Some(scale),
            dpi: Some(HEAD_DPI),
            ..Default::default()
        },
    }];
    let pdf_page = printpdf::PdfPage::new(Mm(page_w), Mm(page_h), ops);
    let mut warnings = Vec::new();
    Ok(doc
        .with_pages(vec![pdf_page])
        .save(&PdfSaveOptions::default(), &mut warnings))
}
