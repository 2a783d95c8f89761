//! Property tests of the framer: it never panics, and how the bytes are chunked does not change
//! the payloads.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use proptest::prelude::*;
use scanner::{Framer, FramerConfig, ScanEvent};

/// Cuts `bytes` at the given points (taken modulo the length, sorted, deduplicated).
fn split_at_points(bytes: &[u8], points: &[usize]) -> Vec<Vec<u8>> {
    if bytes.is_empty() {
        return vec![Vec::new()];
    }
    let mut cuts: Vec<usize> = points.iter().map(|p| p % bytes.len()).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts {
        chunks.push(bytes[start..cut].to_vec());
        start = cut;
    }
    chunks.push(bytes[start..].to_vec());
    chunks
}

fn qr_alphanumeric() -> impl Strategy<Value = String> {
    "[0-9A-Z $%*+./:-]{1,40}"
}

fn terminator() -> impl Strategy<Value = &'static str> {
    prop_oneof![Just("\r"), Just("\n"), Just("\r\n")]
}

fn payloads(events: &[ScanEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            ScanEvent::Payload(p) => p.clone(),
            ScanEvent::Error(error) => panic!("unexpected error event {error:?}"),
        })
        .collect()
}

fn arbitrary_config() -> impl Strategy<Value = FramerConfig> {
    (
        0_u64..300,
        0_usize..64,
        proptest::collection::vec(any::<u8>(), 0..3),
        proptest::collection::vec(any::<u8>(), 0..3),
        any::<bool>(),
        0_u64..5000,
    )
        .prop_map(
            |(gap, max_len, prefix, suffix, strip_aim_id, window)| FramerConfig {
                idle_gap: Duration::from_millis(gap),
                max_len,
                prefix,
                suffix,
                strip_aim_id,
                repeat_window: Duration::from_millis(window),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Arbitrary bytes, chunks, times, polls and configurations never panic, and an over-long
    /// frame never becomes a payload.
    #[test]
    fn never_panics(
        config in arbitrary_config(),
        steps in proptest::collection::vec(
            (proptest::collection::vec(any::<u8>(), 0..80), 0_u64..400, any::<bool>()),
            0..20,
        ),
    ) {
        let start = Instant::now();
        let max_len = config.max_len;
        let mut framer = Framer::new(config);
        let mut t = start;
        for (bytes, advance, poll) in steps {
            t += Duration::from_millis(advance);
            let mut events = framer.push(&bytes, t);
            if poll {
                events.extend(framer.poll(t));
            }
            for event in events {
                if let ScanEvent::Payload(p) = event {
                    prop_assert!(p.len() <= max_len);
                    prop_assert!(!p.is_empty());
                    prop_assert!(!p.chars().any(char::is_control));
                }
            }
        }
        // Going backwards in time must not panic either.
        let _ = framer.poll(start);
        let _ = framer.poll(t + Duration::from_secs(3600));
    }

    /// Payloads in the QR alphanumeric set with CR, LF or CR LF terminators come out the same
    /// whatever the chunking, with all chunks at one instant.
    #[test]
    fn chunking_does_not_change_payloads(
        lines in proptest::collection::vec((qr_alphanumeric(), terminator()), 1..12),
        points in proptest::collection::vec(any::<usize>(), 0..30),
    ) {
        let stream: Vec<u8> = lines
            .iter()
            .flat_map(|(p, t)| p.bytes().chain(t.bytes()))
            .collect();
        let t = Instant::now();

        let mut whole = Framer::default();
        let expected = payloads(&whole.push(&stream, t));

        let mut split = Framer::default();
        let mut got = Vec::new();
        for chunk in split_at_points(&stream, &points) {
            got.extend(payloads(&split.push(&chunk, t)));
        }
        got.extend(payloads(&split.poll(t).into_iter().collect::<Vec<_>>()));
        prop_assert_eq!(&got, &expected);
        prop_assert!(!split.pending());
    }

    /// The same with chunks spread in time (each under the idle gap) and no repeat suppression:
    /// every line comes out, in order.
    #[test]
    fn chunking_over_time_yields_every_line(
        lines in proptest::collection::vec((qr_alphanumeric(), terminator()), 1..12),
        points in proptest::collection::vec(any::<usize>(), 0..30),
        pauses in proptest::collection::vec(0_u64..100, 31),
    ) {
        let stream: Vec<u8> = lines
            .iter()
            .flat_map(|(p, t)| p.bytes().chain(t.bytes()))
            .collect();
        let mut framer = Framer::new(FramerConfig {
            repeat_window: Duration::ZERO,
            ..FramerConfig::default()
        });
        let mut t = Instant::now();
        let mut got = Vec::new();
        for (chunk, pause) in split_at_points(&stream, &points).iter().zip(&pauses) {
            t += Duration::from_millis(*pause);
            got.extend(payloads(&framer.push(chunk, t)));
            got.extend(payloads(&framer.poll(t).into_iter().collect::<Vec<_>>()));
        }
        let expected: Vec<String> = lines.into_iter().map(|(p, _)| p).collect();
        prop_assert_eq!(got, expected);
    }
}
