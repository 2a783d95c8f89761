//! The APDU dialect: how a SAM frame travels through a PC/SC reader.
//!
//! A PC/SC reader with the security module (SAM) inside does not speak SAM frames on the wire; it
//! takes APDUs. How the frames are carried is vendor convention, so it is kept in this one small,
//! replaceable piece: a [`Dialect`] turns a SAM command frame into a command APDU, and the
//! reader's response APDU back into a SAM response frame. Everything above it (find → select →
//! read, status codes, retries) is the same for every reader, in [`crate::read`].
//!
//! # The tunnel dialect
//!
//! The dialect supported first, [`TunnelDialect`], is a transparent tunnel to the SAM:
//!
//! * command APDU: `FF 00 00 00 Lc <SAM command frame>`: CLA `FF`, INS `00`, P1 `00`, P2 `00`,
//!   one short `Lc` byte with the frame's length (SAM command frames are 10 to 255 bytes), then the
//!   whole frame, preamble and checksum included; no `Le`;
//! * response APDU: `<SAM response frame> 90 00`. Any other status word is an error of the reader
//!   ([`ApduError::StatusWord`]), never a SAM status; those travel inside the frame.
//!
//! Exact bytes (the checksum is the XOR of every byte from the length through the last data byte):
//!
//! | step | command APDU | response APDU |
//! |---|---|---|
//! | find card | `FF 00 00 00 0A AA AA AA 96 69 00 03 20 01 22` | `AA AA AA 96 69 00 04 00 00 9F 9B 90 00` (found) |
//! | find card | same | `AA AA AA 96 69 00 04 00 00 80 84 90 00` (no card) |
//! | select card | `FF 00 00 00 0A AA AA AA 96 69 00 03 20 02 21` | `AA AA AA 96 69 00 04 00 00 90 94 90 00` |
//! | read text + photo | `FF 00 00 00 0A AA AA AA 96 69 00 03 30 01 32` | `AA AA AA 96 69 05 08 00 00 90 01 00 04 00` + 256 text bytes + 1024 photo bytes + checksum + `90 00` (1297 bytes) |
//!
//! Some readers append data to the find and select answers (4 and 8 zero bytes); the frame's length
//! says so and the codec accepts it. The read answer is longer than a short APDU response, so the
//! PC/SC backend receives into a buffer of the extended size.
//!
//! The card-side half ([`TunnelDialect::frame_from_command`], [`TunnelDialect::response_apdu`]) is
//! what the emulated reader in [`crate::emulator`] uses.

/// The status word of a successful response APDU.
pub const SW_OK: [u8; 2] = [0x90, 0x00];
/// Status word "wrong length" (ISO 7816-4), answered to a malformed tunnel APDU.
pub const SW_WRONG_LENGTH: [u8; 2] = [0x67, 0x00];
/// Status word "incorrect P1 P2" (ISO 7816-4).
pub const SW_WRONG_P1P2: [u8; 2] = [0x6B, 0x00];
/// Status word "instruction not supported" (ISO 7816-4).
pub const SW_INS_NOT_SUPPORTED: [u8; 2] = [0x6D, 0x00];
/// Status word "class not supported" (ISO 7816-4).
pub const SW_CLA_NOT_SUPPORTED: [u8; 2] = [0x6E, 0x00];

/// The largest frame a short `Lc` can announce.
const MAX_SHORT_LC: usize = 255;

/// Why a frame could not be wrapped, or a reader's answer unwrapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApduError {
    /// The SAM frame does not fit a short command APDU.
    #[error("a SAM frame of {len} bytes does not fit one short APDU (1 to 255 bytes)")]
    FrameLength {
        /// The frame's length.
        len: usize,
    },
    /// The reader's answer has no status word.
    #[error("the reader answered {len} bytes, too few for a status word")]
    TooShort {
        /// How many bytes came back.
        len: usize,
    },
    /// The reader answered with a status word other than `90 00`.
    #[error("the reader answered status word {sw1:02X} {sw2:02X}")]
    StatusWord {
        /// First status byte.
        sw1: u8,
        /// Second status byte.
        sw2: u8,
    },
}

/// How SAM frames are carried in APDUs by one kind of reader.
///
/// Implement this for another vendor's convention; [`crate::pcsc::PcscReader::with_dialect`]
/// takes it.
pub trait Dialect: Send + Sync {
    /// A short name for logs and diagnostics.
    fn name(&self) -> &'static str;
    /// The command APDU that carries one SAM command frame.
    fn command_apdu(&self, frame: &[u8]) -> Result<Vec<u8>, ApduError>;
    /// The SAM response frame inside the reader's response APDU.
    fn response_frame(&self, apdu: &[u8]) -> Result<Vec<u8>, ApduError>;
}

/// The transparent tunnel: `FF 00 00 00 Lc <frame>`, answered by `<frame> 90 00`.
///
/// See the [module documentation](self) for the exact bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TunnelDialect;

impl TunnelDialect {
    /// The command header before `Lc`: CLA, INS, P1, P2.
    pub const HEADER: [u8; 4] = [0xFF, 0x00, 0x00, 0x00];

    /// Card side: the SAM frame inside a tunnel command APDU, or the status word to answer when
    /// the APDU is not one.
    pub fn frame_from_command<'a>(&self, apdu: &'a [u8]) -> Result<&'a [u8], [u8; 2]> {
        let Some((header, rest)) = apdu.split_first_chunk::<4>() else {
            return Err(SW_WRONG_LENGTH);
        };
        let [cla, ins, p1, p2] = *header;
        if cla != Self::HEADER[0] {
            return Err(SW_CLA_NOT_SUPPORTED);
        }
        if ins != Self::HEADER[1] {
            return Err(SW_INS_NOT_SUPPORTED);
        }
        if p1 != Self::HEADER[2] || p2 != Self::HEADER[3] {
            return Err(SW_WRONG_P1P2);
        }
        match rest.split_first() {
            Some((&lc, frame)) if lc != 0 && usize::from(lc) == frame.len() => Ok(frame),
            _ => Err(SW_WRONG_LENGTH),
        }
    }

    /// Card side: the response APDU carrying one SAM response frame.
    pub fn response_apdu(&self, frame: &[u8]) -> Vec<u8> {
        let mut apdu = Vec::with_capacity(frame.len() + 2);
        apdu.extend_from_slice(frame);
        apdu.extend_from_slice(&SW_OK);
        apdu
    }
}

impl Dialect for TunnelDialect {
    fn name(&self) -> &'static str {
        "tunnel (FF 00 00 00 Lc <frame>)"
    }

    fn command_apdu(&self, frame: &[u8]) -> Result<Vec<u8>, ApduError> {
        let lc = match u8::try_from(frame.len()) {
            Ok(lc) if lc != 0 && frame.len() <= MAX_SHORT_LC => lc,
            _ => return Err(ApduError::FrameLength { len: frame.len() }),
        };
        let mut apdu = Vec::with_capacity(frame.len() + 5);
        apdu.extend_from_slice(&Self::HEADER);
        apdu.push(lc);
        apdu.extend_from_slice(frame);
        Ok(apdu)
    }

    fn response_frame(&self, apdu: &[u8]) -> Result<Vec<u8>, ApduError> {
        let Some((frame, sw)) = apdu.split_last_chunk::<2>() else {
            return Err(ApduError::TooShort { len: apdu.len() });
        };
        if *sw != SW_OK {
            let [sw1, sw2] = *sw;
            return Err(ApduError::StatusWord { sw1, sw2 });
        }
        Ok(frame.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIND: [u8; 10] = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01, 0x22];
    const FOUND: [u8; 11] = [
        0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x9F, 0x9B,
    ];

    #[test]
    fn find_card_goes_out_as_documented() {
        assert_eq!(
            TunnelDialect.command_apdu(&FIND),
            Ok(vec![
                0xFF, 0x00, 0x00, 0x00, 0x0A, 0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x01,
                0x22
            ])
        );
    }

    #[test]
    fn select_and_read_go_out_as_documented() {
        let select = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x20, 0x02, 0x21];
        let read = [0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x03, 0x30, 0x01, 0x32];
        for frame in [select, read] {
            let mut expected = vec![0xFF, 0x00, 0x00, 0x00, 0x0A];
            expected.extend_from_slice(&frame);
            assert_eq!(TunnelDialect.command_apdu(&frame), Ok(expected));
        }
    }

    #[test]
    fn the_answer_to_find_comes_back_as_documented() {
        let apdu = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x9F, 0x9B, 0x90, 0x00,
        ];
        assert_eq!(TunnelDialect.response_frame(&apdu), Ok(FOUND.to_vec()));
        let no_card = [
            0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x00, 0x04, 0x00, 0x00, 0x80, 0x84, 0x90, 0x00,
        ];
        assert_eq!(
            TunnelDialect.response_frame(&no_card),
            Ok(no_card[..11].to_vec())
        );
    }

    #[test]
    fn a_long_read_answer_passes_whole() {
        let mut frame = vec![0xAA, 0xAA, 0xAA, 0x96, 0x69, 0x05, 0x08, 0x00, 0x00, 0x90];
        frame.resize(1295, 0x20);
        let apdu = TunnelDialect.response_apdu(&frame);
        assert_eq!(apdu.len(), 1297);
        assert_eq!(apdu[1295..], [0x90, 0x00]);
        assert_eq!(TunnelDialect.response_frame(&apdu), Ok(frame));
    }

    #[test]
    fn any_other_status_word_is_an_error() {
        assert_eq!(
            TunnelDialect.response_frame(&[0x6A, 0x82]),
            Err(ApduError::StatusWord {
                sw1: 0x6A,
                sw2: 0x82
            })
        );
        let mut apdu = FOUND.to_vec();
        apdu.extend_from_slice(&[0x6F, 0x00]);
        assert_eq!(
            TunnelDialect.response_frame(&apdu),
            Err(ApduError::StatusWord {
                sw1: 0x6F,
                sw2: 0x00
            })
        );
        assert_eq!(
            TunnelDialect.response_frame(&[]),
            Err(ApduError::TooShort { len: 0 })
        );
        assert_eq!(
            TunnelDialect.response_frame(&[0x90]),
            Err(ApduError::TooShort { len: 1 })
        );
    }

    #[test]
    fn frames_that_do_not_fit_a_short_apdu_are_refused() {
        assert_eq!(
            TunnelDialect.command_apdu(&[]),
            Err(ApduError::FrameLength { len: 0 })
        );
        assert_eq!(
            TunnelDialect.command_apdu(&[0; 256]),
            Err(ApduError::FrameLength { len: 256 })
        );
        assert_eq!(
            TunnelDialect.command_apdu(&[0; 255]).map(|a| a.len()),
            Ok(260)
        );
    }

    #[test]
    fn the_card_side_unwraps_and_wraps() {
        let apdu = TunnelDialect.command_apdu(&FIND).unwrap();
        assert_eq!(TunnelDialect.frame_from_command(&apdu), Ok(&FIND[..]));
        let mut expected = FOUND.to_vec();
        expected.extend_from_slice(&[0x90, 0x00]);
        assert_eq!(TunnelDialect.response_apdu(&FOUND), expected);
    }

    #[test]
    fn the_card_side_answers_malformed_apdus_with_a_status_word() {
        let t = TunnelDialect;
        assert_eq!(t.frame_from_command(&[]), Err(SW_WRONG_LENGTH));
        assert_eq!(
            t.frame_from_command(&[0xFF, 0x00, 0x00]),
            Err(SW_WRONG_LENGTH)
        );
        assert_eq!(
            t.frame_from_command(&[0x00, 0xA4, 0x04, 0x00, 0x01, 0x00]),
            Err(SW_CLA_NOT_SUPPORTED)
        );
        assert_eq!(
            t.frame_from_command(&[0xFF, 0xB0, 0x00, 0x00, 0x00]),
            Err(SW_INS_NOT_SUPPORTED)
        );
        assert_eq!(
            t.frame_from_command(&[0xFF, 0x00, 0x01, 0x00, 0x01, 0x00]),
            Err(SW_WRONG_P1P2)
        );
        // No Lc, Lc of zero, Lc that disagrees with the data.
        assert_eq!(t.frame_from_command(&[0xFF, 0, 0, 0]), Err(SW_WRONG_LENGTH));
        assert_eq!(
            t.frame_from_command(&[0xFF, 0, 0, 0, 0]),
            Err(SW_WRONG_LENGTH)
        );
        assert_eq!(
            t.frame_from_command(&[0xFF, 0, 0, 0, 2, 0xAA]),
            Err(SW_WRONG_LENGTH)
        );
        assert_eq!(
            t.frame_from_command(&[0xFF, 0, 0, 0, 1, 0xAA, 0xBB]),
            Err(SW_WRONG_LENGTH)
        );
    }
}
