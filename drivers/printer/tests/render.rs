//! The renderer, the PDF and the pre-print check, on ESC/POS streams built by hand and on the
//! slips of every built-in profile; the QR codes are read back with `rqrr` and with `zbarimg`.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::process::Command;

use printer::Profile;
use printer::check::{SlipCheckError, check_slip, decode_qr};
use printer::pdf::{PdfPage, slip_pdf};
use printer::render::{RenderError, render, render_png};
use printer::slip::{SlipContent, slip_bytes};
use proptest::prelude::*;
use protocol::{KeySet, OfflineCode, Signer, SoftwareSigner};
use qrcode::{Color, EcLevel, QrCode};
use time::macros::{date, datetime};

const DOTS: u16 = 384;

fn gb18030(text: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(text).0.into_owned()
}

fn signer() -> SoftwareSigner {
    SoftwareSigner::from_private_key(7, &[0x42; 32]).unwrap()
}

fn keys() -> KeySet {
    let s = signer();
    let mut keys = KeySet::new();
    keys.insert(s.kid(), s.public_key());
    keys
}

fn code_text() -> String {
    OfflineCode::issue(&signer(), [9; 16], 1, date!(2026 - 11 - 20))
        .unwrap()
        .to_qr_text()
}

fn header() -> Vec<u8> {
    let mut b = vec![
        0x1B, 0x40, 0x1C, 0x26, 0x1B, 0x61, 0x01, 0x1D, 0x21, 0x11, 0x1B, 0x45, 0x01,
    ];
    b.extend(gb18030("随申码·离线码"));
    b.extend([0x0A, 0x1D, 0x21, 0x00, 0x1B, 0x45, 0x00]);
    b
}

fn footer(b: &mut Vec<u8>) {
    b.extend([0x1B, 0x61, 0x00]);
    b.extend(gb18030("姓名：张*三 ID 310***********0021"));
    b.extend([0x0A, 0x1B, 0x64, 0x03, 0x1D, 0x56, 0x42, 0x10]);
}

/// A slip with a native QR (GS ( k) of `text` at `module` dots and ECC Q.
fn native_qr_stream(text: &str, module: u8) -> Vec<u8> {
    let mut b = header();
    b.extend([0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00]);
    b.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43, module]);
    b.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x32]);
    let len = text.len() + 3;
    b.extend([
        0x1D,
        0x28,
        0x6B,
        (len % 256) as u8,
        (len / 256) as u8,
        0x31,
        0x50,
        0x30,
    ]);
    b.extend(text.as_bytes());
    b.extend([0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30]);
    footer(&mut b);
    b
}

/// A slip with the same QR drawn by us and sent as a GS v 0 raster, 4-module quiet zone.
fn raster_qr_stream(text: &str, module: usize) -> Vec<u8> {
    let code = QrCode::with_error_correction_level(text, EcLevel::Q).unwrap();
    let n = code.width();
    let colors = code.to_colors();
    let side = (n + 8) * module;
    let row_bytes = side.div_ceil(8);
    let mut b = header();
    b.extend([
        0x1D,
        0x76,
        0x30,
        0x00,
        (row_bytes % 256) as u8,
        (row_bytes / 256) as u8,
        (side % 256) as u8,
        (side / 256) as u8,
    ]);
    for y in 0..side {
        let mut row = vec![0u8; row_bytes];
        for x in 0..side {
            let (mx, my) = (x / module, y / module);
            let dark = mx >= 4
                && my >= 4
                && mx < n + 4
                && my < n + 4
                && colors[(my - 4) * n + (mx - 4)] == Color::Dark;
            if dark {
                row[x / 8] |= 0x80 >> (x % 8);
            }
        }
        b.extend(row);
    }
    footer(&mut b);
    b
}

fn zbarimg(png: &[u8], name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    let out = Command::new("zbarimg")
        .arg("-q")
        .arg("--raw")
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!("zbarimg is needed for this test (Debian: apt-get install zbar-tools): {e}")
        });
    assert!(out.status.success(), "zbarimg found no code in {name}");
    String::from_utf8(out.stdout).unwrap().trim_end().to_owned()
}

#[test]
fn hanzi_text_renders_ink() {
    let mut b = vec![0x1B, 0x40, 0x1C, 0x26];
    b.extend(gb18030("有效期 第1次领取"));
    b.push(0x0A);
    let bitmap = render(&b, DOTS).unwrap();
    assert_eq!(bitmap.width, 384);
    assert_eq!(bitmap.height, 24);
    assert!(!bitmap.is_blank());
    // 7 hanzi of 24 dots and 2 half-width characters of 12: the ink ends in the last cell.
    let last_ink = (0..bitmap.width)
        .rev()
        .find(|&x| (0..bitmap.height).any(|y| bitmap.get(x, y)))
        .unwrap();
    assert!(
        last_ink > 2 * 12 + 6 * 24 && last_ink < 2 * 12 + 7 * 24,
        "{last_ink}"
    );
}

#[test]
fn size_bold_alignment_and_wrap() {
    let plain = render(&[b"AB".as_slice(), b"\n"].concat(), DOTS).unwrap();
    let bold = render(&[&[0x1B, 0x45, 0x01][..], b"AB\n"].concat(), DOTS).unwrap();
    assert!(bold.black_dots() > plain.black_dots());
    let big = render(&[&[0x1D, 0x21, 0x11][..], b"AB\n"].concat(), DOTS).unwrap();
    assert_eq!(big.height, 48);
    let right = render(&[&[0x1B, 0x61, 0x02][..], b"AB\n"].concat(), DOTS).unwrap();
    assert!((0..24).any(|y| right.get(383 - 2, y) || right.get(383 - 4, y)));
    assert!(!(0..24).any(|y| (0..300).any(|x| right.get(x, y))));
    // 33 half-width characters do not fit in 384 dots: two lines.
    let wrapped = render(&[&[b'X'; 33][..], b"\n"].concat(), DOTS).unwrap();
    assert_eq!(wrapped.height, 48);
}

#[test]
fn native_and_raster_qr_decode_to_the_same_text() {
    let text = code_text();
    let native = native_qr_stream(&text, 6);
    let raster = raster_qr_stream(&text, 6);
    let native_png = render_png(&native, DOTS).unwrap();
    let raster_png = render_png(&raster, DOTS).unwrap();
    assert_eq!(zbarimg(&native_png, "native"), text);
    assert_eq!(zbarimg(&raster_png, "raster"), text);
    assert_eq!(
        decode_qr(&render(&native, DOTS).unwrap()).unwrap(),
        vec![text.clone()]
    );
    assert_eq!(
        decode_qr(&render(&raster, DOTS).unwrap()).unwrap(),
        vec![text]
    );
}

#[test]
fn check_passes_for_a_signed_code() {
    let text = code_text();
    check_slip(&native_qr_stream(&text, 6), DOTS, &text, &keys()).unwrap();
    check_slip(&raster_qr_stream(&text, 6), DOTS, &text, &keys()).unwrap();
}

#[test]
fn check_fails_for_a_corrupted_signature() {
    let code = OfflineCode::decode_unverified(&code_text()).unwrap();
    let mut bytes = code.to_bytes();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x01;
    let text = format!("SSM1:{}", protocol::base45::encode(&bytes));
    let err = check_slip(&native_qr_stream(&text, 6), DOTS, &text, &keys()).unwrap_err();
    assert!(matches!(err, SlipCheckError::Signature(_)), "{err:?}");
}

#[test]
fn check_fails_for_another_qr_text() {
    let text = code_text();
    let other = OfflineCode::issue(&signer(), [8; 16], 2, date!(2026 - 11 - 20))
        .unwrap()
        .to_qr_text();
    let err = check_slip(&native_qr_stream(&other, 6), DOTS, &text, &keys()).unwrap_err();
    assert!(
        matches!(&err, SlipCheckError::Mismatch { found, .. } if *found == other),
        "{err:?}"
    );
}

#[test]
fn check_fails_without_a_qr() {
    let mut b = header();
    footer(&mut b);
    let err = check_slip(&b, DOTS, &code_text(), &keys()).unwrap_err();
    assert!(matches!(err, SlipCheckError::NoQr), "{err:?}");
}

#[test]
fn a_qr_wider_than_the_paper_is_an_error() {
    let text = code_text();
    let err = check_slip(&native_qr_stream(&text, 16), DOTS, &text, &keys()).unwrap_err();
    assert!(
        matches!(err, SlipCheckError::Render(RenderError::TooWide { .. })),
        "{err:?}"
    );
}

#[test]
fn unknown_and_truncated_commands_are_errors() {
    assert!(matches!(
        render(&[0x1B, 0x7A], DOTS),
        Err(RenderError::UnknownCommand { offset: 0, .. })
    ));
    assert!(matches!(
        render(
            &[0x41, 0x1D, 0x76, 0x30, 0x00, 0x01, 0x00, 0x05, 0x00, 0xFF],
            DOTS
        ),
        Err(RenderError::Truncated { offset: 1 })
    ));
    assert!(matches!(render(b"A", 0), Err(RenderError::LineWidth(0))));
}

#[test]
fn pdf_on_paper_width_and_a6() {
    let text = code_text();
    for page in [PdfPage::PaperWidth, PdfPage::A6] {
        let pdf = slip_pdf(&native_qr_stream(&text, 6), DOTS, page).unwrap();
        assert!(pdf.starts_with(b"%PDF"), "{page:?}");
        assert!(pdf.windows(5).any(|w| w == b"%%EOF"), "{page:?}");
    }
}

fn content(qr_text: String) -> SlipContent {
    SlipContent {
        qr_text,
        name_masked: "张*三".to_owned(),
        id_number_masked: "310***********0021".to_owned(),
        issued_on: date!(2026 - 11 - 20),
        expires_on: date!(2026 - 12 - 19),
        serial: 2,
        reissue: true,
        kiosk_id: "KIOSK-0001".to_owned(),
        printed_at: datetime!(2026-11-20 09:30 +8),
    }
}

#[test]
fn every_builtin_profile_slip_renders_and_verifies() {
    let text = code_text();
    for name in printer::profile::BUILTIN_NAMES {
        let profile = Profile::builtin(name).unwrap();
        let bytes = slip_bytes(&content(text.clone()), &profile).unwrap();
        let dots = profile.dots_per_line;
        check_slip(&bytes, dots, &text, &keys()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let png = render_png(&bytes, dots).unwrap();
        assert_eq!(zbarimg(&png, name), text, "{name}");
        assert!(
            slip_pdf(&bytes, dots, PdfPage::A6)
                .unwrap()
                .starts_with(b"%PDF")
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn render_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = render(&bytes, DOTS);
    }

    #[test]
    fn render_never_panics_on_command_soup(
        parts in proptest::collection::vec(
            prop_oneof![
                Just(vec![0x1B, 0x40]),
                Just(vec![0x1D, 0x21]),
                Just(vec![0x1D, 0x76, 0x30]),
                Just(vec![0x1D, 0x28, 0x6B]),
                Just(vec![0x31, 0x50, 0x30]),
                Just(vec![0x1D, 0x56]),
                Just(vec![0x1B, 0x64]),
                Just(vec![0x0A]),
                proptest::collection::vec(any::<u8>(), 0..6),
            ],
            0..40,
        )
    ) {
        let _ = render(&parts.concat(), DOTS);
    }
}
