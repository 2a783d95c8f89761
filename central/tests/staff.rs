//! Hall staff enrolment: `central add-staff` / `remove-staff` (and the `admin` functions behind
//! them) edit the kiosk config's staff list, bumping its version so that kiosks pull it, and
//! store neither the full ID number nor the name: a salted keyed hash, the masked name and an
//! argon2id hash of the PIN.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

mod common;

use central::admin;
use common::backend::{Raw, TestData, data_dir};
use protocol::IdNumber;

const BIN: &str = env!("CARGO_BIN_EXE_central");

/// A fictional staff member (valid check character) and one more.
const STAFF: (&str, &str) = ("310101198003150014", "欧阳明月");
const STAFF_2: (&str, &str) = ("310104197506200022", "司马青云");

fn id(text: &str) -> IdNumber {
    IdNumber::parse(text).unwrap()
}

/// Every file under the data directory, as bytes (the database, its WAL, keys, ...).
fn all_bytes(dir: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    // On PostgreSQL nothing may have been written to the directory yet.
    let mut stack: Vec<_> = dir.exists().then(|| dir.to_owned()).into_iter().collect();
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.extend(std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[test]
fn add_and_remove_staff_change_the_version_and_the_entries() {
    let dir = tempfile::tempdir().unwrap();
    let test_data = data_dir(dir.path().join("data"));
    let data = test_data.data.clone();
    let start = data.store().unwrap().kiosk_config().unwrap().version;

    let v1 = admin::add_staff(&data, STAFF.0, STAFF.1, "2468").unwrap();
    assert!(v1 > start);
    let config = data.store().unwrap().kiosk_config().unwrap();
    assert_eq!(config.version, v1);
    assert_eq!(config.staff.len(), 1);
    let entry = &config.staff[0];
    entry.check().unwrap();
    assert_eq!(entry.name_masked, protocol::mask::mask_name(STAFF.1));
    assert!(entry.matches_id_number(&id(STAFF.0)));
    assert!(!entry.matches_id_number(&id(STAFF_2.0)));
    assert!(entry.verify_pin("2468"));
    assert!(!entry.verify_pin("2469"));

    // A second member; then the first again with a new PIN replaces its entry.
    let v2 = admin::add_staff(&data, STAFF_2.0, STAFF_2.1, "13572468").unwrap();
    assert!(v2 > v1);
    let v3 = admin::add_staff(&data, STAFF.0, STAFF.1, "9999").unwrap();
    assert!(v3 > v2);
    let config = data.store().unwrap().kiosk_config().unwrap();
    assert_eq!(config.staff.len(), 2);
    let first = config
        .staff
        .iter()
        .find(|e| e.matches_id_number(&id(STAFF.0)))
        .unwrap();
    assert!(first.verify_pin("9999"));
    assert!(!first.verify_pin("2468"));
    assert_ne!(
        config.staff[0].salt_hex, config.staff[1].salt_hex,
        "a salt per entry"
    );

    // Nothing on disk holds the full ID numbers, the names or the PINs.
    let bytes = all_bytes(data.path());
    let raw = Raw::new(&test_data);
    for needle in [STAFF.0, STAFF.1, STAFF_2.0, STAFF_2.1, "13572468"] {
        assert!(!contains(&bytes, needle), "{needle} is stored");
        for table in raw.tables() {
            for column in raw.columns(&table) {
                assert_eq!(
                    raw.hits(&table, &column, needle),
                    0,
                    "{needle} is in {table}.{column}"
                );
            }
        }
    }

    let v4 = admin::remove_staff(&data, STAFF.0).unwrap();
    assert!(v4 > v3);
    let config = data.store().unwrap().kiosk_config().unwrap();
    assert_eq!(config.version, v4);
    assert_eq!(config.staff.len(), 1);
    assert!(config.staff[0].matches_id_number(&id(STAFF_2.0)));

    // Removing someone not enrolled fails and changes nothing.
    let error = admin::remove_staff(&data, STAFF.0).unwrap_err();
    assert!(error.to_string().contains("no staff member"), "{error}");
    assert_eq!(data.store().unwrap().kiosk_config().unwrap().version, v4);

    // Bad input changes nothing either.
    assert!(admin::add_staff(&data, STAFF.0, STAFF.1, "12").is_err());
    assert!(admin::add_staff(&data, STAFF.0, STAFF.1, "12ab").is_err());
    assert!(admin::add_staff(&data, "310101198003150015", STAFF.1, "2468").is_err());
    assert!(admin::add_staff(&data, STAFF.0, " ", "2468").is_err());
    assert_eq!(data.store().unwrap().kiosk_config().unwrap().version, v4);
}

/// Runs `central` on the database of `test_data` with `stdin` on its standard input.
fn central(test_data: &TestData, args: &[&str], stdin: &str) -> std::process::Output {
    let mut command = Command::new(BIN);
    test_data.configure(&mut command);
    let mut child = command
        .args(args)
        .env("RUST_LOG", "debug")
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

#[test]
fn the_command_line_reads_the_pin_from_stdin_and_logs_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let test_data = data_dir(dir.path().join("data"));
    let data_arg = test_data.data.path().to_str().unwrap();
    let store_version = || test_data.data.store().unwrap().kiosk_config().unwrap();

    let out = central(
        &test_data,
        &[
            "add-staff",
            "--data",
            data_arg,
            "--id-number",
            STAFF.0,
            "--name",
            STAFF.1,
        ],
        "2468\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8(out.stdout).unwrap();
    let config = store_version();
    assert!(
        said.contains(&format!("version {}", config.version)),
        "{said}"
    );
    assert!(said.contains(&protocol::mask::mask_name(STAFF.1)), "{said}");
    assert_eq!(config.staff.len(), 1);
    assert!(config.staff[0].verify_pin("2468"));
    for text in [said.as_str(), &String::from_utf8_lossy(&out.stderr)] {
        assert!(!text.contains(STAFF.0) && !text.contains(STAFF.1) && !text.contains("2468"));
    }

    // No PIN, or a bad one, on stdin: refused, nothing changes.
    let before = config.version;
    for pin in ["", "12\n", "abcd\n"] {
        let out = central(
            &test_data,
            &[
                "add-staff",
                "--data",
                data_arg,
                "--id-number",
                STAFF_2.0,
                "--name",
                STAFF_2.1,
            ],
            pin,
        );
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("4 to 8 digits"));
    }
    // The PIN is never an argument.
    let out = central(
        &test_data,
        &[
            "add-staff",
            "--data",
            data_arg,
            "--id-number",
            STAFF_2.0,
            "--name",
            STAFF_2.1,
            "--pin",
            "2468",
        ],
        "",
    );
    assert!(!out.status.success());
    assert_eq!(store_version().version, before);

    let out = central(
        &test_data,
        &["remove-staff", "--data", data_arg, "--id-number", STAFF.0],
        "",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let config = store_version();
    assert!(config.version > before);
    assert!(config.staff.is_empty());
    let out = central(
        &test_data,
        &["remove-staff", "--data", data_arg, "--id-number", STAFF.0],
        "",
    );
    assert!(!out.status.success());
}
