//! The offline code, format v1: the 25-byte body, its SM2 signature, and the QR text
//! `SSM1:` + base45(body ‖ signature). No personal data is in a code.
//!
//! Body layout (big-endian):
//!
//! | field       | bytes | meaning                                              |
//! |-------------|-------|------------------------------------------------------|
//! | version     | 1     | 1                                                    |
//! | alg         | 1     | 1 = SM2 with SM3, user id "1234567812345678"         |
//! | kid         | 1     | which issuer key signed it                           |
//! | code_id     | 16    | random, assigned by the central service              |
//! | serial      | 2     | 1 for a person's first slip, +1 on every reissue     |
//! | issued_day  | 2     | days since 2020-01-01                                |
//! | expires_day | 2     | last valid day, days since 2020-01-01 (issued + 179) |

use std::fmt;

use thiserror::Error;
use time::Date;
use time::macros::date;

use crate::base45::{self, Base45Error};
use crate::keys::{KeySet, Kid, SIGNATURE_LEN, SignError, SignatureBytes, Signer, VerifyError};

/// What every QR text of format v1 starts with.
pub const PREFIX: &str = "SSM1:";
/// The format version byte.
pub const VERSION: u8 = 1;
/// The algorithm byte for SM2 with SM3.
pub const ALG_SM2_SM3: u8 = 1;
/// Length of the signed body.
pub const BODY_LEN: usize = 25;
/// Length of body ‖ signature, the bytes base45 carries.
pub const CODE_LEN: usize = BODY_LEN + SIGNATURE_LEN;
/// Length of a code's QR text: the prefix plus base45 of [`CODE_LEN`] bytes.
pub const QR_TEXT_LEN: usize = PREFIX.len() + CODE_LEN / 2 * 3 + CODE_LEN % 2 * 2;
/// A code is valid for this many days, the day of issue included.
pub const VALIDITY_DAYS: u16 = 180;
/// Day 0 of `issued_day` and `expires_day`.
pub const EPOCH: Date = date!(2020 - 01 - 01);
/// Length of a code id.
pub const CODE_ID_LEN: usize = 16;

/// Why a date cannot be carried in a code, or a code's dates are inconsistent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum DateError {
    /// The issue date is before 2020-01-01 or so late that the expiry day overflows.
    #[error("issue date {0} is outside the range a code can carry")]
    OutOfRange(Date),
    /// The expiry day is not the issue day plus 179.
    #[error("expiry day {expires_day} is not issue day {issued_day} + {}", VALIDITY_DAYS - 1)]
    Window {
        /// Issue day found.
        issued_day: u16,
        /// Expiry day found.
        expires_day: u16,
    },
}

/// Every way a QR text can fail to be a valid offline code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum CodeError {
    /// The text does not start with `SSM1:`.
    #[error("not an offline code: the text does not start with {PREFIX}")]
    Prefix,
    /// The text after the prefix is not base45.
    #[error("offline code text is not base45: {0}")]
    Base45(#[from] Base45Error),
    /// The decoded bytes are not body ‖ signature.
    #[error("offline code has {found} bytes, expected {CODE_LEN}")]
    Length {
        /// Bytes found.
        found: usize,
    },
    /// A version this software does not know.
    #[error("offline code version {0} is not supported")]
    Version(u8),
    /// A signature algorithm this software does not know.
    #[error("offline code algorithm {0} is not supported")]
    Alg(u8),
    /// Serial 0 is never issued.
    #[error("offline code serial 0 is invalid")]
    Serial,
    /// The dates are inconsistent.
    #[error("offline code dates are invalid: {0}")]
    Dates(DateError),
    /// No trusted key has this kid.
    #[error("offline code was signed with unknown key {0}")]
    UnknownKid(Kid),
    /// The signature does not match.
    #[error("offline code signature does not verify")]
    BadSignature,
    /// Checked before its issue day.
    #[error("offline code is not valid before {valid_from}")]
    NotYetValid {
        /// First valid day.
        valid_from: Date,
    },
    /// Checked after its last valid day.
    #[error("offline code expired after {last_valid_day}")]
    Expired {
        /// Last valid day.
        last_valid_day: Date,
    },
}

impl From<VerifyError> for CodeError {
    fn from(error: VerifyError) -> Self {
        match error {
            VerifyError::UnknownKid(kid) => Self::UnknownKid(kid),
            VerifyError::BadSignature => Self::BadSignature,
        }
    }
}

/// Why a code could not be issued.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IssueError {
    /// The dates cannot be carried.
    #[error(transparent)]
    Dates(#[from] DateError),
    /// Serial 0 is never issued.
    #[error("serial 0 is invalid; the first slip is serial 1")]
    Serial,
    /// The signer failed.
    #[error(transparent)]
    Sign(#[from] SignError),
}

/// The unsigned part of a code. Version and algorithm are fixed for format v1.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CodeBody {
    kid: Kid,
    code_id: [u8; CODE_ID_LEN],
    serial: u16,
    issued_day: u16,
}

impl CodeBody {
    /// A body for a code issued on `issued_on`, valid through `issued_on` + 179 days.
    pub fn new(
        kid: Kid,
        code_id: [u8; CODE_ID_LEN],
        serial: u16,
        issued_on: Date,
    ) -> Result<Self, IssueError> {
        if serial == 0 {
            return Err(IssueError::Serial);
        }
        let issued_day = day_number(issued_on)?;
        if issued_day.checked_add(VALIDITY_DAYS - 1).is_none() {
            return Err(DateError::OutOfRange(issued_on).into());
        }
        Ok(Self {
            kid,
            code_id,
            serial,
            issued_day,
        })
    }

    /// The 25 bytes that are signed.
    pub fn to_bytes(&self) -> [u8; BODY_LEN] {
        let mut out = [0u8; BODY_LEN];
        let [s0, s1] = self.serial.to_be_bytes();
        let [i0, i1] = self.issued_day.to_be_bytes();
        let [e0, e1] = self.expires_day().to_be_bytes();
        let (head, tail) = out.split_at_mut(3 + CODE_ID_LEN);
        if let Some((fixed, id)) = head.split_first_chunk_mut::<3>() {
            *fixed = [VERSION, ALG_SM2_SM3, self.kid];
            id.copy_from_slice(&self.code_id);
        }
        tail.copy_from_slice(&[s0, s1, i0, i1, e0, e1]);
        out
    }

    /// Reads a body, checking version, algorithm, serial and dates.
    pub fn from_bytes(bytes: &[u8; BODY_LEN]) -> Result<Self, CodeError> {
        let (&[version, alg, kid], rest) = bytes
            .split_first_chunk::<3>()
            .ok_or(CodeError::Length { found: 0 })?;
        let (code_id, rest) = rest
            .split_first_chunk::<CODE_ID_LEN>()
            .ok_or(CodeError::Length { found: 0 })?;
        let &[s0, s1, i0, i1, e0, e1] = rest else {
            return Err(CodeError::Length { found: 0 });
        };
        if version != VERSION {
            return Err(CodeError::Version(version));
        }
        if alg != ALG_SM2_SM3 {
            return Err(CodeError::Alg(alg));
        }
        let serial = u16::from_be_bytes([s0, s1]);
        if serial == 0 {
            return Err(CodeError::Serial);
        }
        let issued_day = u16::from_be_bytes([i0, i1]);
        let expires_day = u16::from_be_bytes([e0, e1]);
        if issued_day.checked_add(VALIDITY_DAYS - 1) != Some(expires_day) {
            return Err(CodeError::Dates(DateError::Window {
                issued_day,
                expires_day,
            }));
        }
        Ok(Self {
            kid,
            code_id: *code_id,
            serial,
            issued_day,
        })
    }

    /// The issuer key id.
    pub fn kid(&self) -> Kid {
        self.kid
    }

    /// The code id the central service assigned.
    pub fn code_id(&self) -> [u8; CODE_ID_LEN] {
        self.code_id
    }

    /// 1 for a person's first slip, +1 on every reissue.
    pub fn serial(&self) -> u16 {
        self.serial
    }

    /// Issue day, days since [`EPOCH`].
    pub fn issued_day(&self) -> u16 {
        self.issued_day
    }

    /// Last valid day, days since [`EPOCH`].
    pub fn expires_day(&self) -> u16 {
        // `new` and `from_bytes` guarantee this does not overflow.
        self.issued_day.saturating_add(VALIDITY_DAYS - 1)
    }

    /// The day of issue.
    pub fn issued_on(&self) -> Date {
        date_of(self.issued_day)
    }

    /// The last day on which the code is valid.
    pub fn expires_on(&self) -> Date {
        date_of(self.expires_day())
    }

    /// Whether the code's dates cover `today`.
    pub fn check_date(&self, today: Date) -> Result<(), CodeError> {
        if today < self.issued_on() {
            Err(CodeError::NotYetValid {
                valid_from: self.issued_on(),
            })
        } else if today > self.expires_on() {
            Err(CodeError::Expired {
                last_valid_day: self.expires_on(),
            })
        } else {
            Ok(())
        }
    }
}

impl fmt::Debug for CodeBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CodeBody")
            .field("kid", &self.kid)
            .field("code_id", &hex::encode(self.code_id))
            .field("serial", &self.serial)
            .field("issued_on", &self.issued_on())
            .field("expires_on", &self.expires_on())
            .finish()
    }
}

/// A signed offline code.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfflineCode {
    body: CodeBody,
    signature: SignatureBytes,
}

impl OfflineCode {
    /// Issues a code: builds the body with the signer's kid and signs it.
    pub fn issue(
        signer: &dyn Signer,
        code_id: [u8; CODE_ID_LEN],
        serial: u16,
        issued_on: Date,
    ) -> Result<Self, IssueError> {
        let body = CodeBody::new(signer.kid(), code_id, serial, issued_on)?;
        let signature = signer.sign(&body.to_bytes())?;
        Ok(Self { body, signature })
    }

    /// Reads a QR text and checks its signature against `keys`. Does not look at today's date:
    /// see [`CodeBody::check_date`] and [`OfflineCode::verify_on`].
    pub fn verify(text: &str, keys: &KeySet) -> Result<Self, CodeError> {
        let code = Self::decode_unverified(text)?;
        keys.verify(code.body.kid, &code.body.to_bytes(), &code.signature)?;
        Ok(code)
    }

    /// [`OfflineCode::verify`], then checks that `today` lies within the code's validity.
    pub fn verify_on(text: &str, keys: &KeySet, today: Date) -> Result<Self, CodeError> {
        let code = Self::verify(text, keys)?;
        code.body.check_date(today)?;
        Ok(code)
    }

    /// Reads a QR text's structure WITHOUT checking the signature. Only for tools and tests that
    /// then check the signature themselves; anything deciding on validity uses `verify`.
    pub fn decode_unverified(text: &str) -> Result<Self, CodeError> {
        let rest = text.strip_prefix(PREFIX).ok_or(CodeError::Prefix)?;
        let bytes = base45::decode(rest)?;
        let all: &[u8; CODE_LEN] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| CodeError::Length { found: bytes.len() })?;
        let (body, signature) = all
            .split_first_chunk::<BODY_LEN>()
            .ok_or(CodeError::Length { found: bytes.len() })?;
        let signature: SignatureBytes = signature
            .try_into()
            .map_err(|_| CodeError::Length { found: bytes.len() })?;
        Ok(Self {
            body: CodeBody::from_bytes(body)?,
            signature,
        })
    }

    /// The signed body.
    pub fn body(&self) -> &CodeBody {
        &self.body
    }

    /// The signature, r ‖ s.
    pub fn signature(&self) -> &SignatureBytes {
        &self.signature
    }

    /// body ‖ signature.
    pub fn to_bytes(&self) -> [u8; CODE_LEN] {
        let mut out = [0u8; CODE_LEN];
        let (body, signature) = out.split_at_mut(BODY_LEN);
        body.copy_from_slice(&self.body.to_bytes());
        signature.copy_from_slice(&self.signature);
        out
    }

    /// The text the QR code carries: `SSM1:` + base45, all in the QR alphanumeric set.
    pub fn to_qr_text(&self) -> String {
        let mut text = String::with_capacity(QR_TEXT_LEN);
        text.push_str(PREFIX);
        text.push_str(&base45::encode(&self.to_bytes()));
        text
    }
}

impl fmt::Debug for OfflineCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OfflineCode")
            .field("body", &self.body)
            .finish_non_exhaustive()
    }
}

/// Days since [`EPOCH`] for a date a code can carry.
pub fn day_number(date: Date) -> Result<u16, DateError> {
    let days = date.to_julian_day() - EPOCH.to_julian_day();
    u16::try_from(days).map_err(|_| DateError::OutOfRange(date))
}

/// The date of a day number. Every u16 maps to a date (2020-01-01 to 2199-06-06).
pub fn date_of(day: u16) -> Date {
    Date::from_julian_day(EPOCH.to_julian_day() + i32::from(day)).unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::{PublicKey, SoftwareSigner};
    use proptest::prelude::*;

    fn signer(kid: Kid) -> SoftwareSigner {
        SoftwareSigner::from_private_key(kid, &[0x5A; 32]).unwrap()
    }

    fn keys(signer: &SoftwareSigner) -> KeySet {
        [(signer.kid(), signer.public_key())].into_iter().collect()
    }

    #[test]
    fn qr_text_is_short_and_alphanumeric() {
        let s = signer(1);
        let code = OfflineCode::issue(&s, [0xAB; 16], 3, date!(2026 - 11 - 21)).unwrap();
        let text = code.to_qr_text();
        assert_eq!(text.len(), QR_TEXT_LEN);
        assert!(text.len() <= 150, "{} characters", text.len());
        assert!(text.bytes().all(|b| base45::ALPHABET.contains(&b)));
        let back = OfflineCode::verify(&text, &keys(&s)).unwrap();
        assert_eq!(back, code);
        assert_eq!(back.body().expires_on(), date!(2027 - 05 - 19));
    }

    #[test]
    fn each_way_of_being_wrong_has_its_own_error() {
        let s = signer(1);
        let good = OfflineCode::issue(&s, [7; 16], 1, date!(2026 - 01 - 01)).unwrap();
        let keys = keys(&s);
        let with = |edit: &dyn Fn(&mut [u8; CODE_LEN])| {
            let mut bytes = good.to_bytes();
            edit(&mut bytes);
            format!("{PREFIX}{}", base45::encode(&bytes))
        };
        let text = good.to_qr_text();
        assert_eq!(
            OfflineCode::verify(&text[1..], &keys),
            Err(CodeError::Prefix)
        );
        assert_eq!(
            OfflineCode::verify(&text.to_lowercase(), &keys),
            Err(CodeError::Prefix)
        );
        assert!(matches!(
            OfflineCode::verify(&format!("{PREFIX}abc"), &keys),
            Err(CodeError::Base45(_))
        ));
        assert_eq!(
            OfflineCode::verify(&format!("{PREFIX}{}", base45::encode(&[1; 88])), &keys),
            Err(CodeError::Length { found: 88 })
        );
        assert_eq!(
            OfflineCode::verify(&with(&|b| b[0] = 2), &keys),
            Err(CodeError::Version(2))
        );
        assert_eq!(
            OfflineCode::verify(&with(&|b| b[1] = 9), &keys),
            Err(CodeError::Alg(9))
        );
        assert_eq!(
            OfflineCode::verify(&with(&|b| b[2] = 4), &keys),
            Err(CodeError::UnknownKid(4))
        );
        assert_eq!(
            OfflineCode::verify(&with(&|b| b[3] ^= 1), &keys),
            Err(CodeError::BadSignature)
        );
        assert_eq!(
            OfflineCode::verify(&with(&|b| b[20] = 0), &keys),
            Err(CodeError::Serial)
        );
        assert!(matches!(
            OfflineCode::verify(&with(&|b| b[24] ^= 1), &keys),
            Err(CodeError::Dates(DateError::Window { .. }))
        ));
        assert_eq!(
            OfflineCode::verify(&with(&|b| b[88] ^= 0x80), &keys),
            Err(CodeError::BadSignature)
        );
    }

    #[test]
    fn validity_covers_exactly_180_days() {
        let s = signer(2);
        let code = OfflineCode::issue(&s, [1; 16], 1, date!(2024 - 02 - 29)).unwrap();
        let text = code.to_qr_text();
        let keys = keys(&s);
        let first = date!(2024 - 02 - 29);
        let last = date!(2024 - 08 - 26);
        assert_eq!(code.body().expires_on(), last);
        assert_eq!((last - first).whole_days(), 179);
        assert!(OfflineCode::verify_on(&text, &keys, first).is_ok());
        assert!(OfflineCode::verify_on(&text, &keys, last).is_ok());
        assert_eq!(
            OfflineCode::verify_on(&text, &keys, first.previous_day().unwrap()),
            Err(CodeError::NotYetValid { valid_from: first })
        );
        assert_eq!(
            OfflineCode::verify_on(&text, &keys, last.next_day().unwrap()),
            Err(CodeError::Expired {
                last_valid_day: last
            })
        );
    }

    #[test]
    fn refuses_what_a_code_cannot_carry() {
        let s = signer(1);
        assert_eq!(
            OfflineCode::issue(&s, [0; 16], 0, date!(2026 - 01 - 01)),
            Err(IssueError::Serial)
        );
        assert_eq!(
            OfflineCode::issue(&s, [0; 16], 1, date!(2019 - 12 - 31)),
            Err(IssueError::Dates(DateError::OutOfRange(date!(
                2019 - 12 - 31
            ))))
        );
        let last_day = date_of(u16::MAX - (VALIDITY_DAYS - 1));
        assert!(OfflineCode::issue(&s, [0; 16], 1, last_day).is_ok());
        let too_late = last_day.next_day().unwrap();
        assert_eq!(
            OfflineCode::issue(&s, [0; 16], 1, too_late),
            Err(IssueError::Dates(DateError::OutOfRange(too_late)))
        );
    }

    #[test]
    fn rotation_keeps_old_kids_verifying() {
        let old = signer(1);
        let new = SoftwareSigner::from_private_key(2, &[0x33; 32]).unwrap();
        let old_code = OfflineCode::issue(&old, [1; 16], 1, date!(2026 - 01 - 01)).unwrap();
        let new_code = OfflineCode::issue(&new, [2; 16], 1, date!(2026 - 01 - 01)).unwrap();
        let mut set = keys(&old);
        set.insert(2, new.public_key());
        assert!(OfflineCode::verify(&old_code.to_qr_text(), &set).is_ok());
        assert!(OfflineCode::verify(&new_code.to_qr_text(), &set).is_ok());
        // A key under the wrong kid does not verify.
        let swapped: KeySet = [(1, new.public_key()), (2, old.public_key())]
            .into_iter()
            .collect();
        assert_eq!(
            OfflineCode::verify(&old_code.to_qr_text(), &swapped),
            Err(CodeError::BadSignature)
        );
    }

    #[test]
    fn debug_does_not_dump_the_signature() {
        let code = OfflineCode::issue(&signer(1), [1; 16], 1, date!(2026 - 01 - 01)).unwrap();
        let shown = format!("{code:?}");
        assert!(shown.contains("serial: 1"), "{shown}");
        assert!(
            !shown.contains(&hex::encode(&code.signature()[..8])),
            "{shown}"
        );
    }

    fn any_code() -> impl Strategy<Value = (u8, [u8; 16], u16, u16)> {
        (
            any::<u8>(),
            any::<[u8; 16]>(),
            1..=u16::MAX,
            0..=(u16::MAX - (VALIDITY_DAYS - 1)),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn parse_of_encode_is_identity((kid, code_id, serial, day) in any_code()) {
            let s = SoftwareSigner::from_private_key(kid, &[0x11; 32]).unwrap();
            let code = OfflineCode::issue(&s, code_id, serial, date_of(day)).unwrap();
            let text = code.to_qr_text();
            prop_assert_eq!(text.len(), QR_TEXT_LEN);
            let set: KeySet = [(kid, s.public_key())].into_iter().collect();
            prop_assert_eq!(OfflineCode::verify(&text, &set), Ok(code));
            prop_assert_eq!(code.body().issued_day(), day);
            prop_assert_eq!(day_number(code.body().issued_on()), Ok(day));
        }

        #[test]
        fn body_round_trips_without_signing((kid, code_id, serial, day) in any_code()) {
            let body = CodeBody::new(kid, code_id, serial, date_of(day)).unwrap();
            prop_assert_eq!(CodeBody::from_bytes(&body.to_bytes()), Ok(body));
        }

        #[test]
        fn never_panics_on_any_text(text in ".{0,300}") {
            let _ = OfflineCode::verify(&text, &KeySet::new());
        }

        #[test]
        fn never_panics_on_prefixed_alphabet_text(text in "[0-9A-Z $%*+./:-]{0,200}") {
            let _ = OfflineCode::decode_unverified(&format!("{PREFIX}{text}"));
        }

        #[test]
        fn never_panics_on_any_payload_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            let key = PublicKey::from_sec1_bytes(&signer(1).public_key().to_sec1_bytes()).unwrap();
            let set: KeySet = [(1, key)].into_iter().collect();
            let _ = OfflineCode::verify(&format!("{PREFIX}{}", base45::encode(&bytes)), &set);
        }
    }
}
