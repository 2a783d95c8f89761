//! What the reliability tests check after faults: the QR texts on the printed slips (read from
//! the ESC/POS bytes of native-QR profiles), every code the central issued to a kiosk, and that
//! every journal event of the kiosk is at the central exactly once.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::Central;

/// The data of every native QR code (`GS ( k`, store function 80) in printer bytes, in order.
/// A slip cut short keeps what arrived of it.
pub fn slip_qr_texts(bytes: &[u8]) -> Vec<String> {
    let mut texts = Vec::new();
    let mut i = 0;
    while i + 8 <= bytes.len() {
        if bytes[i..i + 3] == [0x1D, 0x28, 0x6B] && bytes[i + 5..i + 8] == [0x31, 0x50, 0x30] {
            let len = usize::from(bytes[i + 3]) + 256 * usize::from(bytes[i + 4]);
            let start = i + 8;
            let end = (start + len.saturating_sub(3)).min(bytes.len());
            texts.push(String::from_utf8_lossy(&bytes[start..end]).into_owned());
            i = end;
        } else {
            i += 1;
        }
    }
    texts
}

/// One code at the central.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCode {
    pub code_id: String,
    /// The holder's ID number.
    pub id_number: String,
    pub serial: u16,
    pub status: String,
    pub request_id: String,
    pub printed: bool,
    pub print_failed: bool,
    pub qr_text: String,
}

fn db(central: &Central) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        central.data.path().join("central.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap()
}

/// Every code the central issued through `kiosk_id`.
pub fn codes_of_kiosk(central: &Central, kiosk_id: &str) -> Vec<IssuedCode> {
    let db = db(central);
    let mut statement = db
        .prepare(
            "SELECT c.code_id, p.id_number, c.serial, c.status, c.request_id, \
             c.printed_at IS NOT NULL, c.print_failed_at IS NOT NULL, c.qr_text \
             FROM codes c JOIN citizens p ON p.id = c.citizen_id \
             WHERE c.kiosk_id = ?1 ORDER BY c.created_at",
        )
        .unwrap();
    statement
        .query_map([kiosk_id], |row| {
            Ok(IssuedCode {
                code_id: row.get(0)?,
                id_number: row.get(1)?,
                serial: row.get(2)?,
                status: row.get(3)?,
                request_id: row.get(4)?,
                printed: row.get(5)?,
                print_failed: row.get(6)?,
                qr_text: row.get(7)?,
            })
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Every journal event of the kiosk (data directory `data`) is at the central, once, and the
/// central holds no other event of that kiosk.
pub fn assert_journal_exactly_once(central: &Central, kiosk_id: &str, data: &Path) {
    let kiosk_ids = super::kiosk_event_ids(data);
    assert!(!kiosk_ids.is_empty(), "the kiosk journaled nothing");
    let central_ids = central.event_ids(kiosk_id);
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for id in &central_ids {
        *counts.entry(id.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        twice.is_empty(),
        "events stored twice at the central: {twice:?}"
    );
    let central_set: BTreeSet<String> = central_ids.into_iter().collect();
    let missing: Vec<_> = kiosk_ids.difference(&central_set).collect();
    let unknown: Vec<_> = central_set.difference(&kiosk_ids).collect();
    assert!(
        missing.is_empty(),
        "{} events never reached the central: {missing:?}",
        missing.len()
    );
    assert!(
        unknown.is_empty(),
        "the central holds events the kiosk does not know: {unknown:?}"
    );
}

/// No person holds two codes from these (each session of the test is a different person, so a
/// second code would be a second issue for one attempt), and every request id is distinct.
pub fn assert_one_code_per_person(codes: &[IssuedCode]) {
    let mut by_person: BTreeMap<&str, Vec<&IssuedCode>> = BTreeMap::new();
    for code in codes {
        by_person
            .entry(code.id_number.as_str())
            .or_default()
            .push(code);
    }
    for (person, codes) in &by_person {
        assert_eq!(
            codes.len(),
            1,
            "one attempt issued {} codes for one person ({}): {codes:?}",
            codes.len(),
            protocol::mask::mask_id_number(person)
        );
    }
    let requests: BTreeSet<&str> = codes.iter().map(|c| c.request_id.as_str()).collect();
    assert_eq!(requests.len(), codes.len(), "a request id was used twice");
}
