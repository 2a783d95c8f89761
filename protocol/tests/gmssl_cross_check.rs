//! Cross-checks our SM2 against an independent implementation (the Python `gmssl` package) in
//! both directions: gmssl verifies codes we sign, and we verify bodies gmssl signs. Tampered
//! signatures must fail on both sides, so the peer is shown to be able to say no.
//!
//! The Python interpreter is `$PROTOCOL_PYTHON`, else the workspace's `.venv/bin/python` (which
//! `scripts/test` creates), else `python3`. It must have `gmssl` installed.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use protocol::code::OfflineCode;
use protocol::keys::{KeySet, PublicKey, Signer, SoftwareSigner};
use serde_json::{Value, json};
use time::macros::date;

fn python() -> PathBuf {
    if let Some(path) = std::env::var_os("PROTOCOL_PYTHON") {
        return path.into();
    }
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python");
    if venv.exists() {
        venv
    } else {
        "python3".into()
    }
}

fn peer(request: &Value) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/gmssl_peer.py");
    let mut child = Command::new(python())
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 is needed for the SM2 cross-check (run scripts/test, which sets it up)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the gmssl peer failed (install it with `python3 -m pip install gmssl==3.2.2`, or run \
         scripts/test): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn signers() -> Vec<SoftwareSigner> {
    (1u8..=4)
        .map(|kid| SoftwareSigner::from_private_key(kid, &[kid.wrapping_mul(0x3B); 32]).unwrap())
        .collect()
}

#[test]
fn gmssl_verifies_codes_we_sign() {
    let mut items = Vec::new();
    let mut expected = Vec::new();
    for (i, signer) in signers().iter().enumerate() {
        for serial in 1..=5u16 {
            let mut code_id = [0u8; 16];
            code_id[0] = u8::try_from(i).unwrap();
            code_id[15] = u8::try_from(serial).unwrap();
            let offset = i64::from(serial) * 40 + i64::try_from(i).unwrap();
            let day = date!(2026 - 11 - 21)
                .checked_add(time::Duration::days(offset))
                .unwrap();
            let code = OfflineCode::issue(signer, code_id, serial, day).unwrap();
            let body = code.body().to_bytes();
            let public = signer.public_key().to_hex();
            items.push(json!({
                "public_key_hex": public,
                "message_hex": hex::encode(body),
                "signature_hex": hex::encode(code.signature()),
            }));
            expected.push(true);
            // The same signature over a body with one bit changed must not verify.
            let mut tampered = body;
            tampered[18] ^= 0x01;
            items.push(json!({
                "public_key_hex": public,
                "message_hex": hex::encode(tampered),
                "signature_hex": hex::encode(code.signature()),
            }));
            expected.push(false);
        }
    }
    let answers = peer(&json!({ "op": "verify", "items": items }));
    assert_eq!(answers, json!(expected));
}

#[test]
fn we_verify_bodies_gmssl_signs() {
    let signers = signers();
    let bodies: Vec<_> = signers
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let code_id = [u8::try_from(i).unwrap().wrapping_mul(17); 16];
            OfflineCode::issue(s, code_id, 1, date!(2027 - 03 - 01))
                .unwrap()
                .body()
                .to_bytes()
        })
        .collect();
    let items: Vec<_> = signers
        .iter()
        .zip(&bodies)
        .map(|(s, body)| {
            json!({
                "private_key_hex": hex::encode(s.private_key_bytes()),
                "message_hex": hex::encode(body),
            })
        })
        .collect();
    let signatures = peer(&json!({ "op": "sign", "items": items }));
    let signatures = signatures.as_array().unwrap();
    assert_eq!(signatures.len(), signers.len());
    for ((signer, body), signature) in signers.iter().zip(&bodies).zip(signatures) {
        let signature = hex::decode(signature.as_str().unwrap()).unwrap();
        assert_eq!(signature.len(), 64);
        let keys: KeySet = [(signer.kid(), signer.public_key())].into_iter().collect();
        assert_eq!(keys.verify(signer.kid(), body, &signature), Ok(()));
        // And as a whole code: their signature in our QR text verifies.
        let mut bytes = body.to_vec();
        bytes.extend_from_slice(&signature);
        let text = format!("SSM1:{}", protocol::base45::encode(&bytes));
        assert!(OfflineCode::verify(&text, &keys).is_ok());
        // Their signature, one bit changed, does not.
        let mut bad = signature.clone();
        bad[40] ^= 0x04;
        assert!(keys.verify(signer.kid(), body, &bad).is_err());
        // Nor does it under another key.
        let other = PublicKey::from_hex(
            &signers[(usize::from(signer.kid())) % signers.len()]
                .public_key()
                .to_hex(),
        )
        .unwrap();
        assert!(!other.verifies(body, &signature));
    }
}
