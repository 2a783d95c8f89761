//! The kiosk binary's `sample-code` command: what it prints verifies with the key it prints.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::process::Command;

use protocol::code::OfflineCode;
use protocol::keys::{KeySet, PublicKey};

fn field<'a>(output: &'a str, name: &str) -> &'a str {
    output
        .lines()
        .find_map(|line| {
            line.strip_prefix(name)
                .and_then(|rest| rest.strip_prefix(": "))
        })
        .unwrap_or_else(|| panic!("no {name} in output:\n{output}"))
}

#[test]
fn sample_code_verifies_with_the_printed_key() {
    let output = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("sample-code")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    let text = field(&stdout, "qr_text");
    let key = PublicKey::from_hex(field(&stdout, "public_key_hex")).unwrap();
    let kid: u8 = field(&stdout, "kid").parse().unwrap();
    let keys: KeySet = [(kid, key)].into_iter().collect();
    let code = OfflineCode::verify(text, &keys).unwrap();
    assert_eq!(code.body().serial(), 1);
    assert_eq!(
        code.body().expires_on().to_string(),
        field(&stdout, "expires_on")
    );
    assert!(text.len() <= 150);
    // The QR is drawn with half-block characters above the fields.
    assert!(stdout.contains('█') || stdout.contains('▀'), "{stdout}");
}

#[test]
fn unknown_arguments_fail_with_usage() {
    let output = Command::new(env!("CARGO_BIN_EXE_kiosk"))
        .arg("frobnicate")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("Usage: kiosk"));
}
