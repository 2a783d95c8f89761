//! Fictional demo citizens for `central serve --demo`, one or more for every journey, and the
//! generated portraits they carry.
//!
//! Everything here is made up: the names are common-looking but belong to nobody in particular,
//! the ID numbers are built for the demo (valid by the GB 11643 check, with Shanghai region
//! codes), and the photos are drawn silhouettes, never real faces. The seniors were born between
//! 1930 and 1960, so they are 60 or over on any day from 2026 to 2040; the one younger person was
//! born in 1990.
//!
//! This module is data and drawing only: the codes that some people should hold are described by
//! [`DemoCode`] and created by the caller through the normal issuing path.
//!
//! The demo also has one hall staff member for maintenance mode ([`DEMO_STAFF_ID_NUMBER`],
//! [`DEMO_STAFF_NAME`], PIN [`DEMO_STAFF_PIN`]): not a citizen, only a staff entry in the kiosk
//! config.

use protocol::IdNumber;
use protocol::api::Color;
use protocol::idnumber::check_character;

use crate::model::{NewCitizen, StoredPhoto};

/// The demo hall staff member's (fictional) ID number.
pub const DEMO_STAFF_ID_NUMBER: &str = "310101198507010015";
/// The demo hall staff member's name.
pub const DEMO_STAFF_NAME: &str = "林晓岚";
/// The demo hall staff member's PIN (the demo only: a real one is chosen by its holder).
pub const DEMO_STAFF_PIN: &str = "1234";

/// Width of the demo portraits, in pixels (ID-photo proportions, 2 x 102).
pub const PHOTO_WIDTH: u32 = 204;
/// Height of the demo portraits, in pixels (ID-photo proportions, 2 x 126).
pub const PHOTO_HEIGHT: u32 = 252;
/// The largest width or height [`avatar_png`] draws; larger requests are clamped to it.
pub const MAX_AVATAR_SIDE: u32 = 2048;

/// What a demo person is there to demonstrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DemoRole {
    /// 60 or over, photo, real-name verified, green, no code yet: the plain apply journey.
    EligibleSenior,
    /// Under 60: not eligible, nothing is issued.
    Under60,
    /// No photo in the photo library: not eligible.
    NoPhoto,
    /// Real-name verification not passed: not eligible.
    NotRealNameVerified,
    /// Already holds an active code: apply is refused, reissue (补领) works.
    ActiveCode,
    /// Their code was reported lost: the slip no longer verifies; reissue gives a new one.
    LostCode,
    /// Yellow health colour, with an active code so that verification shows yellow.
    Yellow,
    /// Red health colour, with an active code so that verification shows red.
    Red,
    /// A senior with a 2023-edition foreigner's permanent residence ID card (leading 9).
    Foreigner2023Senior,
    /// A senior with a 2017-edition foreigner's permanent residence card (15 characters).
    Foreigner2017Senior,
    /// A senior with a Hong Kong / Macao / Taiwan residence permit (region 810000 and so on).
    PermitSenior,
    /// A senior born on 29 February.
    LeapDaySenior,
}

impl DemoRole {
    /// Every role, each of which at least one demo person has.
    pub const ALL: [Self; 12] = [
        Self::EligibleSenior,
        Self::Under60,
        Self::NoPhoto,
        Self::NotRealNameVerified,
        Self::ActiveCode,
        Self::LostCode,
        Self::Yellow,
        Self::Red,
        Self::Foreigner2023Senior,
        Self::Foreigner2017Senior,
        Self::PermitSenior,
        Self::LeapDaySenior,
    ];

    /// A short stable name, for listings (`eligible-senior`, `lost-code`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EligibleSenior => "eligible-senior",
            Self::Under60 => "under-60",
            Self::NoPhoto => "no-photo",
            Self::NotRealNameVerified => "not-realname-verified",
            Self::ActiveCode => "active-code",
            Self::LostCode => "lost-code",
            Self::Yellow => "yellow",
            Self::Red => "red",
            Self::Foreigner2023Senior => "foreigner-2023-senior",
            Self::Foreigner2017Senior => "foreigner-2017-senior",
            Self::PermitSenior => "permit-senior",
            Self::LeapDaySenior => "leap-day-senior",
        }
    }

    /// What the person demonstrates, in Chinese, for the demo listing.
    pub fn description(self) -> &'static str {
        match self {
            Self::EligibleSenior => "年满60周岁，可申领离线码",
            Self::Under60 => "未满60周岁，不能申领",
            Self::NoPhoto => "照片库中无照片，不能申领",
            Self::NotRealNameVerified => "未通过实名认证，不能申领",
            Self::ActiveCode => "已有有效离线码，可补领",
            Self::LostCode => "离线码已挂失，可补领",
            Self::Yellow => "黄码，已有离线码，核验显示黄码",
            Self::Red => "红码，已有离线码，核验显示红码",
            Self::Foreigner2023Senior => "外国人永久居留身份证（2023版），年满60周岁",
            Self::Foreigner2017Senior => "外国人永久居留证（2017版），年满60周岁",
            Self::PermitSenior => "港澳台居民居住证，年满60周岁",
            Self::LeapDaySenior => "2月29日出生，年满60周岁",
        }
    }
}

/// The code state the demo seeding should create for a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DemoCode {
    /// No code.
    None,
    /// One active code (issued through the normal path).
    Active,
    /// A code that was issued and then reported lost.
    Lost,
}

/// A demo person: the citizen record, what they demonstrate and the code they should hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoCitizen {
    /// The citizen record to insert.
    pub citizen: NewCitizen,
    /// What this person demonstrates.
    pub role: DemoRole,
    /// The code state to create after inserting the citizen.
    pub code: DemoCode,
}

/// How a demo ID number is written down.
enum SpecId {
    /// The first 17 digits of a GB 11643 number; the check character is computed.
    Gb11643(&'static str),
    /// A complete number (the 15-character 2017 foreigner card, with its own check digit).
    Full(&'static str),
}

/// One row of the demo table.
struct Spec {
    id: SpecId,
    name: &'static str,
    role: DemoRole,
    code: DemoCode,
    color: Color,
    photo: bool,
    verified: bool,
}

impl Spec {
    /// An eligible green senior with a photo and verification, no code: the common case.
    const fn senior(id: SpecId, name: &'static str, role: DemoRole) -> Self {
        Self {
            id,
            name,
            role,
            code: DemoCode::None,
            color: Color::Green,
            photo: true,
            verified: true,
        }
    }
}

/// The demo people. Sequence digits: odd for men, even for women.
const SPECS: [Spec; 15] = [
    Spec::senior(
        SpecId::Gb11643("31010119520314002"),
        "王秀英",
        DemoRole::EligibleSenior,
    ),
    Spec::senior(
        SpecId::Gb11643("31010419490823001"),
        "李建国",
        DemoRole::EligibleSenior,
    ),
    Spec::senior(
        SpecId::Gb11643("31011619600101004"),
        "孙丽华",
        DemoRole::EligibleSenior,
    ),
    Spec::senior(
        SpecId::Gb11643("31011719380306003"),
        "马永福",
        DemoRole::EligibleSenior,
    ),
    Spec {
        code: DemoCode::Active,
        ..Spec::senior(
            SpecId::Gb11643("31011519560611002"),
            "张桂兰",
            DemoRole::ActiveCode,
        )
    },
    Spec {
        code: DemoCode::Lost,
        ..Spec::senior(
            SpecId::Gb11643("31010519450102005"),
            "刘志强",
            DemoRole::LostCode,
        )
    },
    Spec {
        photo: false,
        ..Spec::senior(
            SpecId::Gb11643("31010619580917006"),
            "陈玉珍",
            DemoRole::NoPhoto,
        )
    },
    Spec {
        verified: false,
        ..Spec::senior(
            SpecId::Gb11643("31010719500428007"),
            "杨国华",
            DemoRole::NotRealNameVerified,
        )
    },
    Spec {
        color: Color::Yellow,
        code: DemoCode::Active,
        ..Spec::senior(
            SpecId::Gb11643("31010919531130008"),
            "赵凤英",
            DemoRole::Yellow,
        )
    },
    Spec {
        color: Color::Red,
        code: DemoCode::Active,
        ..Spec::senior(
            SpecId::Gb11643("31011019471215009"),
            "黄德明",
            DemoRole::Red,
        )
    },
    Spec::senior(
        SpecId::Gb11643("31011219900512011"),
        "周晓明",
        DemoRole::Under60,
    ),
    Spec::senior(
        SpecId::Gb11643("93184019520707002"),
        "SMITH JANE",
        DemoRole::Foreigner2023Senior,
    ),
    Spec::senior(
        SpecId::Full("DEU310151092135"),
        "WEBER HANS",
        DemoRole::Foreigner2017Senior,
    ),
    Spec::senior(
        SpecId::Gb11643("81000019480705002"),
        "陈美玲",
        DemoRole::PermitSenior,
    ),
    Spec::senior(
        SpecId::Gb11643("31011319520229004"),
        "吴淑珍",
        DemoRole::LeapDaySenior,
    ),
];

/// How many people [`demo_citizens`] returns.
pub const DEMO_CITIZEN_COUNT: usize = SPECS.len();

/// The demo people, in a fixed order, covering every [`DemoRole`].
///
/// Deterministic: the same people, numbers and photos every time. Photos are
/// [`avatar_png`] portraits of [`PHOTO_WIDTH`] x [`PHOTO_HEIGHT`].
pub fn demo_citizens() -> Vec<DemoCitizen> {
    SPECS
        .iter()
        .zip(0_u64..)
        .filter_map(|(spec, index)| {
            let id_number = spec_id_number(&spec.id)?;
            let photo = spec.photo.then(|| StoredPhoto {
                mime: "image/png".to_owned(),
                bytes: avatar_png(index + 1, PHOTO_WIDTH, PHOTO_HEIGHT),
            });
            Some(DemoCitizen {
                citizen: NewCitizen {
                    id_number,
                    name: spec.name.to_owned(),
                    photo,
                    color: spec.color,
                    realname_verified: spec.verified,
                },
                role: spec.role,
                code: spec.code,
            })
        })
        .collect()
}

/// The validated number of a table row; `None` only if the table is wrong (a test checks that
/// every row parses).
fn spec_id_number(id: &SpecId) -> Option<IdNumber> {
    let text = match id {
        SpecId::Gb11643(first17) => {
            let mut text = (*first17).to_owned();
            text.push(check_character(first17)?);
            text
        }
        SpecId::Full(text) => (*text).to_owned(),
    };
    IdNumber::parse(&text).ok()
}

/// A generated ID-style portrait as PNG (RGB, 8 bits): a head-and-shoulders silhouette, a circle
/// over a rounded body, in a colour derived from `seed`, on a light background. No text, no
/// face. The same seed always gives the same bytes.
///
/// The colours stay between cyan-blue and violet, muted, so that a portrait is never mistaken
/// for a health colour on the verifier's screen.
///
/// Use 102 x 126 or 204 x 252 for ID-photo proportions; any size from 1 to
/// [`MAX_AVATAR_SIDE`] works (out-of-range sides are clamped).
pub fn avatar_png(seed: u64, width: u32, height: u32) -> Vec<u8> {
    let width = width.clamp(1, MAX_AVATAR_SIDE);
    let height = height.clamp(1, MAX_AVATAR_SIDE);
    let pixels = avatar_pixels(seed, width, height);
    encode_rgb_png(&pixels, width, height).unwrap_or_default()
}

/// Encodes RGB8 pixels. Cannot fail for a buffer of the right size written to memory.
fn encode_rgb_png(pixels: &[u8], width: u32, height: u32) -> Result<Vec<u8>, png::EncodingError> {
    let mut out = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut out, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(pixels)?;
        writer.finish()?;
    }
    Ok(out)
}

/// SplitMix64: a well-mixed 64-bit value from a seed.
fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A value in `[0, 1)` from 16 bits of `bits`, starting at bit `shift`.
fn unit(bits: u64, shift: u32) -> f64 {
    f64::from(((bits >> shift) & 0xFFFF) as u16) / 65536.0
}

/// HSV (hue in turns, saturation and value in `[0, 1]`) to RGB.
fn hsv(hue: f64, saturation: f64, value: f64) -> [f64; 3] {
    let h = hue.rem_euclid(1.0) * 6.0;
    let c = value * saturation;
    let x = c * (1.0 - ((h % 2.0) - 1.0).abs());
    let m = value - c;
    let (r, g, b) = match h as u8 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    [r + m, g + m, b + m]
}

/// The raw RGB8 pixels of the portrait.
fn avatar_pixels(seed: u64, width: u32, height: u32) -> Vec<u8> {
    let bits = mix(seed);
    // Hues from cyan-blue to violet only, muted: a portrait must never look like a health
    // colour (green, yellow or red) on the verifier's screen.
    let hue = 0.52 + 0.26 * unit(bits, 0);
    let figure = hsv(
        hue,
        0.25 + 0.25 * unit(bits, 16),
        0.40 + 0.20 * unit(bits, 32),
    );
    let background = hsv(0.52 + 0.26 * unit(bits, 48), 0.05, 0.97);

    let w = f64::from(width);
    let h = f64::from(height);
    // Geometry in pixels; radii follow the width so that the head stays round.
    let head_x = w / 2.0;
    let head_y = h * 0.38;
    let head_r = w * (0.21 + 0.03 * unit(bits, 8));
    let neck_half = head_r * 0.5;
    let neck_top = head_y;
    // Shoulders: a rectangle with large rounded top corners, running off the bottom edge.
    let body_left = w * (0.05 + 0.05 * unit(bits, 24));
    let body_right = w - body_left;
    let body_top = h * 0.70;
    let corner = w * 0.30;

    let inside = |x: f64, y: f64| -> bool {
        let head = (x - head_x).powi(2) + (y - head_y).powi(2) <= head_r.powi(2);
        let neck = (x - head_x).abs() <= neck_half && y >= neck_top;
        let body = if x < body_left || x > body_right || y < body_top {
            false
        } else if y >= body_top + corner {
            true
        } else {
            // Within the corner band: inside the quarter circles at the two top corners.
            let cx = x.clamp(body_left + corner, body_right - corner);
            (x - cx).powi(2) + (y - (body_top + corner)).powi(2) <= corner.powi(2)
        };
        head || neck || body
    };

    // 4 x 4 supersampling for smooth edges.
    const SUB: u32 = 4;
    let samples = f64::from(SUB * SUB);
    let row_len = usize::try_from(width).unwrap_or(0).saturating_mul(3);
    let mut pixels = vec![0_u8; row_len.saturating_mul(usize::try_from(height).unwrap_or(0))];
    for (py, row) in (0_u32..).zip(pixels.chunks_exact_mut(row_len.max(1))) {
        for (px, pixel) in (0_u32..).zip(row.chunks_exact_mut(3)) {
            let mut covered = 0_u32;
            for sy in 0..SUB {
                for sx in 0..SUB {
                    let x = f64::from(px) + (f64::from(sx) + 0.5) / f64::from(SUB);
                    let y = f64::from(py) + (f64::from(sy) + 0.5) / f64::from(SUB);
                    if inside(x, y) {
                        covered += 1;
                    }
                }
            }
            let alpha = f64::from(covered) / samples;
            for ((out, fg), bg) in pixel.iter_mut().zip(figure).zip(background) {
                let value = fg * alpha + bg * (1.0 - alpha);
                *out = (value * 255.0).round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    pixels
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_the_table_parses() {
        for spec in &SPECS {
            assert!(
                spec_id_number(&spec.id).is_some(),
                "a demo ID number is invalid"
            );
        }
        assert_eq!(demo_citizens().len(), SPECS.len());
    }
}
