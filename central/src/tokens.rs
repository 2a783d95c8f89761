//! Tokens: random bearer and session tokens (only their SM3 hash is stored), and the 随申码
//! tokens the 随申办 app shows, which are signed by the service (HMAC-SM3 under a secret kept in
//! the data directory) so that identify can check them without a lookup.
//!
//! A 随申码 token is `SSB1:` + base64url(citizen id (8 bytes BE) ‖ expiry, unix seconds (8 bytes
//! BE) ‖ the first 16 bytes of the MAC over those 16 bytes). It carries no personal data.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use protocol::hash::{constant_time_eq, hmac_sm3, sm3};
use time::{Duration, OffsetDateTime};

use crate::model::CitizenId;

/// How long a 随申码 token shown on a phone stays valid.
pub const SUISHEN_CODE_TTL: Duration = Duration::minutes(10);
/// The prefix of a 随申码 token.
pub const SUISHEN_PREFIX: &str = "SSB1:";
const MAC_LEN: usize = 16;

/// A fresh random token: a prefix naming its use, then 32 random bytes in base64url.
pub fn random_token(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What is stored for a token: its SM3 hash.
pub fn token_hash(token: &str) -> [u8; 32] {
    sm3(token.as_bytes())
}

/// Why a 随申码 token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SuishenCodeError {
    /// Not a token of ours.
    #[error("not a 随申码 token")]
    Malformed,
    /// The MAC does not match.
    #[error("the 随申码 token's signature does not match")]
    BadSignature,
    /// Too old: the holder refreshes the code on the phone.
    #[error("the 随申码 token has expired")]
    Expired,
}

/// The secret that signs 随申码 tokens.
#[derive(Clone)]
pub struct SuishenSecret([u8; 32]);

impl std::fmt::Debug for SuishenSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SuishenSecret(..)")
    }
}

impl SuishenSecret {
    /// Loads the secret from `path`, creating it (mode 0600) on first use.
    pub fn load_or_create(path: &Path) -> std::io::Result<Self> {
        match fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .ok()
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| std::io::Error::other("the 随申码 secret file is corrupt"))?;
                Ok(Self(bytes))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                getrandom::fill(&mut bytes).map_err(std::io::Error::other)?;
                let tmp = path.with_extension("tmp");
                let mut file = fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&tmp)?;
                file.write_all(hex::encode(bytes).as_bytes())?;
                file.sync_all()?;
                fs::rename(&tmp, path)?;
                Ok(Self(bytes))
            }
            Err(e) => Err(e),
        }
    }

    /// A secret from bytes (tests).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A token for `citizen`, valid until `now` + [`SUISHEN_CODE_TTL`].
    pub fn issue(&self, citizen: CitizenId, now: OffsetDateTime) -> String {
        let expires = (now + SUISHEN_CODE_TTL).unix_timestamp();
        let mut payload = [0u8; 16];
        let (who, until) = payload.split_at_mut(8);
        who.copy_from_slice(&citizen.to_be_bytes());
        until.copy_from_slice(&expires.to_be_bytes());
        let mac = hmac_sm3(&self.0, &payload);
        let mut all = payload.to_vec();
        all.extend_from_slice(mac.get(..MAC_LEN).unwrap_or_default());
        format!("{SUISHEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(all))
    }

    /// The citizen a token names, if it is ours and not expired at `now`.
    pub fn check(&self, token: &str, now: OffsetDateTime) -> Result<CitizenId, SuishenCodeError> {
        let body = token
            .trim()
            .strip_prefix(SUISHEN_PREFIX)
            .ok_or(SuishenCodeError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SuishenCodeError::Malformed)?;
        let all: [u8; 16 + MAC_LEN] = bytes.try_into().map_err(|_| SuishenCodeError::Malformed)?;
        let (payload, mac) = all.split_at(16);
        let expected = hmac_sm3(&self.0, payload);
        if !constant_time_eq(mac, expected.get(..MAC_LEN).unwrap_or_default()) {
            return Err(SuishenCodeError::BadSignature);
        }
        let (citizen, expires) = payload.split_at(8);
        let citizen = i64::from_be_bytes(
            citizen
                .try_into()
                .map_err(|_| SuishenCodeError::Malformed)?,
        );
        let expires = i64::from_be_bytes(
            expires
                .try_into()
                .map_err(|_| SuishenCodeError::Malformed)?,
        );
        if now.unix_timestamp() > expires {
            return Err(SuishenCodeError::Expired);
        }
        Ok(citizen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use time::macros::datetime;

    #[test]
    fn suishen_tokens_check_and_expire() {
        let secret = SuishenSecret::from_bytes([9; 32]);
        let now = datetime!(2026-11-21 10:00 +8);
        let token = secret.issue(42, now);
        assert_eq!(secret.check(&token, now), Ok(42));
        assert_eq!(secret.check(&token, now + Duration::minutes(10)), Ok(42));
        assert_eq!(
            secret.check(&token, now + Duration::minutes(10) + Duration::seconds(1)),
            Err(SuishenCodeError::Expired)
        );
        let other = SuishenSecret::from_bytes([8; 32]);
        assert_eq!(
            other.check(&token, now),
            Err(SuishenCodeError::BadSignature)
        );
        let mut tampered = token.clone().into_bytes();
        let last = tampered.len() - 1;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert!(secret.check(&tampered, now).is_err());
        assert_eq!(secret.check("hello", now), Err(SuishenCodeError::Malformed));
    }

    #[test]
    fn secret_file_is_private_and_stable() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("suishen.secret");
        let a = SuishenSecret::load_or_create(&path).unwrap();
        let b = SuishenSecret::load_or_create(&path).unwrap();
        assert_eq!(a.0, b.0);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn random_tokens_differ_and_hash() {
        let a = random_token("v_").unwrap();
        let b = random_token("v_").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("v_"));
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    proptest! {
        #[test]
        fn check_never_panics(text in ".{0,80}") {
            let secret = SuishenSecret::from_bytes([1; 32]);
            let _ = secret.check(&text, datetime!(2026-11-21 10:00 +8));
        }
    }
}
