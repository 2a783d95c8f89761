//! The fuzz target bodies: each takes arbitrary bytes, feeds them to one parser, and checks what
//! must hold whatever the bytes (a panic is a finding: the parsers must return typed errors, and
//! what they accept must round-trip). Each returns a small number naming the outcome's kind, which
//! the stable driver uses to keep inputs that reach a new kind of outcome (libFuzzer ignores it).
//!
//! Shared by the libFuzzer targets (`fuzz_targets/`), the stable driver (`fuzz-stable`) and the
//! workspace test that runs every body for a few seconds (`tests/reliability_fuzz.rs`).

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use idcard::sam::{self, Status};
use printer::PrinterStatus;
use printer::status::{StatusAnswers, is_valid_answer, map_answers};
use protocol::{KeySet, OfflineCode, PublicKey, base45};
use scanner::{Framer, FramerConfig, ScanEvent};

/// The names of the targets, as `cargo fuzz` and `fuzz-stable` know them.
pub const TARGETS: [&str; 5] = [
    "sam_codec",
    "text_block",
    "scanner_framer",
    "offline_code",
    "printer_status",
];

/// Runs the target called `name` on `data`; `None` for an unknown name.
pub fn run(name: &str, data: &[u8]) -> Option<u64> {
    Some(match name {
        "sam_codec" => sam_codec(data),
        "text_block" => text_block(data),
        "scanner_framer" => scanner_framer(data),
        "offline_code" => offline_code(data),
        "printer_status" => printer_status(data),
        _ => return None,
    })
}

fn kind<T: Hash>(parts: &[T]) -> u64 {
    let mut hasher = DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

fn outcome<T, E>(result: &Result<T, E>) -> u64 {
    match result {
        Ok(_) => 0,
        Err(e) => kind(&[std::mem::discriminant(e)]) | 1,
    }
}

/// The SAM frame codec: frame length, response and command parsing, read answers. Whatever it
/// accepts re-encodes to the same bytes; whatever a frame says it carries, it returns.
pub fn sam_codec(data: &[u8]) -> u64 {
    let length = sam::frame_length(data);
    if let Ok(total) = &length {
        assert!(*total >= 7, "a frame is at least its header");
    }
    let response = sam::parse_response(data);
    let mut read = 0;
    if let Ok(resp) = &response {
        assert_eq!(
            sam::encode_response(resp.status, &resp.data),
            data,
            "a parsed response re-encodes to its bytes"
        );
        let text = sam::parse_read_payload(resp);
        let fingerprint = sam::parse_read_fingerprint_payload(resp);
        read = outcome(&text) ^ outcome(&fingerprint).rotate_left(7);
    }
    let command = sam::parse_command(data);
    if let Ok(cmd) = &command {
        let (code, para) = cmd.code();
        assert_eq!(
            data.get(7..9),
            Some(&[code, para][..]),
            "a parsed command is the one its bytes name"
        );
        assert_eq!(
            sam::parse_command(&sam::encode_command(*cmd)).ok(),
            Some(*cmd),
            "a command round-trips"
        );
    }
    // The other way round: any status and data (up to a frame's size) round-trip.
    if let Some((&status, body)) = data.split_first() {
        let status = Status::from_byte(status);
        let frame = sam::encode_response(status, body);
        let parsed = sam::parse_response(&frame).expect("an encoded response parses");
        assert_eq!(parsed.status.to_byte(), status.to_byte());
        assert!(body.starts_with(&parsed.data), "the data comes back");
    }
    kind(&[
        outcome(&length),
        outcome(&response),
        outcome(&command),
        read,
    ])
}

/// The 256-byte text block of an ID card. A block that parses encodes back to a block that
/// parses to the same card.
pub fn text_block(data: &[u8]) -> u64 {
    // Most inputs would be rejected for their length alone: fit them to 256 bytes.
    let mut block = [0x20u8; idcard::text::TEXT_BLOCK_LEN];
    for (slot, byte) in block.iter_mut().zip(data) {
        *slot = *byte;
    }
    let exact = idcard::text::parse_text_block(data);
    let fitted = idcard::text::parse_text_block(&block);
    if let Ok(card) = &fitted {
        let again = idcard::text::encode_text_block(card);
        let reparsed = idcard::text::parse_text_block(&again).expect("an encoded card parses");
        assert!(reparsed == *card, "a parsed card survives encoding");
        // Masked views never show the full number.
        let masked = card.masked_view();
        assert!(!format!("{masked:?}").contains(card.id_number.as_str()));
    }
    kind(&[outcome(&exact), outcome(&fitted)])
}

/// The scanner framer: bytes and gaps in, payloads out. The first byte chooses the settings;
/// then `FE d` lets `d` milliseconds pass (and polls), and any other run of bytes arrives at
/// once. Payloads are never empty, never longer than the cap, never hold control characters;
/// after a long silence nothing is pending.
pub fn scanner_framer(data: &[u8]) -> u64 {
    let Some((&settings, rest)) = data.split_first() else {
        return 0;
    };
    let config = FramerConfig {
        idle_gap: Duration::from_millis([5, 20, 50, 200][usize::from(settings >> 6)]),
        max_len: [8, 64, 256, 1024][usize::from((settings >> 3) & 3)],
        prefix: if settings & 2 != 0 {
            vec![0x02]
        } else {
            Vec::new()
        },
        suffix: if settings & 4 != 0 {
            vec![0x03]
        } else {
            Vec::new()
        },
        strip_aim_id: settings & 1 != 0,
        repeat_window: if settings & 0x20 != 0 {
            Duration::ZERO
        } else {
            Duration::from_secs(3)
        },
    };
    let max_len = config.max_len;
    let idle_gap = config.idle_gap;
    let mut framer = Framer::new(config);
    let start = Instant::now();
    let mut now = start;
    let mut events = Vec::new();
    let mut i = 0;
    while i < rest.len() {
        if rest[i] == 0xFE {
            let wait = rest.get(i + 1).copied().unwrap_or(0);
            now += Duration::from_millis(u64::from(wait));
            events.extend(framer.poll(now));
            i += 2;
        } else {
            let end = rest[i..]
                .iter()
                .position(|b| *b == 0xFE)
                .map_or(rest.len(), |p| i + p);
            events.extend(framer.push(&rest[i..end], now));
            i = end;
        }
    }
    now += idle_gap + Duration::from_secs(1);
    events.extend(framer.poll(now));
    assert!(!framer.pending(), "nothing pending after a long silence");
    assert!(framer.deadline().is_none());
    let mut kinds = Vec::new();
    for event in &events {
        match event {
            ScanEvent::Payload(text) => {
                assert!(!text.is_empty(), "an empty payload");
                assert!(text.len() <= max_len, "a payload over the cap");
                assert!(!text.chars().any(char::is_control), "a control character");
                kinds.push(0);
            }
            ScanEvent::Error(error) => kinds.push(kind(&[std::mem::discriminant(error)])),
        }
    }
    kinds.sort_unstable();
    kinds.dedup();
    kind(&kinds)
}

/// The first test vector's public key (kid 1): a code that verifies under it must be a real one.
const VECTOR_KEY: &str = "042a4eb77d710a3a1bcfdc0ec25cb9ee41a50ba5482f64a73952818bceff431141648be564bace1e6a03a5c54c926dc3718937d202fd32b8da43ba72b816cae1a3";

/// The offline code's QR text (and base45 under it). What decodes re-encodes to the same text
/// (there is one text per code); what verifies decodes.
pub fn offline_code(data: &[u8]) -> u64 {
    let text = String::from_utf8_lossy(data);
    let decoded = OfflineCode::decode_unverified(&text);
    if let Ok(code) = &decoded {
        assert_eq!(
            code.to_qr_text(),
            text,
            "a decoded code re-encodes to its text"
        );
        let body = code.body();
        assert_eq!(
            i64::from(body.expires_day()) - i64::from(body.issued_day()),
            179,
            "a decoded code is valid 180 days"
        );
    }
    let mut keys = KeySet::new();
    if let Ok(key) = PublicKey::from_hex(VECTOR_KEY) {
        keys.insert(1, key);
    }
    let verified = OfflineCode::verify(&text, &keys);
    if verified.is_ok() {
        assert!(decoded.is_ok(), "what verifies decodes");
    }
    let raw = base45::decode(&text);
    if let Ok(bytes) = &raw {
        assert_eq!(base45::encode(bytes), text, "base45 is canonical");
    }
    kind(&[outcome(&decoded), outcome(&verified), outcome(&raw)])
}

/// The printer's real-time status: four answers (or none) mapped to one status. Byte 0 says
/// which answers are missing (bits 0-3); bytes 1-4 are the answers. Ready (or near end) only
/// with four valid answers and no fault bit; a definite fault wins over a missing answer.
pub fn printer_status(data: &[u8]) -> u64 {
    let missing = data.first().copied().unwrap_or(0);
    let mut answers = StatusAnswers::default();
    for n in 1..=4u8 {
        let answer = data.get(usize::from(n)).copied();
        let answer = if missing & (1 << (n - 1)) != 0 {
            None
        } else {
            answer
        };
        answers.set(n, answer);
    }
    let status = map_answers(&answers);
    assert_eq!(status, answers.status());
    let all = [
        answers.printer,
        answers.offline_cause,
        answers.error_cause,
        answers.roll_paper,
    ];
    if matches!(status, PrinterStatus::Ready | PrinterStatus::PaperNearEnd) {
        assert!(
            all.iter().all(|a| a.is_some_and(is_valid_answer)),
            "ready without four valid answers: {all:?}"
        );
        assert!(status.can_print());
    }
    if status == PrinterStatus::NoAnswer {
        assert!(all.iter().any(Option::is_none));
    }
    if status == PrinterStatus::Unknown {
        assert!(all.iter().all(Option::is_some));
    }
    if status.is_fault() {
        assert!(!status.can_print(), "{status} can print");
    }
    kind(&[status])
}
