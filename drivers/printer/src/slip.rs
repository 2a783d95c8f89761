//! The slip: what a 离线码 slip says ([`layout`]) and the ESC/POS bytes that print it on a given
//! printer profile ([`slip_bytes`]).
//!
//! Everything here is pure: no clock, no I/O. The print time comes in with the content.
//!
//! Top to bottom, a slip carries:
//!
//! 1. the title 随申码·离线码, centred, bold, double width and height (`1D 21 11`: many Chinese
//!    printers accept only the sizes `00`, `01`, `10` and `11`);
//! 2. the QR code of the offline code, centred: the printer's own QR (`GS ( k`, model 2, ECC Q)
//!    when the profile has it, otherwise a raster image (`GS v 0`) drawn here with the `qrcode`
//!    crate at ECC Q, whole-dot modules and a 4-module quiet zone;
//! 3. left-aligned lines: the masked name, the masked ID number, the validity (有效期 … 至 …), which
//!    issue this is (第N次领取, and on a reissue 此前离线码已作废), short instructions, the kiosk id
//!    and the print time in China Standard Time (UTC+8);
//! 4. a feed of three lines and the cut the profile asks for.
//!
//! Text is encoded in the profile's encoding. A character the encoding cannot carry, or that a
//! printer's font cannot be expected to hold (control characters, private-use characters, emoji
//! and other symbols outside the two-byte GBK area except CJK ideographs), is an error rather than
//! a `?` on the paper.

use qrcode::{Color, EcLevel, QrCode};
use thiserror::Error;
use time::macros::offset;
use time::{Date, OffsetDateTime};

use crate::profile::{CutKind, MAX_QR_MODULE_DOTS, MIN_QR_MODULE_DOTS, Profile, TextEncoding};

/// The slip's title.
pub const TITLE: &str = "随申码·离线码";
/// Instruction line: how the slip is checked.
pub const INSTRUCTION_VERIFY: &str = "请用随申办核验端扫码核验";
/// Instruction line: what to do when the slip is lost.
pub const INSTRUCTION_LOSS: &str = "遗失请在一网通办挂失后补领";
/// The line printed on a reissued slip.
pub const REISSUE_NOTICE: &str = "此前离线码已作废";
/// Width of the QR quiet zone on each side, in modules.
pub const QUIET_ZONE_MODULES: usize = 4;
/// Lines fed before the cut.
pub const FEED_BEFORE_CUT: u8 = 3;

/// What a slip says. Built by the issuing flow from the code and the card; no clock is read here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlipContent {
    /// The offline code's QR text (`SSM1:` + base45).
    pub qr_text: String,
    /// The holder's name, already masked (张*三).
    pub name_masked: String,
    /// The holder's ID number, already masked (310***********0021).
    pub id_number_masked: String,
    /// First day of validity.
    pub issued_on: Date,
    /// Last day of validity.
    pub expires_on: Date,
    /// Which slip of this person this is: 1 for the first, +1 on every reissue.
    pub serial: u16,
    /// Whether this slip replaces an earlier one (which is now void).
    pub reissue: bool,
    /// The kiosk's id, printed so that a slip can be traced to a terminal.
    pub kiosk_id: String,
    /// When the slip is printed; shown in UTC+8.
    pub printed_at: OffsetDateTime,
}

/// Horizontal alignment of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    /// Left (`1B 61 00`).
    #[default]
    Left,
    /// Centre (`1B 61 01`).
    Centre,
    /// Right (`1B 61 02`).
    Right,
}

/// Character size, limited to the four sizes every Chinese printer accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextSize {
    /// Normal size (`1D 21 00`).
    #[default]
    Normal,
    /// Double height (`1D 21 01`).
    DoubleHeight,
    /// Double width (`1D 21 10`).
    DoubleWidth,
    /// Double width and height (`1D 21 11`).
    Double,
}

impl TextSize {
    /// The `n` of `GS ! n`.
    pub fn code(self) -> u8 {
        match self {
            Self::Normal => 0x00,
            Self::DoubleHeight => 0x01,
            Self::DoubleWidth => 0x10,
            Self::Double => 0x11,
        }
    }
}

impl Align {
    /// The `n` of `ESC a n`.
    pub fn code(self) -> u8 {
        match self {
            Self::Left => 0,
            Self::Centre => 1,
            Self::Right => 2,
        }
    }
}

/// One element of a slip's layout, independent of any printer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Element {
    /// The title: centred, bold, double width and height.
    Title(String),
    /// One line of text.
    Text {
        /// The line, without a line feed.
        text: String,
        /// Bold or not.
        bold: bool,
        /// Character size.
        size: TextSize,
        /// Alignment.
        align: Align,
    },
    /// A QR code (ECC Q, 4-module quiet zone), centred.
    Qr {
        /// The text the QR code carries.
        text: String,
    },
    /// Feed this many lines.
    Feed(u8),
    /// Cut the paper as the profile says.
    Cut,
}

/// Why a slip's bytes could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SlipError {
    /// The QR code with its quiet zone is wider than the printable line.
    #[error("the QR code needs {needed_dots} dots but the printer has {available}")]
    QrTooWide {
        /// module × (modules + 8).
        needed_dots: usize,
        /// The profile's dots per line.
        available: u16,
    },
    /// The text cannot be carried by a QR code (too long for any version at ECC Q).
    #[error("the QR code cannot be encoded: {0}")]
    QrEncode(String),
    /// A character the profile's encoding or a printer's font cannot carry.
    #[error("character {character:?} (U+{:04X}) cannot be printed", u32::from(*character))]
    Encoding {
        /// The character.
        character: char,
    },
    /// The profile's QR module size is outside the range a slip may use.
    #[error(
        "QR module of {module} dots is not usable (from {MIN_QR_MODULE_DOTS} to {MAX_QR_MODULE_DOTS})"
    )]
    InvalidModule {
        /// The module size found, in dots.
        module: u8,
    },
}

/// The slip's layout, top to bottom.
pub fn layout(content: &SlipContent) -> Vec<Element> {
    let line = |text: String| Element::Text {
        text,
        bold: false,
        size: TextSize::Normal,
        align: Align::Left,
    };
    let mut out = vec![
        Element::Title(TITLE.to_owned()),
        Element::Feed(1),
        Element::Qr {
            text: content.qr_text.clone(),
        },
        Element::Feed(1),
        line(format!("姓名：{}", content.name_masked)),
        line(format!("证件号：{}", content.id_number_masked)),
        line(format!("有效期 {}", chinese_date(content.issued_on))),
        line(format!("    至 {}", chinese_date(content.expires_on))),
        line(format!("第{}次领取", content.serial)),
    ];
    if content.reissue {
        out.push(Element::Text {
            text: REISSUE_NOTICE.to_owned(),
            bold: true,
            size: TextSize::Normal,
            align: Align::Left,
        });
    }
    out.extend([
        line(INSTRUCTION_VERIFY.to_owned()),
        line(INSTRUCTION_LOSS.to_owned()),
        line(format!("终端：{}", content.kiosk_id)),
        line(format!("打印时间：{}", print_time(content.printed_at))),
        Element::Feed(FEED_BEFORE_CUT),
        Element::Cut,
    ]);
    out
}

/// The ESC/POS bytes of the slip for `profile`: [`layout`], then each element in the profile's
/// terms (native or raster QR, text encoding, Chinese mode, cut).
pub fn slip_bytes(content: &SlipContent, profile: &Profile) -> Result<Vec<u8>, SlipError> {
    let module = profile.qr_module_dots;
    if !(MIN_QR_MODULE_DOTS..=MAX_QR_MODULE_DOTS).contains(&module) {
        return Err(SlipError::InvalidModule { module });
    }
    let mut w = Writer {
        out: Vec::with_capacity(if profile.native_qr { 1024 } else { 16 * 1024 }),
        align: Align::Left,
        bold: false,
        size: TextSize::Normal,
    };
    w.out.extend_from_slice(&[0x1B, 0x40]);
    if profile.chinese_mode {
        w.out.extend_from_slice(&[0x1C, 0x26]);
    }
    for element in layout(content) {
        match element {
            Element::Title(text) => {
                w.line(&text, true, TextSize::Double, Align::Centre, profile)?
            }
            Element::Text {
                text,
                bold,
                size,
                align,
            } => w.line(&text, bold, size, align, profile)?,
            Element::Qr { text } => w.qr(&text, profile)?,
            Element::Feed(n) => w.out.extend_from_slice(&[0x1B, 0x64, n]),
            Element::Cut => match profile.cut {
                CutKind::Full => w.out.extend_from_slice(&[0x1D, 0x56, 0x00]),
                CutKind::Partial => w.out.extend_from_slice(&[0x1D, 0x56, 0x01]),
                CutKind::FeedPartial(n) => w.out.extend_from_slice(&[0x1D, 0x56, 0x42, n]),
                CutKind::None => {}
            },
        }
    }
    Ok(w.out)
}

/// `2026年03月01日`.
fn chinese_date(date: Date) -> String {
    format!(
        "{:04}年{:02}月{:02}日",
        date.year(),
        u8::from(date.month()),
        date.day()
    )
}

/// `2026-03-01 10:15` in UTC+8.
fn print_time(at: OffsetDateTime) -> String {
    let at = at.to_offset(offset!(+8));
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// The byte stream being built, with the printer's current text state so that only changes are
/// sent.
struct Writer {
    out: Vec<u8>,
    align: Align,
    bold: bool,
    size: TextSize,
}

impl Writer {
    fn set_align(&mut self, align: Align) {
        if self.align != align {
            self.out.extend_from_slice(&[0x1B, 0x61, align.code()]);
            self.align = align;
        }
    }

    fn set_bold(&mut self, bold: bool) {
        if self.bold != bold {
            self.out.extend_from_slice(&[0x1B, 0x45, u8::from(bold)]);
            self.bold = bold;
        }
    }

    fn set_size(&mut self, size: TextSize) {
        if self.size != size {
            self.out.extend_from_slice(&[0x1D, 0x21, size.code()]);
            self.size = size;
        }
    }

    fn line(
        &mut self,
        text: &str,
        bold: bool,
        size: TextSize,
        align: Align,
        profile: &Profile,
    ) -> Result<(), SlipError> {
        let encoded = encode(text, &profile.encoding)?;
        self.set_align(align);
        self.set_bold(bold);
        self.set_size(size);
        self.out.extend_from_slice(&encoded);
        self.out.push(0x0A);
        Ok(())
    }

    fn qr(&mut self, text: &str, profile: &Profile) -> Result<(), SlipError> {
        let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::Q)
            .map_err(|e| SlipError::QrEncode(e.to_string()))?;
        let modules = code.width();
        let module = usize::from(profile.qr_module_dots);
        let needed_dots = module.saturating_mul(modules + 2 * QUIET_ZONE_MODULES);
        if needed_dots > usize::from(profile.dots_per_line) {
            return Err(SlipError::QrTooWide {
                needed_dots,
                available: profile.dots_per_line,
            });
        }
        self.set_bold(false);
        self.set_size(TextSize::Normal);
        if profile.native_qr {
            self.set_align(Align::Centre);
            self.native_qr(text, profile.qr_module_dots)
        } else {
            self.set_align(Align::Left);
            let left = (usize::from(profile.dots_per_line) - needed_dots) / 2;
            self.raster_qr(&code, module, left)
        }
    }

    /// `GS ( k`: model 2, module size, ECC Q, store, print.
    fn native_qr(&mut self, text: &str, module: u8) -> Result<(), SlipError> {
        let stored = u16::try_from(text.len() + 3)
            .map_err(|_| SlipError::QrEncode("text too long for GS ( k".to_owned()))?;
        let [p_l, p_h] = stored.to_le_bytes();
        self.out
            .extend_from_slice(&[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
        self.out
            .extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, module]);
        self.out
            .extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x32]);
        self.out
            .extend_from_slice(&[0x1D, 0x28, 0x6B, p_l, p_h, 0x31, 0x50, 0x30]);
        self.out.extend_from_slice(text.as_bytes());
        self.out
            .extend_from_slice(&[0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
        self.out.push(0x0A);
        Ok(())
    }

    /// `GS v 0`: the QR with its quiet zone, each module `module` × `module` dots, shifted right
    /// by `left` dots so that it is centred on the line. Rows are only as wide as needed.
    fn raster_qr(&mut self, code: &QrCode, module: usize, left: usize) -> Result<(), SlipError> {
        let modules = code.width();
        let colors = code.to_colors();
        let side = module * (modules + 2 * QUIET_ZONE_MODULES);
        let row_bytes = (left + side).div_ceil(8);
        let too_big = || SlipError::QrTooWide {
            needed_dots: left + side,
            available: u16::MAX,
        };
        let [x_l, x_h] = u16::try_from(row_bytes)
            .map_err(|_| too_big())?
            .to_le_bytes();
        let [y_l, y_h] = u16::try_from(side).map_err(|_| too_big())?.to_le_bytes();
        self.out
            .extend_from_slice(&[0x1D, 0x76, 0x30, 0x00, x_l, x_h, y_l, y_h]);
        let mut row = vec![0u8; row_bytes];
        let quiet = QUIET_ZONE_MODULES * module;
        for y in 0..side {
            row.fill(0);
            if let Some(my) = (y / module).checked_sub(QUIET_ZONE_MODULES)
                && my < modules
            {
                for mx in 0..modules {
                    if colors.get(my * modules + mx) != Some(&Color::Dark) {
                        continue;
                    }
                    let x0 = left + quiet + mx * module;
                    for x in x0..x0 + module {
                        if let Some(byte) = row.get_mut(x / 8) {
                            *byte |= 0x80 >> (x % 8);
                        }
                    }
                }
            }
            self.out.extend_from_slice(&row);
        }
        Ok(())
    }
}

/// Whether `c` is a CJK unified ideograph outside the two-byte GBK area (extension A, or
/// extensions B and later): the rare characters of some names, which GB18030 carries in four
/// bytes.
fn is_rare_ideograph(c: char) -> bool {
    matches!(u32::from(c), 0x3400..=0x4DBF | 0x20000..=0x323AF)
}

/// `text` in the profile's encoding, refusing any character that cannot be printed.
fn encode(text: &str, encoding: &TextEncoding) -> Result<Vec<u8>, SlipError> {
    let mut out = Vec::with_capacity(text.len() * 2);
    let mut buf = [0u8; 4];
    for c in text.chars() {
        let cp = u32::from(c);
        let refused = SlipError::Encoding { character: c };
        if c.is_control() || (0xE000..=0xF8FF).contains(&cp) {
            return Err(refused);
        }
        let utf8 = c.encode_utf8(&mut buf);
        match encoding {
            TextEncoding::Utf8 => {
                if cp > 0xFFFF && !is_rare_ideograph(c) {
                    return Err(refused);
                }
                out.extend_from_slice(utf8.as_bytes());
            }
            TextEncoding::Gb18030 | TextEncoding::Gbk => {
                let target = if matches!(encoding, TextEncoding::Gbk) {
                    encoding_rs::GBK
                } else {
                    encoding_rs::GB18030
                };
                let (bytes, _, had_errors) = target.encode(utf8);
                if had_errors || (bytes.len() > 2 && !is_rare_ideograph(c)) {
                    return Err(refused);
                }
                out.extend_from_slice(&bytes);
            }
        }
    }
    Ok(out)
}
