//! A renderer for the ESC/POS this crate emits: it interprets the byte stream the way a 203 dpi
//! thermal printer would and draws the result as a 1-bit bitmap at the printer's dot resolution.
//!
//! Understood commands:
//!
//! | bytes | meaning |
//! |---|---|
//! | `1B 40` | initialise (discards the pending line, resets size, bold, alignment, QR state) |
//! | `1C 26` / `1C 2E` | Chinese character mode on / off (the printer starts in it) |
//! | `1D 21 n` | character size, width and height multipliers 1..8 |
//! | `1B 61 n` | alignment (0/48 left, 1/49 centre, 2/50 right), taken at the start of a line |
//! | `1B 45 n` | bold on / off (drawn as a one-dot smear) |
//! | `1B 21 n` | print mode (bold, double height, double width bits) |
//! | `1B 64 n` | print the pending line and feed `n` lines |
//! | `1B 32`, `1B 33 n` | default / set line spacing |
//! | `1B 4D n`, `1B 74 n`, `1D 61 n` | font, code table, automatic status back: no visible effect |
//! | `0A` / `0D` | line feed / carriage return (ignored) |
//! | `00`, `18` | NUL and CAN: ignored |
//! | text | GB18030 in Chinese mode (ASCII half width, everything else full width), wrapped at the line width |
//! | `1D 76 30 m xL xH yL yH d…` | raster image (`m` 0..3 doubles width and/or height) |
//! | `1D 28 6B … 31 41/43/45/50/51/52` | native QR: model, module size, ECC level, store, print, size query |
//! | `1D 56 m [n]` | cut (drawn as a dashed line) |
//! | `10 04 n` | real-time status request: ignored |
//!
//! Anything else is a [`RenderError`]; no input makes the renderer panic.

use std::collections::HashMap;

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont as _, point};
use qrcode::{Color, EcLevel, QrCode};

/// The bundled CJK font (a subset of Noto Sans CJK SC Regular, SIL OFL 1.1; see `assets/fonts/`).
/// A `static`, so that a binary holds one copy however many crates use it (the kiosk's screens
/// too).
pub static FONT_BYTES: &[u8] = include_bytes!("../../../assets/fonts/NotoSansSC-Regular-cjk.otf");

/// Height in dots of one line of text at size 1 (the printer's 24-dot font).
pub const LINE_DOTS: u32 = 24;

/// Width in dots of a half-width (ASCII) character at size 1; full-width characters take twice this.
pub const HALF_WIDTH_DOTS: u32 = 12;

/// The tallest bitmap the renderer will produce, in dots (about 4 m of paper).
pub const MAX_HEIGHT_DOTS: u32 = 32_768;

/// The widest print head the renderer accepts, in dots.
pub const MAX_DOTS_PER_LINE: u16 = 4_096;

/// Ink coverage (0..=255) from which a dot of a glyph is printed black.
const INK_THRESHOLD: f32 = 0.45;

/// The white margin, in dots, drawn above and below a cut mark.
const CUT_MARGIN_DOTS: u32 = 8;

/// Why an ESC/POS stream could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The line width is zero or larger than [`MAX_DOTS_PER_LINE`].
    #[error("unsupported line width of {0} dots")]
    LineWidth(u16),
    /// The stream ends in the middle of a command.
    #[error("the stream ends inside the command at byte {offset}")]
    Truncated {
        /// Where the command starts.
        offset: usize,
    },
    /// A command (or control byte) this renderer does not know.
    #[error("unknown command {bytes:02X?} at byte {offset}")]
    UnknownCommand {
        /// Where the command starts.
        offset: usize,
        /// Its first bytes.
        bytes: Vec<u8>,
    },
    /// A known command with a parameter out of its range.
    #[error("invalid parameter {value:#04X} for {command} at byte {offset}")]
    InvalidParameter {
        /// Where the command starts.
        offset: usize,
        /// The command's name.
        command: &'static str,
        /// The offending value.
        value: u32,
    },
    /// A raster image or QR code wider than the line.
    #[error("{what} is {width} dots wide, the line only {dots_per_line}")]
    TooWide {
        /// What was being drawn.
        what: &'static str,
        /// Its width in dots.
        width: u32,
        /// The line width in dots.
        dots_per_line: u16,
    },
    /// The slip would be taller than [`MAX_HEIGHT_DOTS`].
    #[error("the output would be taller than {MAX_HEIGHT_DOTS} dots")]
    TooTall,
    /// A QR print command with no stored data.
    #[error("QR print at byte {offset} with no stored data")]
    QrNoData {
        /// Where the print command starts.
        offset: usize,
    },
    /// The stored QR data cannot be encoded (e.g. too long for the ECC level).
    #[error("QR data cannot be encoded: {0}")]
    QrEncode(String),
    /// The bundled font could not be read.
    #[error("the bundled font cannot be read")]
    Font,
    /// PNG encoding failed.
    #[error("PNG encoding failed: {0}")]
    Png(String),
}

/// A 1-bit image at the printer's dot resolution: `width` is the line width in dots, `height` the
/// length of paper used in dots; `pixels` is row-major, `true` = black (a burnt dot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    /// Width in dots.
    pub width: u32,
    /// Height in dots.
    pub height: u32,
    /// Row-major dots, `true` = black; `width * height` of them.
    pub pixels: Vec<bool>,
}

impl Bitmap {
    /// A white bitmap.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            pixels: vec![false; (width as usize).saturating_mul(height as usize)],
        }
    }

    /// Whether the dot at (`x`, `y`) is black; `false` outside the bitmap.
    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        self.pixels
            .get(y as usize * self.width as usize + x as usize)
            .copied()
            .unwrap_or(false)
    }

    /// Number of black dots.
    pub fn black_dots(&self) -> usize {
        self.pixels.iter().filter(|&&p| p).count()
    }

    /// Whether no dot is black.
    pub fn is_blank(&self) -> bool {
        !self.pixels.iter().any(|&p| p)
    }

    /// The bitmap as 8-bit grey levels (0 black, 255 white), row-major.
    pub fn to_luma8(&self) -> Vec<u8> {
        self.pixels
            .iter()
            .map(|&p| if p { 0 } else { 255 })
            .collect()
    }

    /// The bitmap as a 1-bit greyscale PNG (one pixel per dot).
    pub fn to_png(&self) -> Result<Vec<u8>, RenderError> {
        let width = self.width.max(1);
        let height = self.height.max(1);
        let row_bytes = (width as usize).div_ceil(8);
        let mut data = vec![0xFFu8; row_bytes * height as usize];
        for y in 0..self.height {
            for x in 0..self.width {
                if self.get(x, y)
                    && let Some(byte) = data.get_mut(y as usize * row_bytes + x as usize / 8)
                {
                    *byte &= !(0x80u8 >> (x % 8));
                }
            }
        }
        let mut out = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut out, width, height);
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::One);
            let mut writer = encoder
                .write_header()
                .map_err(|e| RenderError::Png(e.to_string()))?;
            writer
                .write_image_data(&data)
                .map_err(|e| RenderError::Png(e.to_string()))?;
            writer
                .finish()
                .map_err(|e| RenderError::Png(e.to_string()))?;
        }
        Ok(out)
    }
}

/// Renders an ESC/POS stream for a printer of `dots_per_line` dots (384 for 58 mm paper, 576 for
/// 80 mm) to a bitmap `dots_per_line` wide. Text still pending at the end of the stream is printed.
pub fn render(bytes: &[u8], dots_per_line: u16) -> Result<Bitmap, RenderError> {
    if dots_per_line == 0 || dots_per_line > MAX_DOTS_PER_LINE {
        return Err(RenderError::LineWidth(dots_per_line));
    }
    let font = FontRef::try_from_slice(FONT_BYTES).map_err(|_| RenderError::Font)?;
    let mut r = Renderer::new(dots_per_line, font);
    r.run(bytes)?;
    r.flush_line()?;
    Ok(r.finish())
}

/// [`render`], then [`Bitmap::to_png`].
pub fn render_png(bytes: &[u8], dots_per_line: u16) -> Result<Vec<u8>, RenderError> {
    render(bytes, dots_per_line)?.to_png()
}

/// Horizontal alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Align {
    Left,
    Centre,
    Right,
}

/// One character waiting on the current line.
#[derive(Debug, Clone, Copy)]
struct Cell {
    ch: char,
    x: u32,
    cell_width: u32,
    width_mult: u32,
    height_mult: u32,
    bold: bool,
}

/// A glyph rasterised at size 1 into its cell (`w` x [`LINE_DOTS`]).
#[derive(Debug, Clone)]
struct Glyph {
    w: u32,
    dots: Vec<bool>,
}

/// Native QR state.
#[derive(Debug, Clone)]
struct QrState {
    module: u32,
    ec: EcLevel,
    data: Vec<u8>,
}

impl Default for QrState {
    fn default() -> Self {
        Self {
            module: 3,
            ec: EcLevel::L,
            data: Vec::new(),
        }
    }
}

struct Renderer<'f> {
    width: u32,
    dots_per_line: u16,
    rows: Vec<bool>,
    height: u32,
    y: u32,
    align: Align,
    line_align: Align,
    width_mult: u32,
    height_mult: u32,
    bold: bool,
    chinese: bool,
    line_spacing: u32,
    line: Vec<Cell>,
    line_x: u32,
    qr: QrState,
    font: FontRef<'f>,
    glyphs: HashMap<char, Glyph>,
}

fn truncated(offset: usize) -> RenderError {
    RenderError::Truncated { offset }
}

fn unknown(bytes: &[u8], offset: usize, len: usize) -> RenderError {
    RenderError::UnknownCommand {
        offset,
        bytes: bytes.iter().skip(offset).take(len).copied().collect(),
    }
}

/// Whether `b` can be part of a text run (printable ASCII or a GB18030 multi-byte byte).
fn is_text_byte(b: u8) -> bool {
    b >= 0x20 && b != 0x7F
}

impl<'f> Renderer<'f> {
    fn new(dots_per_line: u16, font: FontRef<'f>) -> Self {
        Self {
            width: u32::from(dots_per_line),
            dots_per_line,
            rows: Vec::new(),
            height: 0,
            y: 0,
            align: Align::Left,
            line_align: Align::Left,
            width_mult: 1,
            height_mult: 1,
            bold: false,
            chinese: true,
            line_spacing: LINE_DOTS,
            line: Vec::new(),
            line_x: 0,
            qr: QrState::default(),
            font,
            glyphs: HashMap::new(),
        }
    }

    fn finish(self) -> Bitmap {
        let height = self.y.max(self.height).max(1);
        let mut pixels = self.rows;
        pixels.resize(self.width as usize * height as usize, false);
        Bitmap {
            width: self.width,
            height,
            pixels,
        }
    }

    fn byte(bytes: &[u8], at: usize, start: usize) -> Result<u8, RenderError> {
        bytes.get(at).copied().ok_or_else(|| truncated(start))
    }

    fn run(&mut self, bytes: &[u8]) -> Result<(), RenderError> {
        let mut i = 0usize;
        while let Some(&b) = bytes.get(i) {
            let start = i;
            match b {
                0x0A => {
                    self.newline()?;
                    i += 1;
                }
                0x0D | 0x00 | 0x18 => i += 1,
                0x10 => {
                    let sub = Self::byte(bytes, i + 1, start)?;
                    if sub != 0x04 {
                        return Err(unknown(bytes, start, 2));
                    }
                    Self::byte(bytes, i + 2, start)?;
                    i += 3;
                }
                0x1B => i = self.esc(bytes, start)?,
                0x1C => {
                    match Self::byte(bytes, i + 1, start)? {
                        0x26 => self.chinese = true,
                        0x2E => self.chinese = false,
                        _ => return Err(unknown(bytes, start, 2)),
                    }
                    i += 2;
                }
                0x1D => i = self.gs(bytes, start)?,
                b if is_text_byte(b) => {
                    let end = bytes
                        .iter()
                        .skip(i)
                        .position(|&c| !is_text_byte(c))
                        .map_or(bytes.len(), |n| i + n);
                    let run = bytes.get(i..end).unwrap_or_default();
                    self.text(run)?;
                    i = end;
                }
                _ => return Err(unknown(bytes, start, 1)),
            }
        }
        Ok(())
    }

    fn esc(&mut self, bytes: &[u8], start: usize) -> Result<usize, RenderError> {
        let cmd = Self::byte(bytes, start + 1, start)?;
        match cmd {
            0x40 => {
                self.line.clear();
                self.line_x = 0;
                self.align = Align::Left;
                self.width_mult = 1;
                self.height_mult = 1;
                self.bold = false;
                self.chinese = true;
                self.line_spacing = LINE_DOTS;
                self.qr = QrState::default();
                Ok(start + 2)
            }
            0x32 => {
                self.line_spacing = LINE_DOTS;
                Ok(start + 2)
            }
            0x33 => {
                self.line_spacing = u32::from(Self::byte(bytes, start + 2, start)?);
                Ok(start + 3)
            }
            0x61 => {
                let n = Self::byte(bytes, start + 2, start)?;
                self.align = match n {
                    0 | 48 => Align::Left,
                    1 | 49 => Align::Centre,
                    2 | 50 => Align::Right,
                    _ => {
                        return Err(RenderError::InvalidParameter {
                            offset: start,
                            command: "ESC a",
                            value: u32::from(n),
                        });
                    }
                };
                if self.line.is_empty() {
                    self.line_align = self.align;
                }
                Ok(start + 3)
            }
            0x45 => {
                self.bold = Self::byte(bytes, start + 2, start)? & 1 == 1;
                Ok(start + 3)
            }
            0x21 => {
                let n = Self::byte(bytes, start + 2, start)?;
                self.bold = n & 0x08 != 0;
                self.height_mult = if n & 0x10 != 0 { 2 } else { 1 };
                self.width_mult = if n & 0x20 != 0 { 2 } else { 1 };
                Ok(start + 3)
            }
            0x64 => {
                let n = u32::from(Self::byte(bytes, start + 2, start)?);
                self.flush_line()?;
                self.advance(n * self.line_spacing.max(1))?;
                Ok(start + 3)
            }
            0x4D | 0x74 => {
                Self::byte(bytes, start + 2, start)?;
                Ok(start + 3)
            }
            _ => Err(unknown(bytes, start, 2)),
        }
    }

    fn gs(&mut self, bytes: &[u8], start: usize) -> Result<usize, RenderError> {
        let cmd = Self::byte(bytes, start + 1, start)?;
        match cmd {
            0x21 => {
                let n = Self::byte(bytes, start + 2, start)?;
                let w = u32::from(n >> 4) + 1;
                let h = u32::from(n & 0x0F) + 1;
                if w > 8 || h > 8 {
                    return Err(RenderError::InvalidParameter {
                        offset: start,
                        command: "GS !",
                        value: u32::from(n),
                    });
                }
                self.width_mult = w;
                self.height_mult = h;
                Ok(start + 3)
            }
            0x61 => {
                Self::byte(bytes, start + 2, start)?;
                Ok(start + 3)
            }
            0x56 => {
                let m = Self::byte(bytes, start + 2, start)?;
                let (feed, next) = match m {
                    0 | 1 | 48 | 49 => (0, start + 3),
                    65 | 66 => (u32::from(Self::byte(bytes, start + 3, start)?), start + 4),
                    _ => {
                        return Err(RenderError::InvalidParameter {
                            offset: start,
                            command: "GS V",
                            value: u32::from(m),
                        });
                    }
                };
                self.flush_line()?;
                self.advance(feed)?;
                self.cut()?;
                Ok(next)
            }
            0x76 => self.raster(bytes, start),
            0x28 => {
                let fn_byte = Self::byte(bytes, start + 2, start)?;
                if fn_byte != 0x6B {
                    return Err(unknown(bytes, start, 3));
                }
                self.qr_command(bytes, start)
            }
            _ => Err(unknown(bytes, start, 2)),
        }
    }

    fn raster(&mut self, bytes: &[u8], start: usize) -> Result<usize, RenderError> {
        if Self::byte(bytes, start + 2, start)? != 0x30 {
            return Err(unknown(bytes, start, 3));
        }
        let m = Self::byte(bytes, start + 3, start)?;
        let (sx, sy) = match m {
            0 | 48 => (1u32, 1u32),
            1 | 49 => (2, 1),
            2 | 50 => (1, 2),
            3 | 51 => (2, 2),
            _ => {
                return Err(RenderError::InvalidParameter {
                    offset: start,
                    command: "GS v 0",
                    value: u32::from(m),
                });
            }
        };
        let x_bytes = u32::from(Self::byte(bytes, start + 4, start)?)
            | u32::from(Self::byte(bytes, start + 5, start)?) << 8;
        let rows = u32::from(Self::byte(bytes, start + 6, start)?)
            | u32::from(Self::byte(bytes, start + 7, start)?) << 8;
        let data_start = start + 8;
        let len = x_bytes as usize * rows as usize;
        let data = bytes
            .get(data_start..data_start + len)
            .ok_or_else(|| truncated(start))?;
        let width = x_bytes * 8 * sx;
        if width > self.width {
            return Err(RenderError::TooWide {
                what: "raster image",
                width,
                dots_per_line: self.dots_per_line,
            });
        }
        self.flush_line()?;
        let x0 = self.aligned_x(width);
        let y0 = self.y;
        self.ensure_height(y0 + rows * sy)?;
        for (row, line) in data.chunks(x_bytes.max(1) as usize).enumerate() {
            for (col, &byte) in line.iter().enumerate() {
                for bit in 0..8u32 {
                    if byte & (0x80 >> bit) == 0 {
                        continue;
                    }
                    let x = x0 + (col as u32 * 8 + bit) * sx;
                    let y = y0 + row as u32 * sy;
                    self.fill(x, y, sx, sy);
                }
            }
        }
        self.y = y0 + rows * sy;
        Ok(data_start + len)
    }

    fn qr_command(&mut self, bytes: &[u8], start: usize) -> Result<usize, RenderError> {
        let p_l = Self::byte(bytes, start + 3, start)?;
        let p_h = Self::byte(bytes, start + 4, start)?;
        let len = usize::from(p_l) | usize::from(p_h) << 8;
        let params = bytes
            .get(start + 5..start + 5 + len)
            .ok_or_else(|| truncated(start))?;
        let next = start + 5 + len;
        let (cn, f, rest) = match params {
            [cn, f, rest @ ..] => (*cn, *f, rest),
            _ => return Err(unknown(bytes, start, 5 + len.min(2))),
        };
        if cn != 0x31 {
            return Err(unknown(bytes, start, 7));
        }
        let invalid = |value: u32| RenderError::InvalidParameter {
            offset: start,
            command: "GS ( k",
            value,
        };
        match (f, rest) {
            // Model: 49 model 1, 50 model 2, 51 micro QR; drawn as model 2 regardless.
            (0x41, [n1, ..]) if (49..=51).contains(n1) => {}
            (0x41, [n1, ..]) => return Err(invalid(u32::from(*n1))),
            (0x43, [n]) if (1..=16).contains(n) => self.qr.module = u32::from(*n),
            (0x45, [n]) => {
                self.qr.ec = match n {
                    48 => EcLevel::L,
                    49 => EcLevel::M,
                    50 => EcLevel::Q,
                    51 => EcLevel::H,
                    _ => return Err(invalid(u32::from(*n))),
                }
            }
            (0x50, [0x30, data @ ..]) => self.qr.data = data.to_vec(),
            (0x51, [0x30]) => self.print_qr(start)?,
            (0x52, [0x30]) => {}
            (_, [n, ..]) => return Err(invalid(u32::from(*n))),
            _ => return Err(unknown(bytes, start, 7)),
        }
        Ok(next)
    }

    fn print_qr(&mut self, start: usize) -> Result<(), RenderError> {
        if self.qr.data.is_empty() {
            return Err(RenderError::QrNoData { offset: start });
        }
        let code = QrCode::with_error_correction_level(&self.qr.data, self.qr.ec)
            .map_err(|e| RenderError::QrEncode(e.to_string()))?;
        let modules = code.width() as u32;
        let module = self.qr.module;
        let side = (modules + 8) * module;
        if side > self.width {
            return Err(RenderError::TooWide {
                what: "QR code",
                width: side,
                dots_per_line: self.dots_per_line,
            });
        }
        self.flush_line()?;
        let x0 = self.aligned_x(side) + 4 * module;
        let y0 = self.y + 4 * module;
        self.ensure_height(self.y + side)?;
        for (i, color) in code.to_colors().iter().enumerate() {
            if *color == Color::Dark {
                let (mx, my) = (i as u32 % modules, i as u32 / modules);
                self.fill(x0 + mx * module, y0 + my * module, module, module);
            }
        }
        self.y += side;
        Ok(())
    }

    fn cut(&mut self) -> Result<(), RenderError> {
        let y = self.y + CUT_MARGIN_DOTS;
        self.ensure_height(y + 2 + CUT_MARGIN_DOTS)?;
        let mut x = 0;
        while x < self.width {
            let w = 8.min(self.width - x);
            self.fill(x, y, w, 2);
            x += 12;
        }
        self.y = y + 2 + CUT_MARGIN_DOTS;
        Ok(())
    }

    fn aligned_x(&self, width: u32) -> u32 {
        let free = self.width.saturating_sub(width);
        match self.align {
            Align::Left => 0,
            Align::Centre => free / 2,
            Align::Right => free,
        }
    }

    fn advance(&mut self, dots: u32) -> Result<(), RenderError> {
        let y = self.y.saturating_add(dots);
        self.ensure_height(y)?;
        self.y = y;
        Ok(())
    }

    fn ensure_height(&mut self, height: u32) -> Result<(), RenderError> {
        if height > MAX_HEIGHT_DOTS {
            return Err(RenderError::TooTall);
        }
        if height > self.height {
            self.rows
                .resize(self.width as usize * height as usize, false);
            self.height = height;
        }
        Ok(())
    }

    fn fill(&mut self, x: u32, y: u32, w: u32, h: u32) {
        for yy in y..y.saturating_add(h).min(self.height) {
            let row = yy as usize * self.width as usize;
            let from = row + x.min(self.width) as usize;
            let to = row + x.saturating_add(w).min(self.width) as usize;
            if let Some(dots) = self.rows.get_mut(from..to) {
                dots.fill(true);
            }
        }
    }

    fn text(&mut self, run: &[u8]) -> Result<(), RenderError> {
        let decoded: String = if self.chinese {
            encoding_rs::GB18030
                .decode_without_bom_handling(run)
                .0
                .into_owned()
        } else {
            run.iter()
                .map(|&b| if b < 0x80 { char::from(b) } else { '?' })
                .collect()
        };
        for ch in decoded.chars() {
            let half = u32::from(ch) < 0x80;
            let cell_width = if half {
                HALF_WIDTH_DOTS
            } else {
                2 * HALF_WIDTH_DOTS
            } * self.width_mult;
            if self.line_x + cell_width > self.width {
                if self.line.is_empty() {
                    // A character wider than the whole line: print nothing for it.
                    continue;
                }
                self.flush_line()?;
            }
            if self.line.is_empty() {
                self.line_align = self.align;
            }
            self.line.push(Cell {
                ch,
                x: self.line_x,
                cell_width,
                width_mult: self.width_mult,
                height_mult: self.height_mult,
                bold: self.bold,
            });
            self.line_x += cell_width;
        }
        Ok(())
    }

    fn newline(&mut self) -> Result<(), RenderError> {
        if self.line.is_empty() {
            let h = (LINE_DOTS * self.height_mult).max(self.line_spacing);
            self.advance(h)
        } else {
            self.flush_line()
        }
    }

    fn flush_line(&mut self) -> Result<(), RenderError> {
        if self.line.is_empty() {
            return Ok(());
        }
        let cells = std::mem::take(&mut self.line);
        let used = self.line_x;
        self.line_x = 0;
        let line_height = cells
            .iter()
            .map(|c| LINE_DOTS * c.height_mult)
            .max()
            .unwrap_or(LINE_DOTS);
        let free = self.width.saturating_sub(used);
        let x_off = match self.line_align {
            Align::Left => 0,
            Align::Centre => free / 2,
            Align::Right => free,
        };
        let y0 = self.y;
        self.ensure_height(y0 + line_height)?;
        for cell in cells {
            let glyph = self.glyph(cell.ch, cell.cell_width / cell.width_mult);
            let cell_h = LINE_DOTS * cell.height_mult;
            // Characters of a smaller size sit on the line's baseline.
            let top = y0 + line_height - cell_h;
            let mut dots = Vec::new();
            for gy in 0..LINE_DOTS {
                for gx in 0..glyph.w {
                    if glyph
                        .dots
                        .get((gy * glyph.w + gx) as usize)
                        .copied()
                        .unwrap_or(false)
                    {
                        dots.push((gx, gy));
                    }
                }
            }
            let smear = u32::from(cell.bold);
            for (gx, gy) in dots {
                self.fill(
                    x_off + cell.x + gx * cell.width_mult,
                    top + gy * cell.height_mult,
                    cell.width_mult + smear,
                    cell.height_mult,
                );
            }
        }
        self.y = y0 + line_height.max(self.line_spacing);
        self.ensure_height(self.y)?;
        Ok(())
    }

    /// The glyph for `ch` in a cell `w` dots wide and [`LINE_DOTS`] high, at size 1.
    fn glyph(&mut self, ch: char, w: u32) -> Glyph {
        if let Some(g) = self.glyphs.get(&ch) {
            return g.clone();
        }
        let g = rasterise(&self.font, ch, w);
        self.glyphs.insert(ch, g.clone());
        g
    }
}

/// Rasterises `ch` into a `w` x [`LINE_DOTS`] cell: an em of 24 dots for full-width characters,
/// centred horizontally, baseline at the font's ascent.
fn rasterise(font: &FontRef<'_>, ch: char, w: u32) -> Glyph {
    let mut dots = vec![false; (w * LINE_DOTS) as usize];
    let px = LINE_DOTS as f32;
    let scaled = font.as_scaled(PxScale::from(px));
    let id = font.glyph_id(ch);
    let advance = scaled.h_advance(id);
    let ascent = scaled.ascent();
    // Fit the em box (ascent + descent) into the 24-dot line.
    let em = ascent - scaled.descent();
    let k = if em > 0.0 { px / em } else { 1.0 };
    let scale = PxScale::from(px * k);
    let advance = advance * k;
    let left = ((w as f32 - advance) / 2.0).max(0.0);
    let glyph = id.with_scale_and_position(scale, point(left, ascent * k));
    if let Some(outline) = font.outline_glyph(glyph) {
        let bounds = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            if coverage < INK_THRESHOLD {
                return;
            }
            let x = bounds.min.x as i64 + i64::from(gx);
            let y = bounds.min.y as i64 + i64::from(gy);
            if x >= 0
                && y >= 0
                && x < i64::from(w)
                && y < i64::from(LINE_DOTS)
                && let Some(d) = dots.get_mut((y * i64::from(w) + x) as usize)
            {
                *d = true;
            }
        });
    }
    Glyph { w, dots }
}
