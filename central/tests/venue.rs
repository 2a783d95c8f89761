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
    // A valid code of an organisation registered outside Shanghai is refused too.
    let (status, html) = apply(&f, VENUE_NAME, USCC_ELSEWHERE).await;
    assert_eq!(status, 400);
    assert!(html.contains("只受理在上海市登记的单位"), "{html}");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_and_rejected_venues_are_refused_with_403_at_the_poster_and_the_door() {
    let f = Fixture::new().await;
    let slip = f.issue(people::SENIOR_2, "apply", RID_1).await;
    let senior = suishen(&f, people::SENIOR.0);
    let signer = f
        .service
        .data
        .issuer_keys()
        .unwrap()
        .current()
        .unwrap()
        .clone();
    const OTHER: &str = "上海市另一家示例单位";
    let (status, _) = apply(&f, VENUE_NAME, USCC).await;
    assert_eq!(status, 200);
    let (status, _) = apply(&f, OTHER, USCC_2).await;
    assert_eq!(status, 200);
    let other = venue_id(&f, OTHER).await;
    let (status, _) = review(&f, "reject", &other, "名称与执照不符").await;
    assert_eq!(status, 200);

    for (name, state) in [(VENUE_NAME, "pending"), (OTHER, "rejected")] {
        let venue = f.service.with_store(|store| {
            store
                .venues()
                .unwrap()
                .into_iter()
                .find(|v| v.name == name)
                .unwrap()
        });
        assert_eq!(venue.status.as_str(), state);
        // A correctly signed poster code of this venue (no such poster was ever handed out,
        // but a copy of one must not record anything either).
        let poster = VenueCode::issue(&signer, venue.key, 1)
            .unwrap()
            .to_qr_text();
        let (status, body) = scan(&f, &senior, &poster).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("venue_not_active")),
            "{state}: {body}"
        );
        assert!(body["message"].as_str().unwrap().contains("not approved"));
        // A door verifier bound to the venue: the API and the verifier page refuse.
        let door = central::tokens::random_token("v_").unwrap();
        let hash = central::tokens::token_hash(&door);
        f.service.with_store(|store| {
            store
                .add_venue_verifier(venue.id, "门卫老周", &hash)
                .unwrap()
        });
        let (status, body) = post_bearer(
            &f.service.anonymous(),
            &f.service.url(routes::VERIFY),
            &door,
            &json!({"payload": slip}),
        )
        .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (403, Some("venue_not_active")),
            "{state}: {body}"
        );
        let door_form = form_token(&f.service, &door, "/verify").await;
        let (status, html) = post_form(
            &f,
            "/verify",
            Some(&door),
            &[("payload", &slip), ("form_token", &door_form)],
        )
        .await;
        assert_eq!(status, 403, "{state}: {html}");
        assert!(html.contains("尚未通过审核或已暂停使用"), "{html}");
        assert!(!html.contains("data-result"), "nothing was verified");
    }
    assert_eq!(entry_count(&f), 0, "nothing recorded");
}

/// GETs `path` with the organisation's cookie: status, `Cache-Control`, body.
async fn fetch(f: &Fixture, path: &str, token: &str) -> (u16, String, String) {
    let response = pages_support::page_client(&f.service)
        .get(f.service.url(path))
        .header("cookie", pages_support::cookie(token))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, cache, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_lists_the_shanghai_days_entries_and_the_csv_gives_an_earlier_day_unstored() {
    let f = Fixture::new().await;
    f.service.with_store(|store| {
        for (person, color) in [
            (people::SENIOR_2, Color::Yellow),
            (people::LEAP_DAY, Color::Red),
        ] {
            store
                .set_color(&protocol::IdNumber::parse(person.0).unwrap(), color)
                .unwrap();
        }
    });
    let token = registered_venue(&f).await;
    let qr = poster_qr(&poster_pdf(&f, &token).await);
    // 2026-11-21 10:00 in Shanghai.
    let (status, _) = scan(&f, &suishen(&f, people::SENIOR.0), &qr).await;
    assert_eq!(status, 200);
    // 14.5 hours later: 2026-11-22 00:30 in Shanghai, while UTC still says 2026-11-21.
    f.service.clock.advance(Duration::minutes(14 * 60 + 30));
    for person in [people::SENIOR_2, people::LEAP_DAY, people::SENIOR] {
        let (status, body) = scan(&f, &suishen(&f, person.0), &qr).await;
        assert_eq!(status, 200, "{body}");
    }

    // The page: today's (Shanghai) entries only, counted by colour; not stored by the browser.
    let (status, cache, html) = fetch(&f, "/venue", &token).await;
    assert_eq!(status, 200);
    assert_eq!(cache, "no-store");
    assert!(
        html.contains("今日进场记录 <small>2026年11月22日</small>"),
        "{html}"
    );
    assert_eq!(html.matches("<tr data-entry").count(), 3, "{html}");
    assert!(
        !html.contains("<td>10:00:00</td>"),
        "yesterday's entry is not listed"
    );
    assert_eq!(html.matches("<td>00:30:00</td>").count(), 3);
    for (count, n) in [("total", 3), ("green", 1), ("yellow", 1), ("red", 1)] {
        assert!(
            html.contains(&format!("data-count=\"{count}\">{n}<")),
            "{count}: {html}"
        );
    }

    // The CSV: today by default, an earlier day on request, within the 28 days kept.
    let csv_lines = |csv: &str| -> Vec<String> {
        csv.trim_start_matches('\u{feff}')
            .lines()
            .skip(1)
            .map(str::to_owned)
            .collect()
    };
    let (status, cache, csv) = fetch(&f, "/venue/entries.csv", &token).await;
    assert_eq!((status, cache.as_str()), (200, "no-store"));
    assert_eq!(
        csv_lines(&csv),
        [
            "2026-11-22 00:30:00,张*国,黄码,随申码",
            "2026-11-22 00:30:00,赵*兰,红码,随申码",
            "2026-11-22 00:30:00,王*英,绿码,随申码",
        ]
    );
    let (status, cache, csv) = fetch(&f, "/venue/entries.csv?date=2026-11-21", &token).await;
    assert_eq!((status, cache.as_str()), (200, "no-store"));
    assert_eq!(csv_lines(&csv), ["2026-11-21 10:00:00,王*英,绿码,随申码"]);
    let (status, _, csv) = fetch(&f, "/venue/entries.csv?date=2026-10-26", &token).await;
    assert_eq!(status, 200, "the oldest day kept: {csv}");
    assert!(csv_lines(&csv).is_empty());
    for (date, why) in [
        ("2026-10-25", "only 28 days are kept"),
        ("2026-11-23", "tomorrow"),
        ("22/11/2026", "not a date"),
    ] {
        let (status, _, html) = fetch(&f, &format!("/venue/entries.csv?date={date}"), &token).await;
        assert_eq!(status, 400, "{why}: {html}");
    }
    let (_, _, html) = fetch(&f, "/venue/entries.csv?date=2026-10-25", &token).await;
    assert!(html.contains("只能导出最近 28 天"), "{html}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_deletes_old_entries_when_it_starts() {
    use central::model::NewCitizen;
    use central::venues::{Decision, EntryVia, NewEntry, VenueApplication};
    let dir = tempfile::tempdir().unwrap();
    let test_data = common::backend::data_dir(dir.path().join("data"));
    let start = common::start_clock().now();
    // Before the service starts: a venue with entries 40, 29 and 27 days and an hour old (by
    // the test clock the service will run on).
    let venue = common::backend::off_runtime(|| {
        let store = test_data.data.store().unwrap();
        let operator = store
            .add_principal(
                central::model::Role::Operator,
                "值班运维",
                "示例单位",
                &[1; 32],
            )
            .unwrap();
        let citizen = store
            .upsert_citizen(&NewCitizen {
                id_number: protocol::IdNumber::parse(people::SENIOR.0).unwrap(),
                name: people::SENIOR.1.into(),
                photo: None,
                color: Color::Green,
                realname_verified: true,
            })
            .unwrap();
        let venue = store
            .apply_venue(
                &VenueId([7; 8]),
                &VenueApplication {
                    name: VENUE_NAME.into(),
                    uscc: protocol::Uscc::parse(USCC).unwrap(),
                    address: VENUE_ADDRESS.into(),
                    contact_name: "李联系".into(),
                    contact_phone: "13800138000".into(),
                },
                start - Duration::days(60),
            )
            .unwrap();
        store
            .decide_venue(
                venue,
                &Decision::Approve {
                    token_hash: [9; 32],
                },
                operator,
                start - Duration::days(60),
            )
            .unwrap()
            .unwrap();
        store
            .new_poster(venue, start - Duration::days(60), &mut |serial| {
                Ok((1, format!("SSMV1:TEST{serial}")))
            })
            .unwrap();
        for age in [
            Duration::days(40),
            Duration::days(29),
            Duration::days(27),
            Duration::hours(1),
        ] {
            store
                .record_entry(&NewEntry {
                    venue,
                    at: start - age,
                    citizen,
                    color: Color::Green,
                    via: EntryVia::Poster { serial: 1 },
                })
                .unwrap()
                .unwrap();
        }
        venue
    });
    let service = common::Service::start_on(dir, test_data).await;
    let left = || {
        service.with_store(|store| {
            store
                .venue_entries(
                    venue,
                    start - Duration::days(400),
                    start + Duration::days(1),
                )
                .unwrap()
                .iter()
                .map(|e| (start - e.at).whole_days())
                .collect::<Vec<_>>()
        })
    };
    // The clean-up's first round runs as the service starts (then every hour).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while left().len() > 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "old entries still there: {:?}",
            left()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left(), [27, 0], "the recent entries stay");
    assert_eq!(
        central::venues::CLEANUP_INTERVAL,
        std::time::Duration::from_secs(3600)
    );
}

/// The pixels of a PNG as RGB, with its width.
fn rgb_pixels(png: &[u8]) -> (usize, usize, Vec<[u8; 3]>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buffer = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut buffer).unwrap();
    let channels = frame.color_type.samples();
    assert_eq!(frame.bit_depth, png::BitDepth::Eight);
    let pixels = buffer[..frame.buffer_size()]
        .chunks(channels)
        .map(|p| match channels {
            1 | 2 => [p[0], p[0], p[0]],
            _ => [p[0], p[1], p[2]],
        })
        .collect();
    (frame.width as usize, frame.height as usize, pixels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_poster_prints_the_name_the_headline_and_a_qr_about_120_mm_wide() {
    let f = Fixture::new().await;
    let token = registered_venue(&f).await;
    let pdf = poster_pdf(&f, &token).await;
    let qr = poster_qr(&pdf);
    assert!(qr.starts_with("SSMV1:"), "zbarimg reads the poster's code");

    const DPI: f64 = 150.0;
    let dir = tempfile::tempdir().unwrap();
    let (width, height, pixels) = rgb_pixels(&render_pdf(&pdf, DPI as u32, dir.path()));
    let mm = |px: usize| px as f64 * 25.4 / DPI;
    let px = |mm: f64| (mm / 25.4 * DPI).round() as usize;
    assert!((mm(width) - 210.0).abs() < 1.0 && (mm(height) - 297.0).abs() < 1.0);
    // The bounding box (mm from the top left) of the pixels in a band of the page (mm from the
    // top) that pass `ink`, and how many there are.
    let ink_in = |top: f64, bottom: f64, ink: &dyn Fn([u8; 3]) -> bool| {
        let (mut count, mut left, mut right, mut upper, mut lower) =
            (0usize, usize::MAX, 0, usize::MAX, 0);
        for y in px(top)..px(bottom).min(height) {
            for x in 0..width {
                if ink(pixels[y * width + x]) {
                    count += 1;
                    left = left.min(x);
                    right = right.max(x);
                    upper = upper.min(y);
                    lower = lower.max(y);
                }
            }
        }
        assert!(
            count > 0,
            "no ink between {top} and {bottom} mm from the top"
        );
        (count, mm(left), mm(right + 1), mm(upper), mm(lower + 1))
    };
    let black = |[r, g, b]: [u8; 3]| r < 100 && g < 100 && b < 100;
    let red = |[r, g, b]: [u8; 3]| r > 150 && g < 90 && b < 90;

    // The QR: black modules between the headline and the instructions. Its printed size is
    // the 150 mm square's share of the modules without the quiet zone.
    let (_, left, right, top, bottom) = ink_in(84.0, 228.0, &black);
    let modules = qrcode::QrCode::with_error_correction_level(qr.as_bytes(), qrcode::EcLevel::M)
        .unwrap()
        .width() as f64;
    let expected = central::venues::poster::QR_MM as f64 * modules / (modules + 8.0);
    let (qr_width, qr_height) = (right - left, bottom - top);
    assert!(
        (110.0..=130.0).contains(&qr_width),
        "the QR is {qr_width:.1} mm wide"
    );
    assert!(
        (qr_width - expected).abs() < 1.0,
        "{qr_width:.1} mm, drawn as {expected:.1} mm"
    );
    assert!(
        (qr_height - qr_width).abs() < 1.0,
        "square: {qr_width} x {qr_height}"
    );
    assert!(
        ((left + right) / 2.0 - 105.0).abs() < 1.0,
        "centred: {left}..{right}"
    );

    // The organisation's name (28 pt, black) under the band, and 进出请扫码 (48 pt, red) above the
    // QR: ink in both, centred, as wide as the text set in those sizes.
    let (count, left, right, _, _) = ink_in(22.0, 55.0, &black);
    assert!(count > 2000, "the name has ink: {count} pixels");
    let name_mm = VENUE_NAME.chars().count() as f64 * 28.0 * 25.4 / 72.0;
    assert!(
        ((right - left) - name_mm).abs() < 8.0,
        "the name is {:.1} mm wide, set {name_mm:.1} mm",
        right - left
    );
    assert!(((left + right) / 2.0 - 105.0).abs() < 3.0);
    let (count, left, right, top, bottom) = ink_in(55.0, 84.0, &red);
    assert!(count > 5000, "进出请扫码 has ink: {count} pixels");
    let headline_mm = 5.0 * 48.0 * 25.4 / 72.0;
    assert!(
        ((right - left) - headline_mm).abs() < 8.0,
        "进出请扫码 is {:.1} mm wide, set {headline_mm:.1} mm",
        right - left
    );
    assert!(bottom - top > 12.0, "48 pt tall: {top}..{bottom}");
}
