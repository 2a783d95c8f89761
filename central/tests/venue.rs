//! Venue poster codes end to end, over real HTTPS on loopback with a test clock: an organisation
//! applies on the public form, an operator approves it and hands over its token, the
//! organisation downloads its A4 poster (rendered by pdftoppm, its QR read back by zbarimg),
//! people scan it with 随申码 tokens and a door verifier of the venue scans an offline code; the
//! organisation sees every entry with masked names and colours on its page and in the CSV. A
//! reprint retires the old poster; forged and retired posters, unknown, rejected and suspended
//! venues are refused with a 4xx and record nothing; entries older than 28 days are deleted by the
//! clean-up.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;
mod pages_support;
mod venue_support;

use central::clock::Clock;
use common::backend::{Backend, Raw, backend};
use common::{get, people, post_bearer};
use pages_support::{Fixture, form_token};
use protocol::api::{Color, KeysResponse, routes};
use protocol::keys::{KeySet, PublicKey};
use protocol::venue::{VenueCode, VenueId};
use serde_json::json;
use time::Duration;
use venue_support::*;

const RID_1: &str = "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";

/// The issuer keys, as 随申办 would fetch them.
async fn keys(f: &Fixture) -> KeySet {
    let (status, body) = get(&f.service.anonymous(), &f.service.url(routes::KEYS)).await;
    assert_eq!(status, 200);
    let keys: KeysResponse = serde_json::from_value(body).unwrap();
    keys.keys
        .iter()
        .map(|k| (k.kid, PublicKey::from_hex(&k.public_key_hex).unwrap()))
        .collect()
}

/// Every entry the store holds for any venue, over the whole retention and more.
fn entry_count(f: &Fixture) -> usize {
    let now = f.service.clock.now();
    f.service.with_store(|store| {
        store
            .venues()
            .unwrap()
            .iter()
            .map(|v| {
                store
                    .venue_entries(v.id, now - Duration::days(400), now + Duration::days(1))
                    .unwrap()
                    .len()
            })
            .sum()
    })
}

/// Scans every column of every table but `citizens` for the fictional people's full names and
/// ID numbers.
fn assert_no_personal_data_outside_citizens(f: &Fixture) {
    let raw = Raw::new(&f.service.test_data);
    let tables = raw.tables();
    assert!(tables.iter().any(|t| t == "venue_entries"), "{tables:?}");
    for table in tables.iter().filter(|t| *t != "citizens") {
        for column in &raw.columns(table) {
            for (number, name) in [people::SENIOR, people::SENIOR_2, people::LEAP_DAY] {
                for needle in [number, name] {
                    assert_eq!(
                        raw.hits(table, column, needle),
                        0,
                        "{table}.{column} holds personal data"
                    );
                }
            }
        }
    }
}

async fn poster_pdf(f: &Fixture, venue_token: &str) -> Vec<u8> {
    let (status, content_type, pdf) = get_with(f, "/venue/poster.pdf", venue_token).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(content_type, "application/pdf");
    pdf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_approve_print_scan_see_and_export_every_entry() {
    let f = Fixture::new().await;
    f.service.with_store(|store| {
        store
            .set_color(
                &protocol::IdNumber::parse(people::SENIOR_2.0).unwrap(),
                Color::Yellow,
            )
            .unwrap()
    });

    // Applying: a wrong check character is refused in plain words; the right code is accepted.
    let (status, html) = apply(&f, VENUE_NAME, "91310101MA1FL2X0PK").await;
    assert_eq!(status, 400);
    assert!(html.contains("校验位"), "{html}");
    assert!(
        html.contains(&format!("value=\"{VENUE_NAME}\"")),
        "the form keeps what was typed"
    );
    let (status, html) = apply(&f, VENUE_NAME, USCC).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-outcome=\"applied\""));
    let (status, html) = apply(&f, "另一个名称", USCC).await;
    assert_eq!(status, 409, "one live application per code: {html}");

    // Before approval there is no token, so no page; the operator approves and sees it once.
    let token = approve(&f, VENUE_NAME).await;
    assert!(token.starts_with("u_"), "{token}");
    let (status, html) = page_html(&f, "/venues/review", &f.operator).await;
    assert_eq!(status, 200);
    assert!(!html.contains(&token), "the token is shown once only");
    let raw = Raw::new(&f.service.test_data);
    if backend() == Backend::Sqlite {
        let stored = std::fs::read(f.service.data_path().join("central.db")).unwrap();
        assert!(
            !stored.windows(token.len()).any(|w| w == token.as_bytes()),
            "only the token's hash is stored"
        );
    }
    for table in raw.tables() {
        for column in raw.columns(&table) {
            assert_eq!(
                raw.hits(&table, &column, &token),
                0,
                "only the token's hash is stored, not the token ({table}.{column})"
            );
        }
    }

    // The organisation's page, and its poster: one A4 page whose QR is a signed venue code.
    let (status, html) = page_html(&f, "/venue", &token).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(VENUE_NAME));
    assert!(
        html.contains("data-poster-serial>1<"),
        "approval made poster 1"
    );
    let pdf = poster_pdf(&f, &token).await;
    let qr = poster_qr(&pdf);
    let keys = keys(&f).await;
    let code = VenueCode::verify(&qr, &keys).unwrap();
    assert_eq!(code.body().serial(), 1);
    assert!(qr.starts_with("SSMV1:") && qr.len() == protocol::venue::QR_TEXT_LEN);
    let dir = tempfile::tempdir().unwrap();
    let png = render_pdf(&pdf, 72, dir.path());
    let info = png::Decoder::new(std::io::Cursor::new(&png))
        .read_info()
        .unwrap()
        .info()
        .clone();
    assert!(
        matches!((info.width, info.height), (595 | 596, 842)),
        "A4 (595.3 x 841.9 pt) at 72 dpi: {} x {}",
        info.width,
        info.height
    );
    if std::env::var_os("UPDATE_SCREENS").is_some_and(|v| v == "1") {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs/screens/venue-poster.png");
        std::fs::write(path, &png).unwrap();
    }

    // 随申办: two people scan the poster and see their colour.
    let (status, body) = scan(&f, &suishen(&f, people::SENIOR.0), &qr).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["color"], "green");
    assert_eq!(body["holder_name"], "王*英");
    assert_eq!(body["venue_name"], VENUE_NAME);
    assert_eq!(body["scanned_at"], "2026-11-21T10:00:00+08:00");
    f.service.clock.advance(Duration::minutes(3));
    let (status, body) = scan(&f, &suishen(&f, people::SENIOR_2.0), &qr).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["color"], "yellow");

    // At the door: a door verifier of the venue scans an offline-code slip.
    let slip = f.issue(people::LEAP_DAY, "apply", RID_1).await;
    let door = door_verifier(&f, &token, "门卫老周").await;
    assert!(door.starts_with("v_"));
    f.service.clock.advance(Duration::minutes(2));
    let (status, verdict) = post_bearer(
        &f.service.anonymous(),
        &f.service.url(routes::VERIFY),
        &door,
        &json!({"payload": slip}),
    )
    .await;
    assert_eq!(status, 200, "{verdict}");
    assert_eq!(verdict["result"], "valid");
    assert!(
        verdict["watermark"].as_str().unwrap().contains(VENUE_NAME),
        "the watermark names the venue: {verdict}"
    );
    // A verifier bound to no venue records nothing.
    let (status, _) = post_bearer(
        &f.service.anonymous(),
        &f.service.url(routes::VERIFY),
        &f.verifier,
        &json!({"payload": slip}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(entry_count(&f), 3);

    // The organisation's page: three entries, masked names, colours, counts.
    let (_, html) = page_html(&f, "/venue", &token).await;
    for (name, color, via) in [
        ("王*英", "green", "随申码"),
        ("张*国", "yellow", "随申码"),
        ("赵*兰", "green", "离线码"),
    ] {
        let row = between(&html, &format!("data-name>{name}<"), "</tr>");
        assert!(row.contains(&format!("color-{color}")), "{name}: {row}");
        assert!(row.contains(via), "{name}: {row}");
    }
    assert!(html.contains("data-count=\"total\">3<"), "{html}");
    assert!(html.contains("data-count=\"green\">2<"));
    assert!(html.contains("data-count=\"yellow\">1<"));
    assert!(html.contains("data-count=\"red\">0<"));
    for full in [people::SENIOR, people::SENIOR_2, people::LEAP_DAY] {
        assert!(
            !html.contains(full.1) && !html.contains(full.0),
            "{}",
            full.1
        );
    }

    // No table but `citizens` holds a full name or ID number: entries refer to people by row id.
    assert_no_personal_data_outside_citizens(&f);

    // The CSV export: the same rows.
    let (status, content_type, csv) = get_with(&f, "/venue/entries.csv", &token).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines,
        [
            "时间,姓名,健康码,方式",
            "2026-11-21 10:00:00,王*英,绿码,随申码",
            "2026-11-21 10:03:00,张*国,黄码,随申码",
            "2026-11-21 10:05:00,赵*兰,绿码,离线码",
        ]
    );
    let (status, _, _) = get_with(&f, "/venue/entries.csv?date=2026-10-01", &token).await;
    assert_eq!(status, 400, "beyond the retention");
    let (status, _, _) = get_with(&f, "/venue/entries.csv?date=2026-11-20", &token).await;
    assert_eq!(status, 200, "yesterday");

    // A reprint retires the poster on the door: its scans are refused and record nothing.
    let (status, html) = venue_form(&f, &token, "/venue/poster", &[]).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-outcome=\"reprinted\""));
    assert!(html.contains("data-poster-serial>2<"));
    let (status, body) = scan(&f, &suishen(&f, people::SENIOR.0), &qr).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (410, Some("venue_code_retired")),
        "{body}"
    );
    let new_qr = poster_qr(&poster_pdf(&f, &token).await);
    assert_ne!(new_qr, qr);
    assert_eq!(
        VenueCode::verify(&new_qr, &keys).unwrap().body().serial(),
        2
    );
    assert_eq!(entry_count(&f), 3);
    let (status, body) = scan(&f, &suishen(&f, people::SENIOR.0), &new_qr).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(entry_count(&f), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_posters_and_inactive_venues_are_refused_and_record_nothing() {
    let f = Fixture::new().await;
    let token = registered_venue(&f).await;
    let qr = poster_qr(&poster_pdf(&f, &token).await);
    let senior = suishen(&f, people::SENIOR.0);

    // Forged: one character changed, or no venue code at all, or a bad 随申码 token.
    let mut forged = qr.clone().into_bytes();
    let at = forged.len() - 10;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    for payload in [forged.as_str(), "SSMV1:", "https://example.com/", ""] {
        let (status, body) = scan(&f, &senior, payload).await;
        assert_eq!(status, 422, "{payload}: {body}");
        assert_eq!(body["error"], "invalid_venue_code");
    }
    let (status, body) = scan(&f, "SSB1:bogus", &qr).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("invalid_suishen_code"))
    );
    // An offline-code slip is not a venue code either.
    let slip = f.issue(people::SENIOR_2, "apply", RID_1).await;
    let (status, _) = scan(&f, &senior, &slip).await;
    assert_eq!(status, 422);

    // Correctly signed with the service's own key, but for a venue it never registered.
    let signer = f
        .service
        .data
        .issuer_keys()
        .unwrap()
        .current()
        .unwrap()
        .clone();
    let unknown = VenueCode::issue(&signer, VenueId([9; 8]), 1)
        .unwrap()
        .to_qr_text();
    let (status, body) = scan(&f, &senior, &unknown).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown_venue"))
    );
    // A poster number the venue never printed.
    let key = VenueCode::verify(&qr, &f.service.data.issuer_keys().unwrap().key_set())
        .unwrap()
        .body()
        .venue_id();
    let future = VenueCode::issue(&signer, key, 7).unwrap().to_qr_text();
    let (status, body) = scan(&f, &senior, &future).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("invalid_venue_code"))
    );
    assert_eq!(entry_count(&f), 0);

    // Suspended: the poster and the door verifier record nothing; the page says why.
    let door = door_verifier(&f, &token, "门卫老周").await;
    let id = venue_id(&f, VENUE_NAME).await;
    let (status, html) = review(&f, "suspend", &id, "").await;
    assert_eq!(status, 400, "a suspension needs a reason: {html}");
    let (status, html) = review(&f, "suspend", &id, "张贴位置不符合要求").await;
    assert_eq!(status, 200, "{html}");
    let (status, body) = scan(&f, &senior, &qr).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("venue_not_active"))
    );
    let (status, body) = post_bearer(
        &f.service.anonymous(),
        &f.service.url(routes::VERIFY),
        &door,
        &json!({"payload": slip}),
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("venue_not_active"))
    );
    let door_form = form_token(&f.service, &door, "/verify").await;
    let (status, html) = post_form(
        &f,
        "/verify",
        Some(&door),
        &[("payload", &slip), ("form_token", &door_form)],
    )
    .await;
    assert_eq!(status, 403, "the verifier page refuses too: {html}");
    assert!(html.contains("暂停"), "{html}");
    let (status, html) = page_html(&f, "/venue", &token).await;
    assert_eq!(status, 200);
    assert!(html.contains("data-status=\"suspended\"") && html.contains("张贴位置不符合要求"));
    let (status, _, _) = get_with(&f, "/venue/poster.pdf", &token).await;
    assert_eq!(status, 403);
    let (status, _) = venue_form(&f, &token, "/venue/poster", &[]).await;
    assert_eq!(status, 403);
    assert_eq!(entry_count(&f), 0);
    // Approving a suspended venue again is not a valid decision.
    let (status, _) = review(&f, "approve", &id, "").await;
    assert_eq!(status, 409);

    // Reinstated: the same poster records again.
    let (status, _) = review(&f, "reinstate", &id, "").await;
    assert_eq!(status, 200);
    let (status, body) = scan(&f, &senior, &qr).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(entry_count(&f), 1);
    // The door verifier on the verifier page: the verdict says the entry was recorded.
    let (status, html) = post_form(
        &f,
        "/verify",
        Some(&door),
        &[("payload", &slip), ("form_token", &door_form)],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-result=\"valid\""), "{html}");
    assert!(
        html.contains(&format!("data-entry-recorded>已登记进入 {VENUE_NAME}<")),
        "{html}"
    );
    assert_eq!(entry_count(&f), 2);

    // Rejected: no token is ever made; the organisation may apply again.
    let (status, _) = apply(&f, "上海市另一家示例单位", USCC_2).await;
    assert_eq!(status, 200);
    let other = venue_id(&f, "上海市另一家示例单位").await;
    let (status, html) = review(&f, "reject", &other, "名称与执照不符").await;
    assert_eq!(status, 200, "{html}");
    assert!(!html.contains("data-token"));
    let (status, html) = apply(&f, "上海市另一家示例单位", USCC_2).await;
    assert_eq!(status, 200, "after a rejection one may apply again: {html}");

    // Organisation tokens open only the organisation's page; other tokens do not open it.
    let (status, _) = page_html(&f, "/fleet", &token).await;
    assert_eq!(status, 401);
    let (status, _) = page_html(&f, "/venue", &f.operator).await;
    assert_eq!(status, 401);
    // Forms of the organisation's page need its form token.
    let (status, _) = post_form(&f, "/venue/poster", Some(&token), &[("form_token", "x")]).await;
    assert_eq!(status, 403);
    let operator_form = form_token(&f.service, &f.operator, "/venues/review").await;
    let (status, _) = post_form(
        &f,
        "/venue/poster",
        Some(&token),
        &[("form_token", &operator_form)],
    )
    .await;
    assert_eq!(status, 403, "another session's form token");
    assert_eq!(entry_count(&f), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_older_than_28_days_are_gone_after_the_clean_up() {
    let f = Fixture::new().await;
    let token = registered_venue(&f).await;
    let qr = poster_qr(&poster_pdf(&f, &token).await);
    for person in [people::SENIOR, people::SENIOR_2] {
        let (status, body) = scan(&f, &suishen(&f, person.0), &qr).await;
        assert_eq!(status, 200, "{body}");
    }
    f.service.clock.advance(Duration::days(27));
    let (status, _) = scan(&f, &suishen(&f, people::LEAP_DAY.0), &qr).await;
    assert_eq!(status, 200);
    assert_eq!(entry_count(&f), 3);

    // Exactly 28 days after the first two: nothing is older than 28 days yet.
    f.service.clock.advance(Duration::days(1));
    let (status, html) = review(&f, "purge", "", "").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("已删除 0 条"), "{html}");
    assert_eq!(entry_count(&f), 3);

    // A minute later they are, and the clean-up deletes them; the younger entry stays.
    f.service.clock.advance(Duration::minutes(1));
    let (status, html) = review(&f, "purge", "", "").await;
    assert_eq!(status, 200);
    assert!(html.contains("已删除 2 条超过 28 天的进场记录"), "{html}");
    assert_eq!(entry_count(&f), 1);
    let (_, html) = page_html(&f, "/venue", &token).await;
    assert!(!html.contains("王*英") && !html.contains("张*国"));

    // The same clean-up as a library call (what `serve` runs every hour and the command line
    // runs on demand), 28 days after the last entry.
    f.service.clock.advance(Duration::days(27));
    let now = f.service.clock.now();
    assert_eq!(
        f.service
            .with_store(|store| central::venues::purge_expired_entries(store, now))
            .unwrap(),
        1
    );
    assert_eq!(entry_count(&f), 0);
}
