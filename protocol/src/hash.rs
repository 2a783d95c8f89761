//! SM3 (GB/T 32905) and HMAC-SM3: fingerprints, token hashes, and the keyed hashes that stand in
//! for ID numbers wherever a record must not hold the number itself.

use hmac::{KeyInit, Mac};
use sm3::{Digest, Sm3};

/// SM3 of `data`.
pub fn sm3(data: &[u8]) -> [u8; 32] {
    Sm3::digest(data).into()
}

/// HMAC-SM3 (RFC 2104 with SM3) of `data` under `key`.
pub fn hmac_sm3(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = match <hmac::Hmac<Sm3> as KeyInit>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => return [0; 32],
    };
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Compares two byte strings in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed with the independent `gmssl` SM3 and a textbook HMAC.
    #[test]
    fn sm3_standard_example() {
        assert_eq!(
            hex::encode(sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn hmac_sm3_vectors() {
        assert_eq!(
            hex::encode(hmac_sm3(b"kiosk-secret", b"310101194912310015")),
            "a9b2b9d2a9176233f2bd8cac2e7215dd0907e7480a46503f2938b0ab3ac73ec9"
        );
        let long_key: Vec<u8> = (0..100).collect();
        assert_eq!(
            hex::encode(hmac_sm3(&long_key, b"")),
            "63da9f29b1c97d1440b90085eeeee118f0f67810ae44c8af6337be5df28c2ac5"
        );
    }

    #[test]
    fn constant_time_eq_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}
