//! Base45 (RFC 9285): bytes as text in the QR alphanumeric set, so a QR code can use its compact
//! alphanumeric mode. Decoding is strict: every malformed input is a typed error, never a panic.

use thiserror::Error;

/// The 45 characters of RFC 9285, in value order. They are exactly the QR alphanumeric set.
pub const ALPHABET: &[u8; 45] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

/// Why a text is not valid base45.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum Base45Error {
    /// A character outside the base45 alphabet (lower-case letters included).
    #[error("character {found:?} at position {position} is not in the base45 alphabet")]
    Character {
        /// Zero-based position of the character in the input.
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The length leaves a single dangling character (valid lengths are 3n or 3n + 2).
    #[error("base45 text of length {0} has a dangling character")]
    Length(usize),
    /// A group encodes a value larger than its bytes can hold.
    #[error("base45 group at position {position} overflows")]
    Overflow {
        /// Zero-based position of the group's first character.
        position: usize,
    },
}

/// Encodes bytes as base45 text.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(2) * 3);
    let mut push = |value: u32| {
        // `value % 45` is always a valid index into the 45-byte alphabet.
        let digit = ALPHABET.get((value % 45) as usize).copied().unwrap_or(b'0');
        out.push(char::from(digit));
    };
    let (pairs, rest) = bytes.as_chunks::<2>();
    for &[high, low] in pairs {
        let n = u32::from(high) << 8 | u32::from(low);
        push(n);
        push(n / 45);
        push(n / 2025);
    }
    if let [last] = rest {
        let n = u32::from(*last);
        push(n);
        push(n / 45);
    }
    out
}

/// Decodes base45 text into bytes.
pub fn decode(text: &str) -> Result<Vec<u8>, Base45Error> {
    let mut values = Vec::with_capacity(text.len());
    for (position, found) in text.chars().enumerate() {
        let value = value_of(found).ok_or(Base45Error::Character { position, found })?;
        values.push(u32::from(value));
    }
    if values.len() % 3 == 1 {
        return Err(Base45Error::Length(values.len()));
    }
    let mut out = Vec::with_capacity(values.len() / 3 * 2 + 1);
    let (groups, rest) = values.as_chunks::<3>();
    for (index, &[c, d, e]) in groups.iter().enumerate() {
        let n = c + d * 45 + e * 2025;
        let [_, _, high, low] = n.to_be_bytes();
        if n > 0xFFFF {
            return Err(Base45Error::Overflow {
                position: index * 3,
            });
        }
        out.extend_from_slice(&[high, low]);
    }
    if let [a, b] = rest {
        let n = a + b * 45;
        let byte = u8::try_from(n).map_err(|_| Base45Error::Overflow {
            position: values.len() - 2,
        })?;
        out.push(byte);
    }
    Ok(out)
}

fn value_of(c: char) -> Option<u8> {
    let byte = u8::try_from(c).ok()?;
    ALPHABET
        .iter()
        .position(|&a| a == byte)
        .and_then(|p| u8::try_from(p).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The examples of RFC 9285 section 4.
    #[test]
    fn rfc_9285_examples() {
        let cases: &[(&[u8], &str)] = &[
            (b"AB", "BB8"),
            (b"Hello!!", "%69 VD92EX0"),
            (b"base-45", "UJCLQE7W581"),
            (b"ietf!", "QED8WEX0"),
            (b"", ""),
        ];
        for (bytes, text) in cases {
            assert_eq!(encode(bytes), *text);
            assert_eq!(decode(text).unwrap(), *bytes);
        }
    }

    #[test]
    fn rejects_each_kind_of_bad_input() {
        assert_eq!(
            decode("GGW"),
            Err(Base45Error::Overflow { position: 0 }),
            "RFC 9285 says GGW (65536) must be rejected"
        );
        assert_eq!(decode("ZZ"), Err(Base45Error::Overflow { position: 0 }));
        assert_eq!(decode("BB8B"), Err(Base45Error::Length(4)));
        assert_eq!(
            decode("bb8"),
            Err(Base45Error::Character {
                position: 0,
                found: 'b'
            })
        );
        assert_eq!(
            decode("BB码"),
            Err(Base45Error::Character {
                position: 2,
                found: '码'
            })
        );
    }

    #[test]
    fn largest_values_still_decode() {
        assert_eq!(decode("FGW").unwrap(), vec![0xFF, 0xFF]);
        assert_eq!(decode("U5").unwrap(), vec![0xFF]);
        assert_eq!(encode(&[0xFF, 0xFF]), "FGW");
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let text = encode(&bytes);
            prop_assert!(text.bytes().all(|b| ALPHABET.contains(&b)));
            prop_assert_eq!(text.len(), bytes.len() / 2 * 3 + bytes.len() % 2 * 2);
            prop_assert_eq!(decode(&text).unwrap(), bytes);
        }

        #[test]
        fn never_panics_on_any_text(text in ".*") {
            let _ = decode(&text);
        }

        #[test]
        fn never_panics_on_alphabet_text(text in "[0-9A-Z $%*+./:-]{0,64}") {
            if let Ok(bytes) = decode(&text) {
                prop_assert_eq!(encode(&bytes), text);
            }
        }
    }
}
