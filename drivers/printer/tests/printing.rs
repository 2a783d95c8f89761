//! The printing path against a TCP printer emulator: a good slip is checked and printed; a code
//! with a corrupted signature, a QR the profile cannot hold, or a QR text that is not the code's
//! never reach the printer, not even its status requests.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use printer::check::SlipCheckError;
use printer::emulator::{ALL_FINE, TcpPrinterEmulator};
use printer::printing::{SlipPrintError, print_slip};
use printer::slip::{SlipContent, SlipError};
use printer::{Connection, EscPosPrinter, Profile};
use protocol::code::OfflineCode;
use protocol::keys::{KeySet, Signer, SoftwareSigner};
use time::macros::{date, datetime};

fn emulator() -> (u16, TcpPrinterEmulator) {
    let emulator = TcpPrinterEmulator::start(ALL_FINE).unwrap();
    (emulator.port(), emulator)
}

fn signer() -> SoftwareSigner {
    SoftwareSigner::from_private_key(1, &[0x5A; 32]).unwrap()
}

fn content(qr_text: String) -> SlipContent {
    SlipContent {
        qr_text,
        name_masked: "王*英".into(),
        id_number_masked: "310***********0029".into(),
        issued_on: date!(2026 - 11 - 21),
        expires_on: date!(2027 - 05 - 19),
        serial: 1,
        reissue: false,
        kiosk_id: "K001".into(),
        printed_at: datetime!(2026-11-21 02:15 UTC),
    }
}

fn good_code() -> String {
    OfflineCode::issue(&signer(), [7; 16], 1, date!(2026 - 11 - 21))
        .unwrap()
        .to_qr_text()
}

fn keys() -> KeySet {
    let s = signer();
    [(s.kid(), s.public_key())].into_iter().collect()
}

fn printer_on(port: u16) -> EscPosPrinter {
    EscPosPrinter::new(Connection::parse(&format!("tcp://127.0.0.1:{port}")).unwrap())
}

#[test]
fn a_good_slip_is_checked_then_printed() {
    for name in ["generic-58", "generic-80", "raster-only-58"] {
        let (port, received) = emulator();
        let profile = Profile::builtin(name).unwrap();
        let slip = content(good_code());
        let report = print_slip(&mut printer_on(port), &slip, &profile, &keys()).unwrap();
        assert!(report.is_clean(), "{name}: {report:?}");
        let expected = printer::slip::slip_bytes(&slip, &profile).unwrap();
        let got = received.received();
        assert!(
            got.windows(expected.len())
                .any(|w| w == expected.as_slice()),
            "{name}: the job bytes did not arrive whole"
        );
    }
}

#[test]
fn a_corrupted_signature_never_reaches_the_printer() {
    let code = OfflineCode::decode_unverified(&good_code()).unwrap();
    let mut bytes = code.to_bytes();
    bytes[60] ^= 0x01;
    let forged = format!("SSM1:{}", protocol::base45::encode(&bytes));
    let (port, received) = emulator();
    let profile = Profile::builtin("generic-58").unwrap();
    let error = print_slip(&mut printer_on(port), &content(forged), &profile, &keys()).unwrap_err();
    assert!(
        matches!(error, SlipPrintError::Check(SlipCheckError::Signature(_))),
        "{error:?}"
    );
    assert!(received.received().is_empty(), "the printer was contacted");
}

#[test]
fn a_qr_the_profile_cannot_hold_never_reaches_the_printer() {
    let (port, received) = emulator();
    let mut profile = Profile::builtin("raster-only-58").unwrap();
    profile.qr_module_dots = 16;
    let error = print_slip(
        &mut printer_on(port),
        &content(good_code()),
        &profile,
        &keys(),
    )
    .unwrap_err();
    assert!(
        matches!(error, SlipPrintError::Layout(SlipError::QrTooWide { .. })),
        "{error:?}"
    );
    assert!(received.received().is_empty(), "the printer was contacted");
}

#[test]
fn a_code_signed_by_an_unknown_key_never_reaches_the_printer() {
    let stranger = SoftwareSigner::from_private_key(1, &[0x33; 32]).unwrap();
    let foreign = OfflineCode::issue(&stranger, [7; 16], 1, date!(2026 - 11 - 21))
        .unwrap()
        .to_qr_text();
    let (port, received) = emulator();
    let profile = Profile::builtin("generic-80").unwrap();
    let error =
        print_slip(&mut printer_on(port), &content(foreign), &profile, &keys()).unwrap_err();
    assert!(matches!(error, SlipPrintError::Check(_)), "{error:?}");
    assert!(received.received().is_empty());
}
