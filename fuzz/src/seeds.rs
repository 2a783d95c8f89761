//! The seed corpora, made from real inputs: the SAM frames the emulated reader exchanges (every
//! command, the find / select / SAM-id answers and the read answers carrying the demo cards'
//! text blocks), the text blocks of every demo card (all four card types), scanner frames as
//! scanners send them (the QR texts of the shipped test vectors with CR, LF, CR LF, AIM ids,
//! STX/ETX, split across reads, repeated), the QR texts of the offline-code test vectors, and the
//! printer status answers of a printer that is fine, out of paper, near the end, open, offline.
//!
//! `fuzz-stable seeds` writes them to `fuzz/corpus/<target>/`, where `cargo fuzz` looks too.

use idcard::sam::{self, Command, Status};

/// The offline-code test vectors shipped with the protocol crate.
const VECTORS: &str = include_str!("../../protocol/tests/vectors/offline-code-v1.json");

/// The QR texts of the test vectors.
pub fn vector_qr_texts() -> Vec<String> {
    let vectors: Vec<serde_json::Value> = serde_json::from_str(VECTORS).unwrap_or_default();
    vectors
        .iter()
        .filter_map(|v| v.get("qr_text").and_then(|t| t.as_str()).map(str::to_owned))
        .collect()
}

/// The read answer the emulated reader gives for a text block: lengths 256 and 1024, the text,
/// a zero photo (and with fingerprints, a zero third length).
fn read_answer(text: &[u8], fingerprints: bool) -> Vec<u8> {
    let mut data = vec![0x01, 0x00, 0x04, 0x00];
    if fingerprints {
        data.extend_from_slice(&[0x00, 0x00]);
    }
    data.extend_from_slice(text);
    data.extend(std::iter::repeat_n(0u8, 1024));
    sam::encode_response(Status::Ok, &data)
}

/// The parts, one after the other.
fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// Seeds for one target, by name (empty for an unknown name).
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    let blocks: Vec<Vec<u8>> = idcard::demo_cards()
        .iter()
        .map(|card| idcard::text::encode_text_block(card).to_vec())
        .collect();
    match target {
        "sam_codec" => {
            let mut out: Vec<Vec<u8>> = Command::ALL
                .iter()
                .map(|c| sam::encode_command(*c))
                .collect();
            out.push(sam::encode_response(Status::Ok, &[]));
            out.push(sam::encode_response(Status::CardFound, &[0; 4]));
            out.push(sam::encode_response(Status::FindFailed, &[]));
            out.push(sam::encode_response(Status::Ok, &[0; 8]));
            out.push(sam::encode_response(Status::SelectFailed, &[]));
            out.push(sam::encode_response(Status::Ok, &idcard::emulator::SAM_ID));
            out.push(sam::encode_response(Status::NoContent, &[]));
            out.push(sam::encode_response(Status::ChecksumError, &[]));
            out.push(sam::encode_response(Status::ReadFailed, &[]));
            for block in blocks.iter().take(2) {
                out.push(read_answer(block, false));
            }
            if let Some(block) = blocks.last() {
                out.push(read_answer(block, true));
            }
            out
        }
        "text_block" => blocks,
        "scanner_framer" => {
            let mut out = Vec::new();
            for (i, text) in vector_qr_texts().iter().take(3).enumerate() {
                let t = text.as_bytes();
                // Settings byte: default-like (gap 50 ms, cap 1024, no prefix/suffix/AIM).
                out.push(cat(&[&[0x98], t, b"\r"]));
                out.push(cat(&[&[0x98], t, b"\r\n"]));
                out.push(cat(&[&[0x99], b"]Q1", t, b"\n"]));
                out.push(cat(&[&[0x9E], b"\x02", t, b"\x03\r"]));
                // Split across reads with a pause, then the idle gap ends it.
                let (a, b) = t.split_at(t.len() / 2);
                out.push(cat(&[&[0x98], a, &[0xFE, 10], b, &[0xFE, 200]]));
                // The same code twice: the repeat is suppressed.
                out.push(cat(&[&[0x98], t, b"\r", t, b"\r"]));
                if i == 0 {
                    // Over a small cap.
                    out.push(cat(&[&[0x80], t, b"\r"]));
                }
            }
            out
        }
        "offline_code" => vector_qr_texts()
            .into_iter()
            .map(String::into_bytes)
            .collect(),
        "printer_status" => vec![
            // missing-answers mask, then the answers to DLE EOT 1..4
            vec![0x00, 0x12, 0x12, 0x12, 0x12], // ready
            vec![0x00, 0x12, 0x12, 0x12, 0x72], // paper out
            vec![0x00, 0x12, 0x12, 0x12, 0x1E], // near end
            vec![0x00, 0x12, 0x16, 0x12, 0x12], // cover open
            vec![0x00, 0x1A, 0x12, 0x12, 0x12], // offline
            vec![0x00, 0x12, 0x12, 0x1A, 0x12], // cutter error
            vec![0x08, 0x12, 0x12, 0x12],       // no answer to DLE EOT 4
            vec![0x00, 0x12, 0x12, 0x12, 0x00], // an invalid answer
        ],
        _ => Vec::new(),
    }
}
