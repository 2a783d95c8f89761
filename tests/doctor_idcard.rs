//! `kiosk doctor readers` and `kiosk doctor idcard` on the real PC/SC stack: pcscd with the vpcd
//! virtual reader, and our emulated reader holding a demo card. The JSON printed is the card as
//! read, unmasked only when asked.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

#[allow(dead_code, unreachable_pub)]
#[path = "../drivers/idcard/tests/support/pcscd.rs"]
mod pcscd;

use std::process::{Command, Output};

use idcard::emulator::{Emulator, EmulatorConfig};
use idcard::text::CardType;
use serde_json::Value;

const READER: &str = "Virtual PCD 00 00";

fn doctor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("doctor")
        .args(args)
        .output()
        .unwrap()
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}");
    serde_json::from_str(stdout.trim()).unwrap()
}

#[test]
fn doctor_reads_the_emulated_card() {
    let _pcscd = pcscd::Pcscd::ensure(READER);
    pcscd::wait_until_empty(READER);

    let listed = doctor(&["readers"]);
    assert!(listed.status.success());
    assert!(String::from_utf8_lossy(&listed.stdout).contains(READER));

    let card = idcard::sim::demo_cards()
        .into_iter()
        .find(|c| c.card_type == CardType::Resident)
        .unwrap();
    let mut emulator = Emulator::start(EmulatorConfig::with_card(card.clone())).unwrap();

    let unmasked = json_of(&doctor(&[
        "idcard",
        "--reader",
        READER,
        "--timeout",
        "30",
        "--json",
        "--unmasked",
    ]));
    let expected = serde_json::to_value(card.view()).unwrap();
    assert_eq!(unmasked, expected);
    assert_eq!(unmasked["id_number"], card.id_number.as_str());
    assert_eq!(unmasked["card_type"], "resident");
    for field in [
        "card_type",
        "name",
        "sex",
        "nation",
        "birth_date",
        "address",
        "id_number",
        "authority",
        "valid_from",
        "valid_until",
    ] {
        assert!(unmasked.get(field).is_some(), "missing {field}");
    }

    let masked = json_of(&doctor(&[
        "idcard",
        "--reader",
        READER,
        "--timeout",
        "30",
        "--json",
    ]));
    assert_eq!(masked, serde_json::to_value(card.masked_view()).unwrap());
    assert_ne!(masked["id_number"], card.id_number.as_str());
    assert_ne!(masked["name"], unmasked["name"]);

    emulator.stop();
    pcscd::wait_until_empty(READER);
    let none = doctor(&["idcard", "--reader", READER, "--timeout", "1"]);
    assert!(!none.status.success(), "no card must be a failure");
    let message = String::from_utf8_lossy(&none.stderr);
    assert!(message.contains("no card was read"), "{message}");
}
