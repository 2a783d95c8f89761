//! The slip's bytes: snapshots for every built-in profile, size limits, the errors, and a check
//! that the raster QR carries exactly the modules of the `qrcode` crate's matrix.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;

use printer::slip::{SlipContent, SlipError, slip_bytes};
use printer::{CutKind, Profile};
use protocol::{OfflineCode, SoftwareSigner};
use qrcode::{Color, EcLevel, QrCode};
use time::macros::{date, datetime};

const PROFILES: [&str; 3] = ["generic-58", "generic-80", "raster-only-58"];

/// A fictional person's slip carrying a real, deterministically signed code.
fn sample() -> SlipContent {
    let signer = SoftwareSigner::from_private_key(1, &[0x5A; 32]).unwrap();
    let code_id: [u8; 16] = core::array::from_fn(|i| i as u8 * 17);
    let code = OfflineCode::issue(&signer, code_id, 2, date!(2026 - 03 - 01)).unwrap();
    SlipContent {
        qr_text: code.to_qr_text(),
        name_masked: "张*三".to_owned(),
        id_number_masked: "310***********0021".to_owned(),
        issued_on: code.body().issued_on(),
        expires_on: code.body().expires_on(),
        serial: 2,
        reissue: true,
        kiosk_id: "SH-XH-0042".to_owned(),
        printed_at: datetime!(2026-03-01 02:15:30 UTC),
    }
}

fn profile(name: &str) -> Profile {
    Profile::builtin(name).unwrap()
}

fn hex_dump(bytes: &[u8]) -> String {
    let mut out = format!("{} bytes\n", bytes.len());
    for (i, chunk) in bytes.chunks(32).enumerate() {
        write!(out, "{:05x}:", i * 32).unwrap();
        for b in chunk {
            write!(out, " {b:02x}").unwrap();
        }
        out.push('\n');
    }
    out
}

#[test]
fn snapshots_of_every_builtin_profile() {
    let content = sample();
    for name in PROFILES {
        let bytes = slip_bytes(&content, &profile(name)).unwrap();
        insta::assert_snapshot!(name, hex_dump(&bytes));
    }
}

#[test]
#[allow(clippy::print_stdout)]
fn sizes_stay_within_limits() {
    let content = sample();
    for name in PROFILES {
        let p = profile(name);
        let len = slip_bytes(&content, &p).unwrap().len();
        println!("{name}: {len} bytes");
        if p.native_qr {
            assert!(len <= 1536, "{name}: {len} bytes");
        } else if p.dots_per_line <= 384 {
            assert!(len <= 16 * 1024, "{name}: {len} bytes");
        }
    }
}

#[test]
fn slip_starts_with_init_and_ends_with_the_profile_cut() {
    let content = sample();
    for name in PROFILES {
        let p = profile(name);
        let bytes = slip_bytes(&content, &p).unwrap();
        assert_eq!(&bytes[..2], &[0x1B, 0x40]);
        assert_eq!(p.chinese_mode, bytes[2..4] == [0x1C, 0x26], "{name}");
        let cut: Vec<u8> = match p.cut {
            CutKind::Full => vec![0x1D, 0x56, 0x00],
            CutKind::Partial => vec![0x1D, 0x56, 0x01],
            CutKind::FeedPartial(n) => vec![0x1D, 0x56, 0x42, n],
            CutKind::None => vec![],
        };
        let mut tail = vec![0x1B, 0x64, 3];
        tail.extend(cut);
        assert!(bytes.ends_with(&tail), "{name}");
    }
}

#[test]
fn native_qr_commands_carry_model_2_ecc_q_and_the_text() {
    let content = sample();
    let p = profile("generic-58");
    let bytes = slip_bytes(&content, &p).unwrap();
    let mut store = vec![0x1D, 0x28, 0x6B];
    store.extend((content.qr_text.len() as u16 + 3).to_le_bytes());
    store.extend([0x31, 0x50, 0x30]);
    store.extend(content.qr_text.as_bytes());
    store.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
    let mut expected = vec![0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00];
    expected.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, p.qr_module_dots]);
    expected.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x32]);
    expected.extend(store);
    assert!(bytes.windows(expected.len()).any(|w| w == expected));
}

#[test]
fn text_is_gb18030() {
    let bytes = slip_bytes(&sample(), &profile("generic-58")).unwrap();
    for text in [
        "随申码·离线码",
        "姓名：张*三",
        "第2次领取",
        "此前离线码已作废",
        "打印时间：2026-03-01 10:15",
    ] {
        let (encoded, _, errors) = encoding_rs::GB18030.encode(text);
        assert!(!errors);
        assert!(
            bytes.windows(encoded.len()).any(|w| w == &*encoded),
            "{text} missing"
        );
    }
    // The title is centred, bold and double size.
    let title = encoding_rs::GB18030.encode("随申码·离线码").0;
    let mut expected = vec![0x1B, 0x61, 0x01, 0x1B, 0x45, 0x01, 0x1D, 0x21, 0x11];
    expected.extend(title.iter());
    assert!(bytes.windows(expected.len()).any(|w| w == expected));
}

#[test]
fn a_first_slip_has_no_reissue_notice() {
    let content = SlipContent {
        serial: 1,
        reissue: false,
        ..sample()
    };
    let bytes = slip_bytes(&content, &profile("generic-58")).unwrap();
    let notice = encoding_rs::GB18030.encode("此前离线码已作废").0;
    assert!(!bytes.windows(notice.len()).any(|w| w == &*notice));
    let first = encoding_rs::GB18030.encode("第1次领取").0;
    assert!(bytes.windows(first.len()).any(|w| w == &*first));
}

#[test]
fn a_qr_wider_than_the_paper_is_refused() {
    for native_qr in [true, false] {
        let p = Profile {
            qr_module_dots: 16,
            native_qr,
            ..profile("generic-58")
        };
        let modules = QrCode::with_error_correction_level(sample().qr_text, EcLevel::Q)
            .unwrap()
            .width();
        assert_eq!(
            slip_bytes(&sample(), &p),
            Err(SlipError::QrTooWide {
                needed_dots: 16 * (modules + 8),
                available: 384
            })
        );
    }
}

#[test]
fn a_module_below_five_dots_is_refused() {
    let p = Profile {
        qr_module_dots: 4,
        ..profile("generic-80")
    };
    assert_eq!(
        slip_bytes(&sample(), &p),
        Err(SlipError::InvalidModule { module: 4 })
    );
}

#[test]
fn an_unprintable_character_is_an_error_not_a_question_mark() {
    for name in PROFILES {
        let content = SlipContent {
            name_masked: "张*😀".to_owned(),
            ..sample()
        };
        assert_eq!(
            slip_bytes(&content, &profile(name)),
            Err(SlipError::Encoding { character: '😀' })
        );
    }
    // A rare ideograph that GB18030 carries in four bytes is accepted.
    let content = SlipContent {
        name_masked: "*𠀾".to_owned(),
        ..sample()
    };
    assert!(slip_bytes(&content, &profile("generic-58")).is_ok());
}

/// Finds the one `GS v 0` image and returns (bytes per row, rows, data).
fn raster(bytes: &[u8]) -> (usize, usize, &[u8]) {
    let at = bytes
        .windows(4)
        .position(|w| w == [0x1D, 0x76, 0x30, 0x00])
        .expect("GS v 0");
    let h = &bytes[at + 4..at + 8];
    let x = usize::from(u16::from_le_bytes([h[0], h[1]]));
    let y = usize::from(u16::from_le_bytes([h[2], h[3]]));
    (x, y, &bytes[at + 8..at + 8 + x * y])
}

#[test]
fn the_raster_qr_holds_exactly_the_qrcode_matrix() {
    let content = sample();
    let p = profile("raster-only-58");
    let bytes = slip_bytes(&content, &p).unwrap();
    let (row_bytes, rows, data) = raster(&bytes);
    let dark = |x: usize, y: usize| data[y * row_bytes + x / 8] & (0x80 >> (x % 8)) != 0;

    let code = QrCode::with_error_correction_level(&content.qr_text, EcLevel::Q).unwrap();
    let n = code.width();
    let colors = code.to_colors();
    let module = usize::from(p.qr_module_dots);
    let side = module * (n + 8);
    assert_eq!(rows, side);
    assert!(row_bytes * 8 <= usize::from(p.dots_per_line));
    let left = (usize::from(p.dots_per_line) - side) / 2;

    // Nothing outside the symbol is dark: the quiet zone and the centring margin are white.
    let quiet = 4 * module;
    for y in 0..rows {
        for x in 0..row_bytes * 8 {
            let inside = (left + quiet..left + quiet + n * module).contains(&x)
                && (quiet..quiet + n * module).contains(&y);
            if !inside {
                assert!(!dark(x, y), "dark dot outside the symbol at ({x}, {y})");
            }
        }
    }
    // Every module is a whole block of one colour, equal to the crate's matrix.
    for my in 0..n {
        for mx in 0..n {
            let want = colors[my * n + mx] == Color::Dark;
            for dy in 0..module {
                for dx in 0..module {
                    let (x, y) = (left + quiet + mx * module + dx, quiet + my * module + dy);
                    assert_eq!(dark(x, y), want, "module ({mx}, {my}) dot ({dx}, {dy})");
                }
            }
        }
    }
    // The text is alphanumeric, so the crate chose alphanumeric mode: version 8 at most.
    assert!(n <= 49, "{n} modules");
}
