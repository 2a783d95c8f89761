//! The venue poster: an A4 PDF (printpdf) with the organisation's name, "进出请扫码", a QR code
//! 150 mm wide (quiet zone included) carrying the signed venue poster code, short instructions, and in small type the
//! address, the unified social credit code and the poster's number.
//!
//! Text is set in the bundled Noto Sans SC subset (`assets/fonts`, the font the kiosk and the
//! slip use), drawn as the glyphs' vector outlines (read with `ab_glyph`) rather than embedded as
//! a font: printpdf embeds a font whole unless built with its `text_layout` feature (a large
//! layout engine), which would make every poster 1.3 MB; as outlines a poster is a few tens of
//! kilobytes and prints sharp at any size. The price is that the PDF has no text layer to search
//! or copy. The subset covers printable ASCII, GB2312, CJK punctuation and full-width forms; an
//! organisation's name or address with a character outside it is refused when it applies
//! ([`unprintable`]), so that a poster never shows an empty box. The QR is drawn as filled
//! rectangles, error correction level M, with the four-module quiet zone left white.

use ab_glyph::{Font, FontRef, OutlineCurve};
use printpdf::{
    Color, LinePoint, Mm, Op, PaintMode, PdfDocument, PdfPage, PdfSaveOptions, Point, Polygon,
    PolygonRing, Pt, Rect, Rgb, WindingOrder,
};
use qrcode::{EcLevel, QrCode};

/// The bundled CJK font.
pub const FONT: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Regular-subset.otf");

/// A4, in mm.
pub const PAGE_MM: (f32, f32) = (210.0, 297.0);
/// The side of the QR code (quiet zone included), in mm.
pub const QR_MM: f32 = 150.0;
/// The big line above the QR.
pub const HEADLINE: &str = "进出请扫码";
/// The band at the top.
pub const BANNER: &str = "随申码 · 单位张贴码";
/// The instructions under the QR.
pub const INSTRUCTIONS: [&str; 3] = [
    "1. 请打开“随申办”，扫描上方二维码，登记进入并查看本人健康码。",
    "2. 没有智能手机的老年人，请向门口工作人员出示随申码离线码凭条。",
    "3. 绿码请进入；黄码、红码请听从工作人员安排。",
];
/// The last line of small print.
pub const FOOTNOTE: &str = "本单位重新打印张贴码后，此前打印的张贴码即失效，请及时更换。";

/// Side margins, in mm.
const MARGIN_MM: f32 = 15.0;
/// Height of the top band, in mm.
const BANNER_MM: f32 = 20.0;

/// Why a poster could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PosterError {
    /// The bundled font could not be read (a broken build).
    #[error("the poster font cannot be read")]
    Font,
    /// The QR text does not fit a QR code.
    #[error("the poster code does not fit a QR code: {0}")]
    Qr(String),
}

/// What goes on a poster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PosterContent<'a> {
    /// The organisation's registered name.
    pub name: &'a str,
    /// Its address.
    pub address: &'a str,
    /// Its unified social credit code.
    pub uscc: &'a str,
    /// The QR text (`SSMV1:...`).
    pub qr_text: &'a str,
    /// The poster's number as printed: venue id and serial.
    pub number: &'a str,
}

fn metrics() -> Result<FontRef<'static>, PosterError> {
    FontRef::try_from_slice(FONT).map_err(|_| PosterError::Font)
}

/// The characters of `text` the poster font cannot print (each once, in order of appearance).
/// Line breaks and tabs count as unprintable too: a name or an address is one line of text.
pub fn unprintable(text: &str) -> Vec<char> {
    let Ok(font) = metrics() else {
        return text.chars().collect();
    };
    let mut missing = Vec::new();
    for c in text.chars() {
        let absent = c.is_control() || (c != ' ' && font.glyph_id(c).0 == 0);
        if absent && !missing.contains(&c) {
            missing.push(c);
        }
    }
    missing
}

/// The width of `text` at `size` points, in points.
fn width_pt(font: &FontRef<'_>, text: &str, size: f32) -> f32 {
    let em = font.units_per_em().unwrap_or(1000.0);
    text.chars()
        .map(|c| font.h_advance_unscaled(font.glyph_id(c)))
        .sum::<f32>()
        / em
        * size
}

/// `text` broken into lines no wider than `max_pt` at `size` (by character: Chinese has no
/// spaces to break at).
fn wrap(font: &FontRef<'_>, text: &str, size: f32, max_pt: f32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for c in text.chars() {
        let mut longer = line.clone();
        longer.push(c);
        if !line.is_empty() && width_pt(font, &longer, size) > max_pt {
            lines.push(std::mem::take(&mut line));
            line.push(c);
        } else {
            line = longer;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Builds the page's operations.
struct Page<'f> {
    font: &'f FontRef<'static>,
    ops: Vec<Op>,
}

impl Page<'_> {
    fn fill(&mut self, r: f32, g: f32, b: f32) {
        self.ops.push(Op::SetFillColor {
            col: Color::Rgb(Rgb::new(r, g, b, None)),
        });
    }

    fn rect_mm(&mut self, x: f32, y: f32, w: f32, h: f32) {
        self.rect_pt(
            Pt::from(Mm(x)),
            Pt::from(Mm(y)),
            Pt::from(Mm(w)),
            Pt::from(Mm(h)),
        );
    }

    fn rect_pt(&mut self, x: Pt, y: Pt, w: Pt, h: Pt) {
        self.ops.push(Op::DrawRectangle {
            rectangle: Rect {
                x,
                y,
                width: w,
                height: h,
                mode: Some(PaintMode::Fill),
                winding_order: None,
            },
        });
    }

    /// One line of text, centred on the page, with its baseline `y_mm` from the bottom.
    fn centred(&mut self, text: &str, size: f32, y_mm: f32) {
        let width = width_pt(self.font, text, size);
        let x = Pt::from(Mm(PAGE_MM.0)).0 / 2.0 - width / 2.0;
        self.text_at(text, size, Pt(x), y_mm);
    }

    /// One line of text starting at `x`, baseline `y_mm` from the bottom, as filled outlines
    /// (non-zero winding, as the font's outlines are drawn).
    fn text_at(&mut self, text: &str, size: f32, x: Pt, y_mm: f32) {
        let scale = size / self.font.units_per_em().unwrap_or(1000.0);
        let baseline = Pt::from(Mm(y_mm)).0;
        let mut pen = x.0;
        let mut rings = Vec::new();
        for c in text.chars() {
            let id = self.font.glyph_id(c);
            let at = |p: ab_glyph::Point, bezier: bool| LinePoint {
                p: Point {
                    x: Pt(pen + p.x * scale),
                    y: Pt(baseline + p.y * scale),
                },
                bezier,
            };
            if let Some(outline) = self.font.outline(id) {
                let mut ring: Vec<LinePoint> = Vec::new();
                let mut last = None;
                for curve in &outline.curves {
                    let (start, end) = match *curve {
                        OutlineCurve::Line(p0, p1) => (p0, p1),
                        OutlineCurve::Quad(p0, _, p2) => (p0, p2),
                        OutlineCurve::Cubic(p0, _, _, p3) => (p0, p3),
                    };
                    if last != Some(start) {
                        if !ring.is_empty() {
                            rings.push(PolygonRing {
                                points: std::mem::take(&mut ring),
                            });
                        }
                        ring.push(at(start, false));
                    }
                    match *curve {
                        OutlineCurve::Line(_, p1) => ring.push(at(p1, false)),
                        OutlineCurve::Quad(p0, p1, p2) => {
                            // The cubic with the same curve: controls 2/3 of the way to p1.
                            let two_thirds = |from: ab_glyph::Point| ab_glyph::Point {
                                x: from.x + (p1.x - from.x) * 2.0 / 3.0,
                                y: from.y + (p1.y - from.y) * 2.0 / 3.0,
                            };
                            let (c1, c2) = (two_thirds(p0), two_thirds(p2));
                            ring.extend([at(c1, true), at(c2, true), at(p2, false)]);
                        }
                        OutlineCurve::Cubic(_, p1, p2, p3) => {
                            ring.extend([at(p1, true), at(p2, true), at(p3, false)]);
                        }
                    }
                    last = Some(end);
                }
                if !ring.is_empty() {
                    rings.push(PolygonRing { points: ring });
                }
            }
            pen += self.font.h_advance_unscaled(id) * scale;
        }
        if !rings.is_empty() {
            self.ops.push(Op::DrawPolygon {
                polygon: Polygon {
                    rings,
                    mode: PaintMode::Fill,
                    winding_order: WindingOrder::NonZero,
                },
            });
        }
    }
}

/// The poster as a one-page A4 PDF.
pub fn poster_pdf(content: &PosterContent<'_>) -> Result<Vec<u8>, PosterError> {
    let font = metrics()?;
    let qr = QrCode::with_error_correction_level(content.qr_text.as_bytes(), EcLevel::M)
        .map_err(|e| PosterError::Qr(e.to_string()))?;

    let mut doc = PdfDocument::new("随申码单位张贴码");
    let mut page = Page {
        font: &font,
        ops: Vec::new(),
    };
    let (page_w, page_h) = PAGE_MM;
    let text_width = Pt::from(Mm(page_w - 2.0 * MARGIN_MM)).0;

    // The band at the top.
    page.fill(0.114, 0.169, 0.267);
    page.rect_mm(0.0, page_h - BANNER_MM, page_w, BANNER_MM);
    page.fill(1.0, 1.0, 1.0);
    page.centred(BANNER, 18.0, page_h - BANNER_MM + 7.0);

    // The organisation's name: 28 pt on at most two lines, else 22 pt.
    page.fill(0.0, 0.0, 0.0);
    let (size, lines) = [28.0f32, 22.0, 18.0]
        .iter()
        .map(|&size| (size, wrap(&font, content.name, size, text_width)))
        .find(|(_, lines)| lines.len() <= 2)
        .unwrap_or_else(|| (18.0, wrap(&font, content.name, 18.0, text_width)));
    let line_mm = size * 0.3528 * 1.3;
    let mut y = page_h - BANNER_MM - 16.0;
    for line in lines.iter().take(3) {
        page.centred(line, size, y);
        y -= line_mm;
    }

    // The headline, the QR, the instructions.
    page.fill(0.769, 0.086, 0.110);
    page.centred(HEADLINE, 48.0, 220.0);
    page.fill(0.0, 0.0, 0.0);
    let modules = qr.width();
    let quiet = 4usize;
    let total = modules + 2 * quiet;
    let module_pt = Pt::from(Mm(QR_MM)).0 / total as f32;
    let qr_left = Pt::from(Mm((page_w - QR_MM) / 2.0)).0;
    let qr_bottom = Pt::from(Mm(64.0)).0;
    let colors = qr.to_colors();
    for (row, line) in colors.chunks(modules).enumerate() {
        let mut column = 0;
        while column < line.len() {
            if line.get(column) != Some(&qrcode::Color::Dark) {
                column += 1;
                continue;
            }
            let start = column;
            while line.get(column) == Some(&qrcode::Color::Dark) {
                column += 1;
            }
            let x = qr_left + (quiet + start) as f32 * module_pt;
            // Rows count from the top; the page's y axis from the bottom.
            let y = qr_bottom + (total - quiet - row - 1) as f32 * module_pt;
            // A hair of overlap so that no seam shows between neighbouring rows.
            page.rect_pt(
                Pt(x),
                Pt(y),
                Pt((column - start) as f32 * module_pt),
                Pt(module_pt + 0.05),
            );
        }
    }
    let left = Pt::from(Mm(MARGIN_MM + 5.0));
    for (i, line) in INSTRUCTIONS.iter().enumerate() {
        page.text_at(line, 14.0, left, 58.0 - 8.0 * i as f32);
    }

    // Small print.
    page.fill(0.2, 0.2, 0.2);
    let mut y = 30.0;
    for line in wrap(
        &font,
        &format!("地址：{}", content.address),
        10.0,
        text_width,
    )
    .iter()
    .take(2)
    {
        page.text_at(line, 10.0, Pt::from(Mm(MARGIN_MM)), y);
        y -= 5.0;
    }
    page.text_at(
        &format!(
            "统一社会信用代码：{}    张贴码编号：{}",
            content.uscc, content.number
        ),
        10.0,
        Pt::from(Mm(MARGIN_MM)),
        y,
    );
    page.text_at(FOOTNOTE, 10.0, Pt::from(Mm(MARGIN_MM)), y - 5.0);

    let pdf_page = PdfPage::new(Mm(page_w), Mm(page_h), page.ops);
    let mut warnings = Vec::new();
    Ok(doc
        .with_pages(vec![pdf_page])
        .save(&PdfSaveOptions::default(), &mut warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fixed_character_of_the_poster_is_in_the_font() {
        let mut all = String::from(BANNER);
        all.push_str(HEADLINE);
        all.push_str(FOOTNOTE);
        all.push_str("地址：统一社会信用代码：张贴码编号：0123456789abcdef-");
        for line in INSTRUCTIONS {
            all.push_str(line);
        }
        assert_eq!(unprintable(&all), Vec::<char>::new());
    }

    #[test]
    fn characters_outside_the_subset_are_named() {
        // 𠮷 (U+20BB7) and 堃 are outside GB2312; a line break is never printable.
        assert_eq!(unprintable("上海𠮷堃公司\n"), vec!['𠮷', '堃', '\n']);
        assert!(unprintable("上海市黄浦区示例路 1 号（东门）").is_empty());
    }

    #[test]
    fn long_names_wrap_by_width() {
        let font = metrics().unwrap();
        let name = "上海市黄浦区示例街道社区卫生服务中心第二门诊部";
        let lines = wrap(&font, name, 28.0, 510.0);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines.concat(), name);
        assert!(lines.iter().all(|l| width_pt(&font, l, 28.0) <= 510.0));
        // A CJK character is one em wide.
        assert!((width_pt(&font, "上海", 10.0) - 20.0).abs() < 0.01);
    }

    #[test]
    fn the_pdf_is_one_small_a4_page() {
        let pdf = poster_pdf(&PosterContent {
            name: "上海市示例社区文化活动中心",
            address: "上海市黄浦区示例路 100 号",
            uscc: "52310101MJ5041234X",
            qr_text: "SSMV1:TEST",
            number: "3c9107e45a20bf66-1",
        })
        .unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/MediaBox"), "a page");
        assert!(
            pdf.len() < 200_000,
            "no font is embedded: {} bytes",
            pdf.len()
        );
    }
}
