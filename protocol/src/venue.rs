//! The venue poster code (单位张贴码), format v1: what the QR on an organisation's entrance poster
//! carries. QR text: `SSMV1:` + base45(body ‖ signature), all in the QR alphanumeric set, like the
//! offline code ([`crate::code`]). No personal data and nothing about the organisation but a
//! random id: the name and status are looked up when the poster is scanned.
//!
//! Body layout (big-endian, 13 bytes):
//!
//! | field    | bytes | meaning                                                          |
//! |----------|-------|------------------------------------------------------------------|
//! | version  | 1     | 1                                                                |
//! | alg      | 1     | 1 = SM2 with SM3, user id "1234567812345678"                     |
//! | kid      | 1     | which issuer key signed it (the keys of `GET /v1/keys`)          |
//! | venue_id | 8     | random, assigned by the central service when it registers a venue |
//! | serial   | 2     | 1 for a venue's first poster, +1 on every reprint                 |
//!
//! signature: 64 bytes, SM2 r ‖ s over [`SIGNING_CONTEXT`] ‖ body. The context keeps a venue
//! signature from ever being taken for an offline-code signature or the reverse (their bodies also
//! differ in length). A reprint makes a new serial; the central service then refuses the old
//! serials (the poster is "retired"), which only it can know: the signature alone says the poster
//! was genuine once.

use std::fmt;

use thiserror::Error;

use crate::base45::{self, Base45Error};
use crate::keys::{KeySet, Kid, SIGNATURE_LEN, SignError, SignatureBytes, Signer, VerifyError};

/// What every venue QR text of format v1 starts with.
pub const PREFIX: &str = "SSMV1:";
/// The format version byte.
pub const VERSION: u8 = 1;
/// The algorithm byte for SM2 with SM3.
pub const ALG_SM2_SM3: u8 = 1;
/// Length of a venue id.
pub const VENUE_ID_LEN: usize = 8;
/// Length of the signed body.
pub const BODY_LEN: usize = 3 + VENUE_ID_LEN + 2;
/// Length of body ‖ signature, the bytes base45 carries.
pub const PAYLOAD_LEN: usize = BODY_LEN + SIGNATURE_LEN;
/// Length of a venue QR text: the prefix plus base45 of [`PAYLOAD_LEN`] bytes.
pub const QR_TEXT_LEN: usize = PREFIX.len() + PAYLOAD_LEN / 2 * 3 + PAYLOAD_LEN % 2 * 2;
/// Signed before the body, so that venue and offline-code signatures cannot stand in for each
/// other.
pub const SIGNING_CONTEXT: &[u8] = b"SSMV1:";

/// The random id of a venue, as carried in its posters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VenueId(pub [u8; VENUE_ID_LEN]);

impl VenueId {
    /// The 8 bytes.
    pub fn to_bytes(self) -> [u8; VENUE_ID_LEN] {
        self.0
    }

    /// Parses 16 lowercase hex digits.
    pub fn parse_hex(text: &str) -> Option<Self> {
        if text.len() != 2 * VENUE_ID_LEN
            || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        let mut bytes = [0u8; VENUE_ID_LEN];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }
}

impl fmt::Display for VenueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for VenueId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VenueId({self})")
    }
}

/// Every way a QR text can fail to be a valid venue poster code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum VenueCodeError {
    /// The text does not start with `SSMV1:`.
    #[error("not a venue poster code: the text does not start with {PREFIX}")]
    Prefix,
    /// The text after the prefix is not base45.
    #[error("venue poster code text is not base45: {0}")]
    Base45(#[from] Base45Error),
    /// The decoded bytes are not body ‖ signature.
    #[error("venue poster code has {found} bytes, expected {PAYLOAD_LEN}")]
    Length {
        /// Bytes found.
        found: usize,
    },
    /// A version this software does not know.
    #[error("venue poster code version {0} is not supported")]
    Version(u8),
    /// A signature algorithm this software does not know.
    #[error("venue poster code algorithm {0} is not supported")]
    Alg(u8),
    /// Serial 0 is never issued.
    #[error("venue poster code serial 0 is invalid")]
    Serial,
    /// No trusted key has this kid.
    #[error("venue poster code was signed with unknown key {0}")]
    UnknownKid(Kid),
    /// The signature does not match.
    #[error("venue poster code signature does not verify")]
    BadSignature,
}

impl From<VerifyError> for VenueCodeError {
    fn from(error: VerifyError) -> Self {
        match error {
            VerifyError::UnknownKid(kid) => Self::UnknownKid(kid),
            VerifyError::BadSignature => Self::BadSignature,
        }
    }
}

/// Why a venue poster code could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VenueIssueError {
    /// Serial 0 is never issued.
    #[error("serial 0 is invalid; the first poster is serial 1")]
    Serial,
    /// The signer failed.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// The unsigned part of a venue poster code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VenueBody {
    kid: Kid,
    venue_id: VenueId,
    serial: u16,
}

impl VenueBody {
    /// A body; serial 0 is refused.
    pub fn new(kid: Kid, venue_id: VenueId, serial: u16) -> Result<Self, VenueIssueError> {
        if serial == 0 {
            return Err(VenueIssueError::Serial);
        }
        Ok(Self {
            kid,
            venue_id,
            serial,
        })
    }

    /// The 13 body bytes.
    pub fn to_bytes(&self) -> [u8; BODY_LEN] {
        let mut out = [0u8; BODY_LEN];
        let [s0, s1] = self.serial.to_be_bytes();
        let (head, tail) = out.split_at_mut(3 + VENUE_ID_LEN);
        if let Some((fixed, id)) = head.split_first_chunk_mut::<3>() {
            *fixed = [VERSION, ALG_SM2_SM3, self.kid];
            id.copy_from_slice(&self.venue_id.0);
        }
        tail.copy_from_slice(&[s0, s1]);
        out
    }

    /// Reads a body, checking version, algorithm and serial.
    pub fn from_bytes(bytes: &[u8; BODY_LEN]) -> Result<Self, VenueCodeError> {
        let (&[version, alg, kid], rest) = bytes
            .split_first_chunk::<3>()
            .ok_or(VenueCodeError::Length { found: 0 })?;
        let (venue_id, rest) = rest
            .split_first_chunk::<VENUE_ID_LEN>()
            .ok_or(VenueCodeError::Length { found: 0 })?;
        let &[s0, s1] = rest else {
            return Err(VenueCodeError::Length { found: 0 });
        };
        if version != VERSION {
            return Err(VenueCodeError::Version(version));
        }
        if alg != ALG_SM2_SM3 {
            return Err(VenueCodeError::Alg(alg));
        }
        let serial = u16::from_be_bytes([s0, s1]);
        if serial == 0 {
            return Err(VenueCodeError::Serial);
        }
        Ok(Self {
            kid,
            venue_id: VenueId(*venue_id),
            serial,
        })
    }

    /// The message the signature covers: [`SIGNING_CONTEXT`] ‖ body.
    pub fn signed_message(&self) -> Vec<u8> {
        let mut message = SIGNING_CONTEXT.to_vec();
        message.extend_from_slice(&self.to_bytes());
        message
    }

    /// The issuer key id.
    pub fn kid(&self) -> Kid {
        self.kid
    }

    /// The venue.
    pub fn venue_id(&self) -> VenueId {
        self.venue_id
    }

    /// 1 for the venue's first poster, +1 on every reprint.
    pub fn serial(&self) -> u16 {
        self.serial
    }
}

/// A signed venue poster code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VenueCode {
    body: VenueBody,
    signature: SignatureBytes,
}

impl VenueCode {
    /// Makes and signs a poster code with the signer's kid.
    pub fn issue(
        signer: &dyn Signer,
        venue_id: VenueId,
        serial: u16,
    ) -> Result<Self, VenueIssueError> {
        let body = VenueBody::new(signer.kid(), venue_id, serial)?;
        let signature = signer.sign(&body.signed_message())?;
        Ok(Self { body, signature })
    }

    /// Reads a QR text and checks its signature against `keys`. Whether the poster is still the
    /// venue's current one is for the central service to say.
    pub fn verify(text: &str, keys: &KeySet) -> Result<Self, VenueCodeError> {
        let code = Self::decode_unverified(text)?;
        keys.verify(code.body.kid, &code.body.signed_message(), &code.signature)?;
        Ok(code)
    }

    /// Reads a QR text's structure WITHOUT checking the signature (tools and tests only).
    pub fn decode_unverified(text: &str) -> Result<Self, VenueCodeError> {
        let rest = text.strip_prefix(PREFIX).ok_or(VenueCodeError::Prefix)?;
        let bytes = base45::decode(rest)?;
        let found = bytes.len();
        let all: &[u8; PAYLOAD_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| VenueCodeError::Length { found })?;
        let (body, signature) = all
            .split_first_chunk::<BODY_LEN>()
            .ok_or(VenueCodeError::Length { found })?;
        let signature: SignatureBytes = signature
            .try_into()
            .map_err(|_| VenueCodeError::Length { found })?;
        Ok(Self {
            body: VenueBody::from_bytes(body)?,
            signature,
        })
    }

    /// The signed body.
    pub fn body(&self) -> &VenueBody {
        &self.body
    }

    /// The signature, r ‖ s.
    pub fn signature(&self) -> &SignatureBytes {
        &self.signature
    }

    /// body ‖ signature.
    pub fn to_bytes(&self) -> [u8; PAYLOAD_LEN] {
        let mut out = [0u8; PAYLOAD_LEN];
        let (body, signature) = out.split_at_mut(BODY_LEN);
        body.copy_from_slice(&self.body.to_bytes());
        signature.copy_from_slice(&self.signature);
        out
    }

    /// The text the poster's QR carries.
    pub fn to_qr_text(&self) -> String {
        let mut text = String::with_capacity(QR_TEXT_LEN);
        text.push_str(PREFIX);
        text.push_str(&base45::encode(&self.to_bytes()));
        text
    }
}

impl fmt::Debug for VenueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VenueCode")
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::{self, OfflineCode};
    use crate::keys::SoftwareSigner;
    use proptest::prelude::*;
    use time::macros::date;

    fn signer(kid: Kid) -> SoftwareSigner {
        SoftwareSigner::from_private_key(kid, &[0x5A; 32]).unwrap()
    }

    fn keys(signer: &SoftwareSigner) -> KeySet {
        [(signer.kid(), signer.public_key())].into_iter().collect()
    }

    const VENUE: VenueId = VenueId([0x3c, 0x91, 0x07, 0xe4, 0x5a, 0x20, 0xbf, 0x66]);

    #[test]
    fn qr_text_is_short_alphanumeric_and_round_trips() {
        let s = signer(1);
        let code = VenueCode::issue(&s, VENUE, 2).unwrap();
        let text = code.to_qr_text();
        assert_eq!(text.len(), QR_TEXT_LEN);
        assert_eq!(QR_TEXT_LEN, 122);
        assert!(text.starts_with(PREFIX));
        assert!(text.bytes().all(|b| base45::ALPHABET.contains(&b)));
        let back = VenueCode::verify(&text, &keys(&s)).unwrap();
        assert_eq!(back, code);
        assert_eq!(back.body().venue_id(), VENUE);
        assert_eq!(back.body().serial(), 2);
        assert_eq!(back.body().kid(), 1);
    }

    #[test]
    fn each_way_of_being_wrong_has_its_own_error() {
        let s = signer(1);
        let keys = keys(&s);
        let good = VenueCode::issue(&s, VENUE, 1).unwrap();
        let with = |edit: &dyn Fn(&mut [u8; PAYLOAD_LEN])| {
            let mut bytes = good.to_bytes();
            edit(&mut bytes);
            format!("{PREFIX}{}", base45::encode(&bytes))
        };
        let text = good.to_qr_text();
        assert_eq!(
            VenueCode::verify(&text[1..], &keys),
            Err(VenueCodeError::Prefix)
        );
        assert!(matches!(
            VenueCode::verify(&format!("{PREFIX}abc"), &keys),
            Err(VenueCodeError::Base45(_))
        ));
        assert_eq!(
            VenueCode::verify(&format!("{PREFIX}{}", base45::encode(&[1; 76])), &keys),
            Err(VenueCodeError::Length { found: 76 })
        );
        assert_eq!(
            VenueCode::verify(&with(&|b| b[0] = 2), &keys),
            Err(VenueCodeError::Version(2))
        );
        assert_eq!(
            VenueCode::verify(&with(&|b| b[1] = 9), &keys),
            Err(VenueCodeError::Alg(9))
        );
        assert_eq!(
            VenueCode::verify(&with(&|b| b[2] = 4), &keys),
            Err(VenueCodeError::UnknownKid(4))
        );
        assert_eq!(
            VenueCode::verify(&with(&|b| b[3] ^= 1), &keys),
            Err(VenueCodeError::BadSignature)
        );
        assert_eq!(
            VenueCode::verify(&with(&|b| b[12] ^= 2), &keys),
            Err(VenueCodeError::BadSignature),
            "another serial is not signed"
        );
        assert_eq!(
            VenueCode::verify(&with(&|b| (b[11], b[12]) = (0, 0)), &keys),
            Err(VenueCodeError::Serial)
        );
        assert_eq!(
            VenueCode::verify(&with(&|b| b[70] ^= 0x80), &keys),
            Err(VenueCodeError::BadSignature)
        );
        assert_eq!(VenueCode::issue(&s, VENUE, 0), Err(VenueIssueError::Serial));
    }

    #[test]
    fn offline_codes_and_venue_codes_never_pass_for_each_other() {
        let s = signer(1);
        let keys = keys(&s);
        let slip = OfflineCode::issue(&s, [7; 16], 1, date!(2026 - 11 - 21)).unwrap();
        let poster = VenueCode::issue(&s, VENUE, 1).unwrap();
        assert_eq!(
            VenueCode::verify(&slip.to_qr_text(), &keys),
            Err(VenueCodeError::Prefix)
        );
        assert_eq!(
            OfflineCode::verify(&poster.to_qr_text(), &keys),
            Err(code::CodeError::Prefix)
        );
        // The same body bytes signed without the context do not verify as a venue code.
        let bare = s.sign(&poster.body().to_bytes()).unwrap();
        let mut bytes = poster.to_bytes();
        bytes[BODY_LEN..].copy_from_slice(&bare);
        assert_eq!(
            VenueCode::verify(&format!("{PREFIX}{}", base45::encode(&bytes)), &keys),
            Err(VenueCodeError::BadSignature)
        );
    }

    #[test]
    fn venue_ids_print_as_hex_and_parse_back() {
        assert_eq!(VENUE.to_string(), "3c9107e45a20bf66");
        assert_eq!(VenueId::parse_hex("3c9107e45a20bf66"), Some(VENUE));
        assert_eq!(VenueId::parse_hex("3C9107E45A20BF66"), None);
        assert_eq!(VenueId::parse_hex("3c9107e45a20bf6"), None);
        assert_eq!(VenueId::parse_hex("3c9107e45a20bf6g"), None);
        assert!(
            !format!("{:?}", VenueCode::issue(&signer(1), VENUE, 1).unwrap()).contains("signature")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn parse_of_encode_is_identity(kid in any::<u8>(), id in any::<[u8; 8]>(), serial in 1..=u16::MAX) {
            let s = SoftwareSigner::from_private_key(kid, &[0x11; 32]).unwrap();
            let code = VenueCode::issue(&s, VenueId(id), serial).unwrap();
            let text = code.to_qr_text();
            prop_assert_eq!(text.len(), QR_TEXT_LEN);
            let set: KeySet = [(kid, s.public_key())].into_iter().collect();
            prop_assert_eq!(VenueCode::verify(&text, &set), Ok(code));
        }

        #[test]
        fn never_panics_on_any_text(text in ".{0,300}") {
            let _ = VenueCode::verify(&text, &KeySet::new());
        }

        #[test]
        fn never_panics_on_prefixed_alphabet_text(text in "[0-9A-Z $%*+./:-]{0,200}") {
            let _ = VenueCode::decode_unverified(&format!("{PREFIX}{text}"));
        }

        #[test]
        fn never_panics_on_any_payload_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let s = signer(1);
            let _ = VenueCode::verify(&format!("{PREFIX}{}", base45::encode(&bytes)), &keys(&s));
        }
    }
}
