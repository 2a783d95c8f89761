//! The pure framer: bytes and time in, scan events out.
//!
//! A serial scanner sends each code as a run of bytes followed by a terminator (CR, LF or CR LF),
//! and the run may arrive in several reads. [`Framer`] accumulates the bytes and cuts frames:
//!
//! - at a terminator: CR, LF and CR LF all end a frame. A CR followed by an LF (in the same chunk or
//!   the next) is one terminator, because the empty frame between them is ignored;
//! - after an idle gap ([`FramerConfig::idle_gap`], 100 ms by default): bytes followed by silence
//!   form a frame, for scanners configured without a terminator. [`Framer::poll`] notices the gap;
//!   [`Framer::push`] also closes a pending frame first when the new bytes come after a gap;
//! - a frame longer than [`FramerConfig::max_len`] bytes (1 KiB by default) is dropped up to the
//!   next terminator (or idle gap) and reported once as [`ScanError::TooLong`].
//!
//! A finished frame is then cleaned and checked, in this order: the configured prefix is stripped,
//! then an AIM symbology identifier (`]Q1`: a `]`, a letter and a letter or digit), then the
//! configured suffix (each only when present and configured; all off by default). A frame that is
//! empty after stripping is ignored. A frame that is not UTF-8, or holds a control character, is an
//! error event, never a payload. Finally a payload equal to one already reported within
//! [`FramerConfig::repeat_window`] (3 s by default, counted from the time it was reported) is
//! suppressed: a scanner keeps re-reading a code while it stays in view.
//!
//! The framer never reads a clock: every call takes the current time as a value, so it is
//! deterministic under test.

use std::time::{Duration, Instant};

/// Default idle gap after which pending bytes form a frame.
pub const DEFAULT_IDLE_GAP: Duration = Duration::from_millis(100);
/// Default length cap of one frame, in bytes, before any stripping.
pub const DEFAULT_MAX_LEN: usize = 1024;
/// Default window within which a repeated payload is suppressed.
pub const DEFAULT_REPEAT_WINDOW: Duration = Duration::from_secs(3);

/// How many distinct recent payloads are remembered for repeat suppression.
const RECENT_CAPACITY: usize = 64;

/// How bytes are cut into frames and which frames become payloads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FramerConfig {
    /// Silence after which pending bytes without a terminator form a frame.
    pub idle_gap: Duration,
    /// Longest accepted frame in bytes (before stripping); longer input is dropped and reported.
    pub max_len: usize,
    /// Bytes stripped from the start of a frame when present; empty means off.
    pub prefix: Vec<u8>,
    /// Bytes stripped from the end of a frame when present; empty means off.
    pub suffix: Vec<u8>,
    /// Strip a leading AIM symbology identifier such as `]Q1` when present.
    pub strip_aim_id: bool,
    /// A payload already reported within this window is suppressed; zero turns suppression off.
    pub repeat_window: Duration,
}

impl Default for FramerConfig {
    fn default() -> Self {
        Self {
            idle_gap: DEFAULT_IDLE_GAP,
            max_len: DEFAULT_MAX_LEN,
            prefix: Vec::new(),
            suffix: Vec::new(),
            strip_aim_id: false,
            repeat_window: DEFAULT_REPEAT_WINDOW,
        }
    }
}

/// What the framer makes of the bytes: a payload or an error about one frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScanEvent {
    /// One scanned code, cleaned and checked.
    Payload(String),
    /// A frame that could not become a payload.
    Error(ScanError),
}

/// Why a frame did not become a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// The frame went past the length cap; its bytes were dropped up to the next terminator.
    #[error("scan longer than {limit} bytes was dropped")]
    TooLong {
        /// The length cap in bytes.
        limit: usize,
    },
    /// The frame is not valid UTF-8 (often a baud-rate mismatch).
    #[error("scan of {len} bytes is not valid UTF-8 (check the baud rate)")]
    NotUtf8 {
        /// Length of the frame in bytes, after stripping.
        len: usize,
    },
    /// The frame holds a control character.
    #[error("scan contains control character U+{code:04X} at byte {offset}")]
    ControlCharacter {
        /// The character's code point.
        code: u32,
        /// Its byte offset in the frame, after stripping.
        offset: usize,
    },
}

/// The framing state machine. Feed it bytes with [`Framer::push`] and call [`Framer::poll`]
/// when no bytes arrive, both with the current time.
#[derive(Debug, Clone)]
pub struct Framer {
    config: FramerConfig,
    /// Bytes of the frame being received.
    buf: Vec<u8>,
    /// The current frame went past the cap: drop bytes until the next terminator or gap.
    skipping: bool,
    /// When the last bytes arrived.
    last_byte_at: Option<Instant>,
    /// Recently reported payloads and when they were reported.
    recent: Vec<(String, Instant)>,
}

impl Framer {
    /// A framer with the given configuration and nothing pending.
    pub fn new(config: FramerConfig) -> Self {
        Self {
            config,
            buf: Vec::new(),
            skipping: false,
            last_byte_at: None,
            recent: Vec::new(),
        }
    }

    /// The configuration this framer runs with.
    pub fn config(&self) -> &FramerConfig {
        &self.config
    }

    /// Feeds bytes that arrived at `now` and returns the events they complete, in order.
    ///
    /// If a frame was pending and the idle gap passed before these bytes, that frame is closed
    /// first.
    pub fn push(&mut self, bytes: &[u8], now: Instant) -> Vec<ScanEvent> {
        let mut events: Vec<ScanEvent> = self.poll(now).into_iter().collect();
        if bytes.is_empty() {
            return events;
        }
        for &byte in bytes {
            if byte == b'\r' || byte == b'\n' {
                events.extend(self.finish(now));
            } else if self.skipping {
                // Dropping an over-long frame up to its terminator.
            } else if self.buf.len() >= self.config.max_len {
                self.buf.clear();
                self.skipping = true;
                events.push(ScanEvent::Error(ScanError::TooLong {
                    limit: self.config.max_len,
                }));
            } else {
                self.buf.push(byte);
            }
        }
        self.last_byte_at = Some(now);
        events
    }

    /// Closes the pending frame if the idle gap has passed since its last bytes at `now`.
    pub fn poll(&mut self, now: Instant) -> Option<ScanEvent> {
        match self.deadline() {
            Some(deadline) if now >= deadline => self.finish(now),
            _ => None,
        }
    }

    /// When [`Framer::poll`] should next be called: the end of the idle gap of a pending frame,
    /// or `None` when nothing is pending.
    pub fn deadline(&self) -> Option<Instant> {
        if !self.pending() {
            return None;
        }
        let last = self.last_byte_at?;
        // A gap too large to represent never ends.
        last.checked_add(self.config.idle_gap)
    }

    /// Whether bytes of an unfinished frame are waiting.
    pub fn pending(&self) -> bool {
        !self.buf.is_empty() || self.skipping
    }

    /// Drops the unfinished frame, if any (the port went away mid-frame), keeping the memory of
    /// recent payloads for repeat suppression.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.skipping = false;
        self.last_byte_at = None;
    }

    /// Ends the current frame and turns it into an event, if it makes one.
    fn finish(&mut self, now: Instant) -> Option<ScanEvent> {
        let skipped = std::mem::take(&mut self.skipping);
        let frame = std::mem::take(&mut self.buf);
        if skipped || frame.is_empty() {
            // An over-long frame was reported when it crossed the cap; an empty one is nothing.
            return None;
        }
        self.decode(&frame, now)
    }

    /// Strips, checks and de-duplicates one complete frame.
    fn decode(&mut self, frame: &[u8], now: Instant) -> Option<ScanEvent> {
        let body = self.strip(frame);
        if body.is_empty() {
            return None;
        }
        let Ok(text) = std::str::from_utf8(body) else {
            return Some(ScanEvent::Error(ScanError::NotUtf8 { len: body.len() }));
        };
        if let Some((offset, c)) = text.char_indices().find(|(_, c)| c.is_control()) {
            return Some(ScanEvent::Error(ScanError::ControlCharacter {
                code: u32::from(c),
                offset,
            }));
        }
        if self.is_repeat(text, now) {
            return None;
        }
        Some(ScanEvent::Payload(text.to_owned()))
    }

    /// Removes the configured prefix, AIM identifier and suffix, each when present.
    fn strip<'a>(&self, frame: &'a [u8]) -> &'a [u8] {
        let mut body = frame
            .strip_prefix(self.config.prefix.as_slice())
            .unwrap_or(frame);
        if self.config.strip_aim_id
            && let [b']', symbology, modifier, rest @ ..] = body
            && symbology.is_ascii_alphabetic()
            && modifier.is_ascii_alphanumeric()
        {
            body = rest;
        }
        body.strip_suffix(self.config.suffix.as_slice())
            .unwrap_or(body)
    }

    /// Whether `text` was reported within the repeat window; if not, remembers it as reported now.
    fn is_repeat(&mut self, text: &str, now: Instant) -> bool {
        let window = self.config.repeat_window;
        self.recent
            .retain(|(_, at)| now.saturating_duration_since(*at) < window);
        if self.recent.iter().any(|(seen, _)| seen == text) {
            return true;
        }
        if window.is_zero() {
            return false;
        }
        if self.recent.len() >= RECENT_CAPACITY {
            self.recent.remove(0);
        }
        self.recent.push((text.to_owned(), now));
        false
    }
}

impl Default for Framer {
    fn default() -> Self {
        Self::new(FramerConfig::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(s: &str) -> ScanEvent {
        ScanEvent::Payload(s.to_owned())
    }

    #[test]
    fn terminators_cr_lf_crlf() {
        let t = Instant::now();
        let mut f = Framer::default();
        assert_eq!(
            f.push(b"A\rB\nC\r\nD\n\r", t),
            vec![payload("A"), payload("B"), payload("C"), payload("D")]
        );
        assert!(!f.pending());
    }

    #[test]
    fn crlf_split_across_chunks_is_one_terminator() {
        let t = Instant::now();
        let mut f = Framer::default();
        assert_eq!(f.push(b"ABC\r", t), vec![payload("ABC")]);
        assert_eq!(f.push(b"\nDEF\r", t), vec![payload("DEF")]);
    }

    #[test]
    fn idle_gap_closes_a_frame() {
        let t = Instant::now();
        let mut f = Framer::default();
        assert!(f.push(b"AB", t).is_empty());
        assert_eq!(f.deadline(), Some(t + DEFAULT_IDLE_GAP));
        assert_eq!(f.poll(t + Duration::from_millis(99)), None);
        assert!(f.push(b"C", t + Duration::from_millis(99)).is_empty());
        assert_eq!(f.poll(t + Duration::from_millis(150)), None);
        assert_eq!(f.poll(t + Duration::from_millis(199)), Some(payload("ABC")));
        assert_eq!(f.poll(t + Duration::from_secs(10)), None);
    }

    #[test]
    fn bytes_after_a_gap_close_the_pending_frame_first() {
        let t = Instant::now();
        let mut f = Framer::default();
        assert!(f.push(b"ONE", t).is_empty());
        assert_eq!(
            f.push(b"TWO\r", t + Duration::from_millis(500)),
            vec![payload("ONE"), payload("TWO")]
        );
    }

    #[test]
    fn over_long_input_is_dropped_to_the_terminator_and_reported_once() {
        let t = Instant::now();
        let mut f = Framer::new(FramerConfig {
            max_len: 4,
            ..FramerConfig::default()
        });
        assert_eq!(f.push(b"ABCD\r", t), vec![payload("ABCD")]);
        let too_long = ScanEvent::Error(ScanError::TooLong { limit: 4 });
        assert_eq!(f.push(b"ABCDE", t), vec![too_long.clone()]);
        assert!(f.push(b"FGHIJKLMNOP", t).is_empty());
        assert_eq!(f.push(b"Q\r\nOK\r", t), vec![payload("OK")]);
        // An idle gap also ends the dropping.
        assert_eq!(f.push(b"ABCDEFG", t), vec![too_long]);
        assert_eq!(f.poll(t + Duration::from_secs(1)), None);
        assert!(!f.pending());
        assert_eq!(
            f.push(b"NEW\r", t + Duration::from_secs(1)),
            vec![payload("NEW")]
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_payload() {
        let t = Instant::now();
        let mut f = Framer::default();
        assert_eq!(
            f.push(&[0xFF, 0xFE, b'\r'], t),
            vec![ScanEvent::Error(ScanError::NotUtf8 { len: 2 })]
        );
        assert_eq!(
            f.push(b"A\x1bB\r", t),
            vec![ScanEvent::Error(ScanError::ControlCharacter {
                code: 0x1b,
                offset: 1
            })]
        );
        assert_eq!(
            f.push("X\u{85}\r".as_bytes(), t),
            vec![ScanEvent::Error(ScanError::ControlCharacter {
                code: 0x85,
                offset: 1
            })]
        );
        assert_eq!(f.push("随申码\r".as_bytes(), t), vec![payload("随申码")]);
    }

    #[test]
    fn repeats_within_the_window_are_suppressed() {
        let t = Instant::now();
        let mut f = Framer::default();
        assert_eq!(f.push(b"A\rA\r", t), vec![payload("A")]);
        assert_eq!(
            f.push(b"B\rA\r", t + Duration::from_secs(1)),
            vec![payload("B")]
        );
        // The window counts from when "A" was reported, not from its last re-read.
        assert_eq!(
            f.push(b"A\rB\r", t + Duration::from_secs(3)),
            vec![payload("A")]
        );
        assert_eq!(
            f.push(b"B\r", t + Duration::from_millis(4001)),
            vec![payload("B")]
        );
    }

    #[test]
    fn zero_window_turns_suppression_off() {
        let t = Instant::now();
        let mut f = Framer::new(FramerConfig {
            repeat_window: Duration::ZERO,
            ..FramerConfig::default()
        });
        assert_eq!(f.push(b"A\rA\r", t), vec![payload("A"), payload("A")]);
    }

    #[test]
    fn stripping_prefix_aim_and_suffix() {
        let t = Instant::now();
        let mut f = Framer::new(FramerConfig {
            prefix: b"\x02".to_vec(),
            suffix: b"\x03".to_vec(),
            strip_aim_id: true,
            repeat_window: Duration::ZERO,
            ..FramerConfig::default()
        });
        assert_eq!(f.push(b"\x02]Q1HELLO\x03\r", t), vec![payload("HELLO")]);
        assert_eq!(f.push(b"]Q1HELLO\r", t), vec![payload("HELLO")]);
        // Absent parts are left alone; a frame of only a prefix is nothing.
        assert_eq!(f.push(b"HELLO\r", t), vec![payload("HELLO")]);
        assert_eq!(f.push(b"]Q\r", t), vec![payload("]Q")]);
        assert_eq!(f.push(b"\x02\x03\r", t), vec![]);
    }

    #[test]
    fn stripping_is_off_by_default() {
        let t = Instant::now();
        let mut f = Framer::default();
        assert_eq!(f.push(b"]Q1HELLO\r", t), vec![payload("]Q1HELLO")]);
    }

    #[test]
    fn reset_drops_a_partial_frame() {
        let t = Instant::now();
        let mut f = Framer::default();
        assert!(f.push(b"PART", t).is_empty());
        f.reset();
        assert_eq!(f.poll(t + Duration::from_secs(1)), None);
        assert_eq!(
            f.push(b"WHOLE\r", t + Duration::from_secs(1)),
            vec![payload("WHOLE")]
        );
    }
}
