//! `kiosk staff-entry` (a `[[staff]]` entry for kiosk.toml, the PIN read from standard input)
//! and `kiosk doctor all` on a kiosk that never ran.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::process::{Command, Stdio};

const STAFF_ID: &str = "310101198003150014";
const STAFF_NAME: &str = "欧阳明月";

fn kiosk(args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

const BASE: &str = r#"[kiosk]
id = "K001"
data_dir = "data"

[central]
url = "https://127.0.0.1:9"
ca = "ca.pem"
cert = "kiosk.pem"
key = "kiosk.key"

[devices.idcard]
backend = "simulated"

[devices.scanner]
backend = "simulated"

[devices.printer]
backend = "simulated"
"#;

#[test]
fn staff_entry_prints_a_staff_table_that_kiosk_toml_accepts() {
    let out = kiosk(
        &["staff-entry", "--id-number", STAFF_ID, "--name", STAFF_NAME],
        "13572468\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snippet = String::from_utf8(out.stdout).unwrap();
    assert!(snippet.starts_with("[[staff]]\n"), "{snippet}");
    for secret in [STAFF_ID, STAFF_NAME, "13572468"] {
        assert!(!snippet.contains(secret), "{secret} in {snippet}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kiosk.toml");
    std::fs::write(&path, format!("{BASE}\n{snippet}")).unwrap();
    let config = kiosk::config::Config::load(&path).unwrap();
    assert_eq!(config.staff.len(), 1);
    let entry = &config.staff[0];
    assert_eq!(entry.name_masked, protocol::mask::mask_name(STAFF_NAME));
    assert!(entry.matches_id_number(&protocol::IdNumber::parse(STAFF_ID).unwrap()));
    assert!(entry.verify_pin("13572468"));

    // Two runs, two salts: nothing links the entries of one person across kiosks.
    let again = kiosk(
        &["staff-entry", "--id-number", STAFF_ID, "--name", STAFF_NAME],
        "13572468\n",
    );
    assert_ne!(String::from_utf8(again.stdout).unwrap(), snippet);
}

#[test]
fn staff_entry_refuses_a_bad_pin_or_number() {
    for (id, pin) in [
        (STAFF_ID, "123\n"),
        (STAFF_ID, "12345678901\n"),
        (STAFF_ID, ""),
        ("310101198003150015", "2468\n"),
    ] {
        let out = kiosk(
            &["staff-entry", "--id-number", id, "--name", STAFF_NAME],
            pin,
        );
        assert!(!out.status.success(), "{id} {pin:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{err}");
    }
    // The PIN is never an argument.
    let out = kiosk(
        &[
            "staff-entry",
            "--id-number",
            STAFF_ID,
            "--name",
            STAFF_NAME,
            "--pin",
            "2468",
        ],
        "",
    );
    assert!(!out.status.success());
}

#[test]
fn doctor_all_probes_a_kiosk_that_never_ran() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kiosk.toml");
    std::fs::write(&path, BASE).unwrap();
    let out = kiosk(&["doctor", "all", "--config", path.to_str().unwrap()], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["source"], "probe");
    assert!(
        report["probe_reason"]
            .as_str()
            .unwrap()
            .contains("no status.json")
    );
    assert_eq!(report["kiosk_id"], "K001");
    assert_eq!(report["devices"].as_array().unwrap().len(), 3);
    assert_eq!(report["devices"][2]["backend"], "simulated");
    assert!(
        report["sync"]["error"]
            .as_str()
            .unwrap()
            .contains("no journal")
    );
    assert!(report["in_service"].is_null());
}

#[test]
fn the_demo_staff_card_is_the_demo_centrals_staff_member() {
    assert_eq!(
        kiosk::sample::DEMO_STAFF_ID_NUMBER,
        central::demo::DEMO_STAFF_ID_NUMBER
    );
    assert_eq!(
        kiosk::sample::DEMO_STAFF_NAME,
        central::demo::DEMO_STAFF_NAME
    );
    assert_eq!(kiosk::sample::DEMO_STAFF_PIN, central::demo::DEMO_STAFF_PIN);
    let card = kiosk::sample::demo_staff_card().unwrap();
    assert_eq!(card.id_number.as_str(), central::demo::DEMO_STAFF_ID_NUMBER);
    assert_eq!(card.name, central::demo::DEMO_STAFF_NAME);
    // Not a demo citizen: the card opens maintenance mode, never a resident session.
    assert!(
        central::demo::demo_citizens()
            .iter()
            .all(|c| c.citizen.id_number != card.id_number)
    );
    // The demo central enrols them once, with the demo PIN.
    let dir = tempfile::tempdir().unwrap();
    let data = central::server::DataDir::new(dir.path());
    let store = data.store().unwrap();
    let keys = data.issuer_keys().unwrap();
    let clock = central::clock::SystemClock;
    for _ in 0..2 {
        central::server::seed_demo(store.as_ref(), &keys, &clock).unwrap();
    }
    let config = store.kiosk_config().unwrap();
    assert_eq!(config.staff.len(), 1);
    assert!(config.staff[0].matches_id_number(&card.id_number));
    assert!(config.staff[0].verify_pin(kiosk::sample::DEMO_STAFF_PIN));
}
