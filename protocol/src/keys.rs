//! Issuer keys: the `Signer` seam (software key today, a hardware crypto module later) and the
//! public-key set, indexed by kid, that kiosks and verifiers check codes against.
//!
//! Signatures are SM2 with SM3 (GB/T 32918.2) over the message as given, with the distinguishing
//! identifier [`DIST_ID`], encoded as 64 bytes r ‖ s.

use std::collections::BTreeMap;
use std::fmt;

use sm2::dsa::signature::{Signer as _, Verifier as _};
use sm2::elliptic_curve::sec1::ToSec1Point as _;
use thiserror::Error;

/// The SM2 distinguishing identifier (user id) every signature of the product uses.
pub const DIST_ID: &str = "1234567812345678";
/// The algorithm name published with each key.
pub const ALG_NAME: &str = "SM2-SM3";
/// Length of a signature: r ‖ s, 32 bytes each.
pub const SIGNATURE_LEN: usize = 64;
/// Length of an uncompressed SEC1 public key: 04 ‖ x ‖ y.
pub const PUBLIC_KEY_LEN: usize = 65;
/// Length of a private key scalar.
pub const PRIVATE_KEY_LEN: usize = 32;

/// A key identifier: which issuer key signed a code.
pub type Kid = u8;
/// An SM2 signature, r ‖ s.
pub type SignatureBytes = [u8; SIGNATURE_LEN];

/// Why a key could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    /// The text is not hexadecimal.
    #[error("key is not valid hexadecimal")]
    Hex,
    /// A private key must be 32 bytes, a public key 65 (04 ‖ x ‖ y).
    #[error("key has {found} bytes, expected {expected}")]
    Length {
        /// Bytes expected.
        expected: usize,
        /// Bytes found.
        found: usize,
    },
    /// A private key must be a scalar in [1, n-1].
    #[error("private key is out of range for SM2")]
    PrivateKeyRange,
    /// The public key is not an uncompressed point on the SM2 curve.
    #[error("public key is not an uncompressed point on the SM2 curve")]
    NotOnCurve,
}

/// Why signing failed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignError {
    /// The signing device (a hardware crypto module) failed or is unreachable.
    #[error("signing device failed: {0}")]
    Device(String),
    /// The signature computation itself failed.
    #[error("signature computation failed")]
    Crypto,
}

/// Why a signature did not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// No key with this kid is known.
    #[error("no issuer key with kid {0}")]
    UnknownKid(Kid),
    /// The signature does not match the message and key.
    #[error("signature does not verify")]
    BadSignature,
}

/// Something that signs offline-code bodies with one issuer key.
///
/// The software key implements it today; a hardware crypto module can implement it later without
/// touching the code format.
pub trait Signer {
    /// The kid of the key this signer uses.
    fn kid(&self) -> Kid;
    /// The public half of the key.
    fn public_key(&self) -> PublicKey;
    /// Signs `message` with SM2-SM3 and [`DIST_ID`], returning r ‖ s.
    fn sign(&self, message: &[u8]) -> Result<SignatureBytes, SignError>;
}

/// An issuer key held in memory. Signing uses deterministic nonces (RFC 6979 style), so it needs
/// no randomness and signing the same message twice gives the same signature.
#[derive(Clone)]
pub struct SoftwareSigner {
    kid: Kid,
    key: sm2::dsa::SigningKey,
}

impl SoftwareSigner {
    /// A signer from a 32-byte private key. To make a new key, draw 32 random bytes and retry in
    /// the (negligibly rare) case this returns [`KeyError::PrivateKeyRange`].
    pub fn from_private_key(kid: Kid, secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() != PRIVATE_KEY_LEN {
            return Err(KeyError::Length {
                expected: PRIVATE_KEY_LEN,
                found: secret.len(),
            });
        }
        let key = sm2::dsa::SigningKey::from_slice(DIST_ID, secret)
            .map_err(|_| KeyError::PrivateKeyRange)?;
        Ok(Self { kid, key })
    }

    /// A signer from a private key written as 64 hexadecimal digits.
    pub fn from_private_key_hex(kid: Kid, secret_hex: &str) -> Result<Self, KeyError> {
        let secret = hex::decode(secret_hex.trim()).map_err(|_| KeyError::Hex)?;
        Self::from_private_key(kid, &secret)
    }

    /// The private key bytes, for storing the key (with care: mode 0600, never logged).
    pub fn private_key_bytes(&self) -> [u8; PRIVATE_KEY_LEN] {
        self.key.to_bytes().into()
    }
}

impl fmt::Debug for SoftwareSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SoftwareSigner")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Signer for SoftwareSigner {
    fn kid(&self) -> Kid {
        self.kid
    }

    fn public_key(&self) -> PublicKey {
        PublicKey {
            key: self.key.verifying_key().clone(),
        }
    }

    fn sign(&self, message: &[u8]) -> Result<SignatureBytes, SignError> {
        let signature: sm2::dsa::Signature =
            self.key.try_sign(message).map_err(|_| SignError::Crypto)?;
        Ok(signature.to_bytes().into())
    }
}

/// An SM2 public key, always handled as the uncompressed SEC1 point 04 ‖ x ‖ y.
#[derive(Clone)]
pub struct PublicKey {
    key: sm2::dsa::VerifyingKey,
}

impl PublicKey {
    /// A key from its 65-byte uncompressed SEC1 encoding.
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != PUBLIC_KEY_LEN {
            return Err(KeyError::Length {
                expected: PUBLIC_KEY_LEN,
                found: bytes.len(),
            });
        }
        if bytes.first() != Some(&0x04) {
            return Err(KeyError::NotOnCurve);
        }
        let key = sm2::dsa::VerifyingKey::from_sec1_bytes(DIST_ID, bytes)
            .map_err(|_| KeyError::NotOnCurve)?;
        Ok(Self { key })
    }

    /// A key from 130 hexadecimal digits (04 ‖ x ‖ y).
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::Hex)?;
        Self::from_sec1_bytes(&bytes)
    }

    /// The 65-byte uncompressed encoding.
    pub fn to_sec1_bytes(&self) -> Vec<u8> {
        self.key.to_sec1_point(false).as_bytes().to_vec()
    }

    /// The uncompressed encoding as lower-case hexadecimal, as `GET /v1/keys` publishes it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.to_sec1_bytes())
    }

    /// Whether `signature` (r ‖ s) is a valid signature of `message` by this key.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(signature) = sm2::dsa::Signature::from_slice(signature) else {
            return false;
        };
        self.key.verify(message, &signature).is_ok()
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.to_sec1_bytes() == other.to_sec1_bytes()
    }
}

impl Eq for PublicKey {}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({})", self.to_hex())
    }
}

/// The issuer public keys a verifier trusts, indexed by kid. Rotation adds a kid; old kids stay
/// so that codes they signed keep verifying until they expire.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeySet {
    keys: BTreeMap<Kid, PublicKey>,
}

impl KeySet {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces the key for `kid`.
    pub fn insert(&mut self, kid: Kid, key: PublicKey) {
        self.keys.insert(kid, key);
    }

    /// The key for `kid`, if known.
    pub fn get(&self, kid: Kid) -> Option<&PublicKey> {
        self.keys.get(&kid)
    }

    /// Every key, in kid order.
    pub fn iter(&self) -> impl Iterator<Item = (Kid, &PublicKey)> {
        self.keys.iter().map(|(kid, key)| (*kid, key))
    }

    /// Whether the set holds no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Checks that `signature` over `message` was made by the key `kid`.
    pub fn verify(&self, kid: Kid, message: &[u8], signature: &[u8]) -> Result<(), VerifyError> {
        let key = self.get(kid).ok_or(VerifyError::UnknownKid(kid))?;
        if key.verifies(message, signature) {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        }
    }
}

impl FromIterator<(Kid, PublicKey)> for KeySet {
    fn from_iter<I: IntoIterator<Item = (Kid, PublicKey)>>(iter: I) -> Self {
        Self {
            keys: iter.into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8";

    #[test]
    fn public_key_is_uncompressed_and_round_trips() {
        let signer = SoftwareSigner::from_private_key_hex(7, SECRET).unwrap();
        let public = signer.public_key();
        let bytes = public.to_sec1_bytes();
        assert_eq!(bytes.len(), PUBLIC_KEY_LEN);
        assert_eq!(bytes[0], 0x04);
        assert_eq!(PublicKey::from_hex(&public.to_hex()).unwrap(), public);
        assert_eq!(hex::encode(signer.private_key_bytes()), SECRET);
    }

    #[test]
    fn signs_deterministically_and_verifies() {
        let signer = SoftwareSigner::from_private_key_hex(7, SECRET).unwrap();
        let a = signer.sign(b"message").unwrap();
        assert_eq!(a, signer.sign(b"message").unwrap());
        let keys: KeySet = [(7, signer.public_key())].into_iter().collect();
        assert_eq!(keys.verify(7, b"message", &a), Ok(()));
        assert_eq!(
            keys.verify(7, b"messagf", &a),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            keys.verify(8, b"message", &a),
            Err(VerifyError::UnknownKid(8))
        );
        assert_eq!(
            keys.verify(7, b"message", &a[..63]),
            Err(VerifyError::BadSignature)
        );
    }

    #[test]
    fn rejects_bad_keys() {
        assert_eq!(
            SoftwareSigner::from_private_key(1, &[0; 32]).unwrap_err(),
            KeyError::PrivateKeyRange
        );
        assert_eq!(
            SoftwareSigner::from_private_key(1, &[0xFF; 32]).unwrap_err(),
            KeyError::PrivateKeyRange
        );
        assert_eq!(
            SoftwareSigner::from_private_key(1, &[1; 31]).unwrap_err(),
            KeyError::Length {
                expected: 32,
                found: 31
            }
        );
        assert_eq!(
            SoftwareSigner::from_private_key_hex(1, "zz").unwrap_err(),
            KeyError::Hex
        );
        let mut point = SoftwareSigner::from_private_key_hex(1, SECRET)
            .unwrap()
            .public_key()
            .to_sec1_bytes();
        point[64] ^= 1;
        assert_eq!(
            PublicKey::from_sec1_bytes(&point).unwrap_err(),
            KeyError::NotOnCurve
        );
        assert_eq!(
            PublicKey::from_sec1_bytes(&[4; 33]).unwrap_err(),
            KeyError::Length {
                expected: 65,
                found: 33
            }
        );
    }

    #[test]
    fn debug_never_shows_the_private_key() {
        let signer = SoftwareSigner::from_private_key_hex(3, SECRET).unwrap();
        let shown = format!("{signer:?}");
        assert!(!shown.contains(&SECRET[..16]), "{shown}");
    }
}
