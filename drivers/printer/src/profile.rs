//! Printer profiles: what a model can do (dots per line, native QR, text encoding, Chinese mode,
//! cut), built in or configured.
//!
//! Built in: `generic-58` (384 dots, native QR, module 6), `generic-80` (576 dots, native QR,
//! module 8) and `raster-only-58` (384 dots, raster QR, module 6). A configured profile is
//! deserialised (serde) and validated on the way in; see [`Profile::validate`].

use serde::{Deserialize, Serialize};

/// The names of the built-in profiles.
pub const BUILTIN_NAMES: [&str; 3] = ["generic-58", "generic-80", "raster-only-58"];

/// The smallest QR module, in dots, that reads reliably from faded paper.
pub const MIN_QR_MODULE_DOTS: u8 = 5;
/// The largest QR module `GS ( k` accepts.
pub const MAX_QR_MODULE_DOTS: u8 = 16;
/// The accepted range of dots per line: 32 mm to 104 mm at 8 dots/mm (384 for 58 mm paper, 512
/// for 58 mm at 180 dpi wide heads, 576 for 80 mm).
pub const DOTS_PER_LINE_RANGE: std::ops::RangeInclusive<u16> = 256..=832;

/// The text encoding a printer expects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TextEncoding {
    /// GB18030 (2 bytes per common hanzi; GBK is a subset).
    #[default]
    Gb18030,
    /// GBK.
    Gbk,
    /// UTF-8 (rare).
    #[serde(alias = "utf-8")]
    Utf8,
}

/// How the paper is cut at the end of a slip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CutKind {
    /// `1D 56 00`.
    Full,
    /// `1D 56 01`.
    Partial,
    /// `1D 56 42 n`: feed `n` units, then a partial cut.
    FeedPartial(u8),
    /// No cutter: send nothing.
    None,
}

impl CutKind {
    /// The bytes of this cut.
    #[must_use]
    pub fn bytes(self) -> Vec<u8> {
        match self {
            Self::Full => vec![0x1D, 0x56, 0x00],
            Self::Partial => vec![0x1D, 0x56, 0x01],
            Self::FeedPartial(n) => vec![0x1D, 0x56, 0x42, n],
            Self::None => Vec::new(),
        }
    }
}

/// What one printer model can do.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "ProfileDef")]
pub struct Profile {
    /// The profile's name (`generic-58`, …).
    pub name: String,
    /// Printable dots per line: 384 for 58 mm paper, 576 for 80 mm.
    pub dots_per_line: u16,
    /// Whether the printer prints QR codes itself (`GS ( k`); otherwise a raster image is sent.
    pub native_qr: bool,
    /// The text encoding.
    pub encoding: TextEncoding,
    /// Whether to send the Chinese-mode command `FS &` (`1C 26`).
    pub chinese_mode: bool,
    /// The cut at the end of a slip.
    pub cut: CutKind,
    /// The QR module size in whole dots (at least [`MIN_QR_MODULE_DOTS`]).
    pub qr_module_dots: u8,
}

/// Why a profile is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProfileError {
    /// The name is empty.
    #[error("a printer profile needs a name")]
    EmptyName,
    /// Dots per line outside [`DOTS_PER_LINE_RANGE`].
    #[error(
        "profile {name}: {dots} dots per line is outside 256..=832 (384 for 58 mm, 576 for 80 mm)"
    )]
    DotsPerLine {
        /// The profile.
        name: String,
        /// The value given.
        dots: u16,
    },
    /// A QR module outside `MIN_QR_MODULE_DOTS..=MAX_QR_MODULE_DOTS`.
    #[error("profile {name}: a QR module of {dots} dots is outside 5..=16")]
    QrModule {
        /// The profile.
        name: String,
        /// The value given.
        dots: u8,
    },
}

impl Profile {
    /// A built-in profile by name, or `None`.
    #[must_use]
    pub fn builtin(name: &str) -> Option<Self> {
        let (dots_per_line, native_qr, qr_module_dots) = match name {
            "generic-58" => (384, true, 6),
            "generic-80" => (576, true, 8),
            "raster-only-58" => (384, false, 6),
            _ => return None,
        };
        Some(Self {
            name: name.to_owned(),
            dots_per_line,
            native_qr,
            encoding: TextEncoding::Gb18030,
            chinese_mode: true,
            cut: CutKind::Partial,
            qr_module_dots,
        })
    }

    /// All built-in profiles.
    #[must_use]
    pub fn builtins() -> Vec<Self> {
        BUILTIN_NAMES
            .iter()
            .filter_map(|n| Self::builtin(n))
            .collect()
    }

    /// Checks the values: a name, dots per line within [`DOTS_PER_LINE_RANGE`], a QR module of
    /// 5 to 16 dots.
    ///
    /// # Errors
    /// The first [`ProfileError`] found.
    pub fn validate(&self) -> Result<(), ProfileError> {
        if self.name.trim().is_empty() {
            return Err(ProfileError::EmptyName);
        }
        if !DOTS_PER_LINE_RANGE.contains(&self.dots_per_line) {
            return Err(ProfileError::DotsPerLine {
                name: self.name.clone(),
                dots: self.dots_per_line,
            });
        }
        if !(MIN_QR_MODULE_DOTS..=MAX_QR_MODULE_DOTS).contains(&self.qr_module_dots) {
            return Err(ProfileError::QrModule {
                name: self.name.clone(),
                dots: self.qr_module_dots,
            });
        }
        Ok(())
    }
}

/// The configured form: defaults for the optional fields, validated into a [`Profile`].
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProfileDef {
    name: String,
    dots_per_line: u16,
    native_qr: bool,
    #[serde(default)]
    encoding: TextEncoding,
    #[serde(default = "default_true")]
    chinese_mode: bool,
    #[serde(default = "default_cut")]
    cut: CutKind,
    #[serde(default = "default_module")]
    qr_module_dots: u8,
}

fn default_true() -> bool {
    true
}

fn default_cut() -> CutKind {
    CutKind::Partial
}

fn default_module() -> u8 {
    6
}

impl TryFrom<ProfileDef> for Profile {
    type Error = ProfileError;

    fn try_from(def: ProfileDef) -> Result<Self, Self::Error> {
        let profile = Self {
            name: def.name,
            dots_per_line: def.dots_per_line,
            native_qr: def.native_qr,
            encoding: def.encoding,
            chinese_mode: def.chinese_mode,
            cut: def.cut,
            qr_module_dots: def.qr_module_dots,
        };
        profile.validate()?;
        Ok(profile)
    }
}
