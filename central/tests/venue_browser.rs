//! The venue pages in a real browser (headless Chromium over the DevTools protocol, the driver
//! of `pages_support`): an organisation fills in the application form, the operator approves it,
//! the organisation signs in with its token and sees today's entries with masked names, colour
//! tags and counts, downloads its poster and the CSV from the page, and adds a door verifier.
//!
//! The organisation's page is screenshotted (under the temp dir, or `docs/screens/` with
//! `UPDATE_SCREENS=1`). Without Chromium this test fails and says what to install.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;
mod pages_support;
mod venue_support;

use common::{people, post_bearer};
use pages_support::{Browser, Fixture, keep_screenshot};
use protocol::api::{Color, routes};
use serde_json::json;
use time::Duration;
use venue_support::*;

const RID_1: &str = "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";
const WIDTH: u32 = 1280;
const HEIGHT: u32 = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_organisation_applies_signs_in_and_sees_its_entries() {
    let f = Fixture::new().await;
    f.service.with_store(|store| {
        store
            .set_color(
                &protocol::IdNumber::parse(people::SENIOR_2.0).unwrap(),
                Color::Red,
            )
            .unwrap()
    });
    let mut b = Browser::launch(WIDTH, HEIGHT);

    // The application form, typed as a person would.
    b.goto(&format!("{}/venues/apply", f.service.base));
    for (field, value) in [
        ("name", VENUE_NAME),
        ("uscc", "91310101ma1fl2x0pl"),
        ("address", VENUE_ADDRESS),
        ("contact_name", "李联系"),
        ("contact_phone", "138 0013 8000"),
    ] {
        b.eval(&format!("document.getElementById('{field}').focus()"));
        b.type_text(value);
    }
    b.eval("window.__before_submit = true");
    b.press_enter();
    b.wait_for(
        "window.__before_submit === undefined && document.querySelector('[data-outcome]') !== null",
        "the application's answer",
    );
    assert_eq!(
        b.eval("document.querySelector('[data-outcome]').dataset.outcome"),
        "applied",
        "{}",
        b.text()
    );
    let token = approve(&f, VENUE_NAME).await;

    // Entries: two 随申码 scans and an offline code at the door.
    let (status, content_type, pdf) = get_with(&f, "/venue/poster.pdf", &token).await;
    assert_eq!(
        (status.as_u16(), content_type.as_str()),
        (200, "application/pdf")
    );
    let qr = poster_qr(&pdf);
    for person in [people::SENIOR, people::SENIOR_2] {
        let (status, body) = scan(&f, &suishen(&f, person.0), &qr).await;
        assert_eq!(status, 200, "{body}");
        f.service.clock.advance(Duration::minutes(7));
    }
    let slip = f.issue(people::LEAP_DAY, "apply", RID_1).await;
    let door = door_verifier(&f, &token, "门卫老周").await;
    let (status, verdict) = post_bearer(
        &f.service.anonymous(),
        &f.service.url(routes::VERIFY),
        &door,
        &json!({"payload": slip}),
    )
    .await;
    assert_eq!((status, verdict["result"].as_str()), (200, Some("valid")));

    // The organisation signs in with its token on the form the page shows to a stranger.
    b.sign_in(
        &f.service.base,
        "/venue",
        &token,
        "document.readyState === 'complete' && document.querySelector('[data-counts]') !== null",
    );
    assert_eq!(
        b.eval("document.cookie"),
        json!(""),
        "the cookie is HttpOnly"
    );
    let page = b.eval(
        "(() => { const rows = [...document.querySelectorAll('tr[data-entry]')];
                  const count = (c) => document.querySelector(`[data-count=${c}]`).textContent;
                  return { rows: rows.map(r => [r.cells[0].textContent, r.querySelector('[data-name]').textContent,
                                               r.cells[2].textContent, r.cells[3].textContent,
                                               getComputedStyle(r.querySelector('.tag')).backgroundColor]),
                           total: count('total'), green: count('green'), yellow: count('yellow'), red: count('red'),
                           venue: document.querySelector('[data-venue-name]').textContent,
                           csv: document.querySelector('[data-csv]').getAttribute('href'),
                           download: document.querySelector('[data-download]').getAttribute('href'),
                           serial: document.querySelector('[data-poster-serial]').textContent }; })()",
    );
    assert_eq!(
        page["rows"],
        json!([
            ["10:00:00", "王*英", "绿码", "随申码", "rgb(10, 125, 50)"],
            ["10:07:00", "张*国", "红码", "随申码", "rgb(196, 22, 28)"],
            ["10:14:00", "赵*兰", "绿码", "离线码", "rgb(10, 125, 50)"],
        ]),
        "{page}"
    );
    assert_eq!(
        (
            page["total"].as_str(),
            page["green"].as_str(),
            page["yellow"].as_str(),
            page["red"].as_str()
        ),
        (Some("3"), Some("2"), Some("0"), Some("1"))
    );
    assert_eq!(page["venue"], format!("单位：{VENUE_NAME}"));
    assert_eq!(page["serial"], "1");
    let text = b.text();
    for full in [people::SENIOR, people::SENIOR_2, people::LEAP_DAY] {
        assert!(
            !text.contains(full.1) && !text.contains(full.0),
            "{}",
            full.1
        );
    }
    let shot = b.screenshot();
    let path = keep_screenshot("venue-page.png", &shot, WIDTH, HEIGHT);
    assert!(path.exists());

    // The page's links work with the session: the CSV and the poster.
    let csv = b.eval(&format!(
        "fetch({}).then(r => r.text())",
        json!(page["csv"].as_str().unwrap())
    ));
    let csv = csv.as_str().unwrap().trim_start_matches('\u{feff}');
    assert_eq!(
        csv.lines().collect::<Vec<_>>(),
        [
            "时间,姓名,健康码,方式",
            "2026-11-21 10:00:00,王*英,绿码,随申码",
            "2026-11-21 10:07:00,张*国,红码,随申码",
            "2026-11-21 10:14:00,赵*兰,绿码,离线码",
        ]
    );
    let poster = b.eval(&format!(
        "fetch({}).then(async r => [r.headers.get('content-type'), (await r.arrayBuffer()).byteLength])",
        json!(page["download"].as_str().unwrap())
    ));
    assert_eq!(poster[0], "application/pdf");
    assert!(poster[1].as_u64().unwrap() > 10_000, "{poster}");

    // A door verifier added on the page: the token is shown once, and it verifies.
    b.eval("document.getElementById('door-name').focus()");
    b.type_text("保安小王");
    b.eval("window.__before_add = true");
    b.press_enter();
    b.wait_for(
        "window.__before_add === undefined && document.querySelector('[data-outcome=door-verifier]') !== null",
        "the door verifier's token",
    );
    let new_door = b
        .eval("document.querySelector('[data-token]').textContent")
        .as_str()
        .unwrap()
        .to_owned();
    assert!(new_door.starts_with("v_"), "{new_door}");
    let (status, verdict) = post_bearer(
        &f.service.anonymous(),
        &f.service.url(routes::VERIFY),
        &new_door,
        &json!({"payload": slip}),
    )
    .await;
    assert_eq!((status, verdict["result"].as_str()), (200, Some("valid")));
    b.goto(&format!("{}/venue", f.service.base));
    assert_eq!(
        b.eval("document.querySelector('[data-count=total]').textContent"),
        "4"
    );
}
