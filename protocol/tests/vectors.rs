//! The shipped test vectors (protocol/tests/vectors/offline-code-v1.json, made by an independent
//! generator with the `gmssl` SM2 implementation): every vector decodes to its fields, its body and
//! QR text are what our encoder produces, its signature verifies, and any single flipped bit fails.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use protocol::code::{self, CodeBody, OfflineCode};
use protocol::keys::{KeySet, PublicKey, Signer, SoftwareSigner};
use serde::Deserialize;
use time::Date;

#[derive(Debug, Deserialize)]
struct Vector {
    description: String,
    private_key_hex: String,
    public_key_hex: String,
    body_hex: String,
    signature_hex: String,
    qr_text: String,
    version: u8,
    alg: u8,
    kid: u8,
    code_id_hex: String,
    serial: u16,
    issued_day: u16,
    expires_day: u16,
    issued_on: Date,
    expires_on: Date,
}

fn vectors() -> Vec<Vector> {
    let text = include_str!("vectors/offline-code-v1.json");
    let vectors: Vec<Vector> = serde_json::from_str(text).unwrap();
    assert!(vectors.len() >= 5, "the vector file lost vectors");
    vectors
}

fn key_set(v: &Vector) -> KeySet {
    [(v.kid, PublicKey::from_hex(&v.public_key_hex).unwrap())]
        .into_iter()
        .collect()
}

#[test]
fn every_vector_decodes_to_its_fields() {
    for v in vectors() {
        let code = OfflineCode::verify(&v.qr_text, &key_set(&v))
            .unwrap_or_else(|e| panic!("{}: {e}", v.description));
        let body = code.body();
        assert_eq!(
            (v.version, v.alg),
            (code::VERSION, code::ALG_SM2_SM3),
            "{}",
            v.description
        );
        assert_eq!(body.kid(), v.kid, "{}", v.description);
        assert_eq!(
            hex::encode(body.code_id()),
            v.code_id_hex,
            "{}",
            v.description
        );
        assert_eq!(body.serial(), v.serial, "{}", v.description);
        assert_eq!(body.issued_day(), v.issued_day, "{}", v.description);
        assert_eq!(body.expires_day(), v.expires_day, "{}", v.description);
        assert_eq!(body.issued_on(), v.issued_on, "{}", v.description);
        assert_eq!(body.expires_on(), v.expires_on, "{}", v.description);
        assert_eq!(
            hex::encode(code.signature()),
            v.signature_hex,
            "{}",
            v.description
        );
        assert!(code.body().check_date(v.issued_on).is_ok());
        assert!(code.body().check_date(v.expires_on).is_ok());
    }
}

#[test]
fn our_encoder_produces_the_vector_bytes_and_text() {
    for v in vectors() {
        let code_id: [u8; 16] = hex::decode(&v.code_id_hex).unwrap().try_into().unwrap();
        let body = CodeBody::new(v.kid, code_id, v.serial, v.issued_on).unwrap();
        assert_eq!(
            hex::encode(body.to_bytes()),
            v.body_hex,
            "{}",
            v.description
        );
        let decoded = OfflineCode::decode_unverified(&v.qr_text).unwrap();
        assert_eq!(decoded.body(), &body);
        assert_eq!(decoded.to_qr_text(), v.qr_text, "{}", v.description);
        assert!(v.qr_text.len() <= 150);
    }
}

#[test]
fn private_keys_match_public_keys_and_our_signatures_verify() {
    for v in vectors() {
        let signer = SoftwareSigner::from_private_key_hex(v.kid, &v.private_key_hex).unwrap();
        assert_eq!(
            signer.public_key().to_hex(),
            v.public_key_hex,
            "{}",
            v.description
        );
        let code_id: [u8; 16] = hex::decode(&v.code_id_hex).unwrap().try_into().unwrap();
        let ours = OfflineCode::issue(&signer, code_id, v.serial, v.issued_on).unwrap();
        assert_eq!(hex::encode(ours.body().to_bytes()), v.body_hex);
        // SM2 signatures use a nonce, so ours differs from the vector's; both must verify.
        assert!(OfflineCode::verify(&ours.to_qr_text(), &key_set(&v)).is_ok());
    }
}

#[test]
fn one_flipped_bit_anywhere_fails() {
    for (index, v) in vectors().iter().enumerate() {
        let keys = key_set(v);
        let good = OfflineCode::decode_unverified(&v.qr_text)
            .unwrap()
            .to_bytes();
        // Every bit of the first vector; every 7th bit of the others keeps the run short.
        let step = if index == 0 { 1 } else { 7 };
        for bit in (0..good.len() * 8).step_by(step) {
            let mut bytes = good;
            bytes[bit / 8] ^= 1 << (bit % 8);
            let text = format!("{}{}", code::PREFIX, protocol::base45::encode(&bytes));
            assert!(
                OfflineCode::verify(&text, &keys).is_err(),
                "{}: flipping bit {bit} still verified",
                v.description
            );
        }
    }
}

#[test]
fn a_vector_under_another_key_fails() {
    let all = vectors();
    let (a, b) = (&all[0], &all[3]);
    assert_ne!(a.public_key_hex, b.public_key_hex);
    let wrong: KeySet = [(a.kid, PublicKey::from_hex(&b.public_key_hex).unwrap())]
        .into_iter()
        .collect();
    assert_eq!(
        OfflineCode::verify(&a.qr_text, &wrong).unwrap_err(),
        protocol::CodeError::BadSignature
    );
}
