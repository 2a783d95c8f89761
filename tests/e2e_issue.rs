//! The whole product end to end on real parts: the central service over HTTPS with mutual TLS on
//! loopback, pcscd with the vpcd virtual reader and our emulated card, the TCP printer emulator,
//! and the kiosk's journal on disk. A resident applies, then reissues; both printed QR codes are
//! read back by zbarimg from the rendered bytes and checked with the central's verifier: the
//! first is superseded, the second is valid with serial 2. Each slip is valid for 180 days
//! counting the day of issue: the expiry date (in the printed QR, in `run-once`'s summary and at
//! the central's verifier) is the issue date + 179 days. Afterwards the kiosk's data directory
//! holds no ID number, no full name and no image, neither as they are nor in base64 (the photo
//! is looked for by fragments of the central's photo of the resident).

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod support;

#[allow(dead_code, unreachable_pub)]
#[path = "../drivers/idcard/tests/support/pcscd.rs"]
mod pcscd;

use idcard::emulator::{Emulator, EmulatorConfig};
use printer::emulator::{ALL_FINE, TcpPrinterEmulator};
use support::{Central, Reader};

const READER: &str = "Virtual PCD 00 00";

#[test]
fn apply_then_reissue_then_verify_both_slips() {
    let _pcscd = pcscd::Pcscd::ensure(READER);
    pcscd::wait_until_empty(READER);
    let dir = tempfile::tempdir().unwrap();
    let central = Central::start(&dir.path().join("central"));
    let certs = central.provision("K-E2E", &dir.path().join("certs"));
    let card = idcard::demo_cards().into_iter().next().unwrap();
    let id_number = card.id_number.as_str().to_owned();
    let full_name = card.name.clone();

    let mut slips = Vec::new();
    let mut summaries = Vec::new();
    for action in ["apply", "reissue"] {
        // A fresh printer per session, so that each one's bytes are known.
        let printer = TcpPrinterEmulator::start(ALL_FINE).unwrap();
        let config = support::write_config(
            dir.path(),
            "K-E2E",
            &[central.url()],
            &certs,
            &Reader::Pcsc(READER),
            &printer.url(),
        );
        let mut emulator = Emulator::start(EmulatorConfig::with_card(card.clone())).unwrap();
        let (output, summary) = support::run_kiosk(&mut support::kiosk(
            &config,
            &["run-once", "--action", action, "--timeout", "90"],
        ));
        assert!(
            output.status.success(),
            "{action}: {}\n{summary}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(summary["outcome"], "printed", "{summary}");
        assert_eq!(summary["action"], action);
        assert_eq!(summary["journal_synced"], true, "{summary}");
        emulator.stop();
        pcscd::wait_until_empty(READER);

        let bytes = printer.received();
        assert_eq!(support::slips_printed(&bytes), 1, "{action}: one slip");
        let decoded = support::decode_slips(&bytes, dir.path());
        assert_eq!(
            decoded.len(),
            1,
            "{action}: one QR on the slip: {decoded:?}"
        );
        // The validity: 180 days counting the day of issue (protocol: expires_day = issued_day
        // + 179), the same in the printed QR and in the summary.
        let printed = protocol::OfflineCode::decode_unverified(&decoded[0]).unwrap();
        let body = printed.body();
        assert_eq!(
            body.expires_on() - body.issued_on(),
            time::Duration::days(179),
            "{action}: the printed code's validity"
        );
        let date =
            |key: &str| -> time::Date { serde_json::from_value(summary[key].clone()).unwrap() };
        assert_eq!(date("issued_on"), body.issued_on(), "{summary}");
        assert_eq!(date("expires_on"), body.expires_on(), "{summary}");
        assert_eq!(
            date("expires_on"),
            date("issued_on") + time::Duration::days(179),
            "{summary}"
        );
        slips.push(decoded[0].clone());
        summaries.push(summary);
    }

    // The central holds exactly the two codes, both printed, and their QR texts are the slips'.
    let codes = central.codes_of(&id_number);
    assert_eq!(codes.len(), 2, "{codes:?}");
    assert_eq!(codes[0].serial, 1);
    assert_eq!(codes[1].serial, 2);
    assert_eq!(
        codes[0].qr_text, slips[0],
        "the first slip carries the first code"
    );
    assert_eq!(
        codes[1].qr_text, slips[1],
        "the second slip carries the second code"
    );
    assert!(codes.iter().all(|c| c.printed), "{codes:?}");
    assert_eq!(summaries[0]["code_id"], codes[0].code_id.as_str());
    assert_eq!(summaries[1]["code_id"], codes[1].code_id.as_str());
    assert_eq!(summaries[1]["serial"], 2);

    let first = central.verify(&slips[0]);
    assert_eq!(first["result"], "superseded", "{first}");
    let second = central.verify(&slips[1]);
    assert_eq!(second["result"], "valid", "{second}");
    assert_eq!(second["serial"], 2);
    assert_eq!(second["color"], "green");
    assert_eq!(second["expires_on"], summaries[1]["expires_on"], "{second}");

    // Every journal event of both sessions reached the central, once.
    let kiosk_data = dir.path().join("data");
    let kiosk_ids = support::kiosk_event_ids(&kiosk_data);
    let central_ids = central.event_ids("K-E2E");
    assert!(!kiosk_ids.is_empty());
    assert_eq!(
        central_ids.len(),
        kiosk_ids.len(),
        "each event stored once at the central"
    );
    assert_eq!(
        central_ids
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>(),
        kiosk_ids
    );

    // Nothing about the resident stays in the kiosk's data directory: not the ID number nor the
    // name, as they are or in base64, and no piece of the photo the central sent, raw or in
    // base64.
    let photo = central
        .data
        .store()
        .unwrap()
        .citizen_by_id_number(&card.id_number)
        .unwrap()
        .unwrap()
        .photo
        .unwrap()
        .bytes;
    assert!(photo.len() >= 256, "{} photo bytes", photo.len());
    let mut secrets: Vec<(&str, Vec<u8>)> = Vec::new();
    for (what, value) in [
        ("ID number", id_number.as_bytes()),
        ("full name", full_name.as_bytes()),
    ] {
        secrets.push((what, value.to_vec()));
        for form in base64_forms(value) {
            secrets.push((what, form.into_bytes()));
        }
    }
    // Fragments of the photo's middle (its head is a PNG header every PNG shares).
    let middle = photo.len() / 2;
    secrets.push(("a piece of the photo", photo[middle..middle + 48].to_vec()));
    for form in base64_forms(&photo[middle..middle + 96]) {
        secrets.push(("a piece of the photo in base64", form.into_bytes()));
    }
    let files = support::files_under(&kiosk_data);
    assert!(files.iter().any(|(p, _)| p.ends_with("journal.db")));
    for (path, bytes) in &files {
        for (what, needle) in &secrets {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{} holds {what}",
                path.display()
            );
        }
        assert!(
            !has_eighteen_digit_number(bytes),
            "{} holds an 18-character ID number",
            path.display()
        );
        for magic in [&b"\x89PNG\r\n\x1a\n"[..], b"JFIF", b"Exif\0"] {
            assert!(
                !bytes.windows(magic.len()).any(|w| w == magic),
                "{} holds image bytes",
                path.display()
            );
        }
    }
}

/// The base64 texts (standard and URL-safe alphabets) that `value` leaves inside any base64
/// text containing it, whatever its offset: for each of the three alignments, the encoding of
/// the whole 3-byte groups it starts, without padding.
fn base64_forms(value: &[u8]) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let mut forms = Vec::new();
    for skip in 0..3 {
        let rest = &value[skip.min(value.len())..];
        let whole = &rest[..rest.len() / 3 * 3];
        if whole.len() >= 6 {
            forms.push(STANDARD_NO_PAD.encode(whole));
            forms.push(URL_SAFE_NO_PAD.encode(whole));
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

#[test]
fn base64_forms_are_found_at_every_offset() {
    use base64::Engine as _;
    let value = "王秀英 310101195003150029".as_bytes();
    let forms = base64_forms(value);
    assert!(!forms.is_empty());
    for prefix in ["", "a", "ab", "abc", "{\"n\":\""] {
        let mut text = prefix.as_bytes().to_vec();
        text.extend_from_slice(value);
        text.extend_from_slice(b"\"}");
        let encoded = base64::engine::general_purpose::STANDARD.encode(&text);
        assert!(
            forms.iter().any(|f| encoded.contains(f.as_str())),
            "prefix {prefix:?}: {encoded}"
        );
    }
    let unrelated = base64::engine::general_purpose::STANDARD.encode(b"nothing personal here");
    assert!(!forms.iter().any(|f| unrelated.contains(f.as_str())));
}

/// Whether `bytes` hold 17 ASCII digits followed by a digit or `X`, standing alone (not inside a
/// longer run of letters and digits such as a hex id): the shape of a GB 11643 number.
fn has_eighteen_digit_number(bytes: &[u8]) -> bool {
    let alone = |b: Option<&u8>| b.is_none_or(|b| !b.is_ascii_alphanumeric());
    bytes.windows(18).enumerate().any(|(i, w)| {
        w[..17].iter().all(u8::is_ascii_digit)
            && (w[17].is_ascii_digit() || w[17] == b'X')
            && alone(i.checked_sub(1).and_then(|j| bytes.get(j)))
            && alone(bytes.get(i + 18))
    })
}

#[test]
fn the_id_number_detector_finds_what_it_should() {
    assert!(has_eighteen_digit_number(
        b"{\"id\":\"310101195203140029\"}"
    ));
    assert!(has_eighteen_digit_number(b"31011519520817003X"));
    assert!(!has_eighteen_digit_number(b"310***********0029"));
    assert!(!has_eighteen_digit_number(b"3101011952031400"));
    assert!(!has_eighteen_digit_number(b"ab310101195203140029cd"));
}
