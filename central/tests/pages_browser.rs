//! The pages in a real browser: headless Chromium, driven over the DevTools protocol, against the
//! service over HTTPS on loopback. A verifier signs in with the form, "scans" a slip by typing
//! its QR text and Enter into the focused field (as a USB scanner in keyboard mode does) and
//! sees the verdict; each colour's band and the watermark covering the whole verdict at
//! 1920x1080, 2560x1440 and on a 390x844 phone; the camera with Chromium's fake camera and a
//! stand-in `BarcodeDetector`, and only the paste field without one; the directory follows a
//! kiosk's heartbeats; the fleet view shows a help
//! request on top and stale kiosks highlighted; the counter reports a slip lost.
//!
//! Most tests also take a screenshot (kept under the temp dir, or written to `docs/screens/`
//! with `UPDATE_SCREENS=1`). Without Chromium these tests fail and say what to install.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;
mod pages_support;

use common::{get, people, post_bearer};
use pages_support::{Browser, Fixture, VERIFIER_NAME, VERIFIER_ORG, keep_screenshot};
use protocol::api::routes;
use serde_json::{Value, json};
use time::Duration;

const RID_1: &str = "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";
const RID_2: &str = "7f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";
const RID_3: &str = "8f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";

const WIDTH: u32 = 1280;
const HEIGHT: u32 = 900;
/// Tall enough for the fleet view's five kiosks.
const FLEET_HEIGHT: u32 = 1200;

/// The page is ready to take a scan: the scan field exists and has the focus.
const SCAN_READY: &str = "document.getElementById('payload') !== null && document.activeElement === document.getElementById('payload')";

fn scan(browser: &mut Browser, qr: &str) {
    browser.wait_for(SCAN_READY, "the scan field to have the focus");
    // A fresh marker on the old document tells the new verdict from a previous one.
    browser.eval("window.__before_scan = true");
    browser.type_text(qr);
    browser.press_enter();
    browser.wait_for(
        "window.__before_scan === undefined && document.readyState === 'complete' && document.querySelector('[data-result]') !== null",
        "the verdict",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valid_code_shows_the_green_band_the_masked_holder_the_watermark_and_a_ticking_clock() {
    let f = Fixture::new().await;
    let qr = f.issue(people::SENIOR, "apply", RID_1).await;
    let mut b = Browser::launch(WIDTH, HEIGHT);

    // Not signed in: the sign-in form, then the scan page.
    b.sign_in(
        &f.service.base,
        "/verify",
        &f.verifier,
        "document.getElementById('payload') !== null",
    );
    // The token lives in an HttpOnly cookie: no script on the page can read it.
    assert_eq!(b.eval("document.cookie"), json!(""));
    assert!(b.text().contains("赵核验（示例单位）"));

    scan(&mut b, &qr);
    let verdict = b.eval(
        "(() => { const r = document.querySelector('[data-result]');
                  const band = r.querySelector('.band');
                  const get = (f) => r.querySelector(`[data-field=${f}]`).textContent;
                  return { result: r.dataset.result, color: r.dataset.color,
                           word: r.querySelector('[data-band]').textContent,
                           background: getComputedStyle(band).backgroundColor,
                           bandShare: band.getBoundingClientRect().height / innerHeight,
                           fills: (() => {
                               const box = r.getBoundingClientRect();
                               const top = document.querySelector('.topbar').getBoundingClientRect();
                               const bar = document.getElementById('scan-form').getBoundingClientRect();
                               return box.top <= top.bottom + 1 && box.bottom >= bar.top - 1
                                   && box.left <= 0 && box.right >= innerWidth; })(),
                           name: get('name'), id: get('id_number'), serial: get('serial'),
                           expires: get('expires_on') }; })()",
    );
    assert_eq!(verdict["result"], "valid", "{verdict}");
    assert_eq!(verdict["color"], "green");
    assert_eq!(verdict["word"], "绿码");
    assert_eq!(verdict["background"], "rgb(10, 125, 50)");
    assert!(
        verdict["bandShare"].as_f64().unwrap() >= 0.3,
        "a large band: {verdict}"
    );
    assert_eq!(
        verdict["fills"], true,
        "the verdict fills the screen between the top bar and the scan bar: {verdict}"
    );
    assert_eq!(verdict["name"], "王*英");
    assert_eq!(verdict["id"], "310***********0029");
    assert_eq!(verdict["serial"], "第 1 张");
    assert_eq!(verdict["expires"], "2027年5月19日");
    assert!(!b.text().contains("王秀英"), "the full name is never shown");
    assert!(!b.text().contains("310101195003150029"));

    // The photo, decoded by the browser.
    b.wait_for(
        "(() => { const p = document.querySelector('img[data-photo]');
                  return p !== null && p.complete && p.naturalWidth > 100; })()",
        "the holder's photo",
    );

    // The watermark: the verifier's name, organisation and the time of the check, repeated
    // diagonally over the whole verdict, above it and not catching clicks.
    let mark = b.eval(
        "(() => { const w = document.querySelector('.watermark');
                  const grid = w.querySelector('.watermark-grid');
                  const r = document.querySelector('[data-result]').getBoundingClientRect();
                  const box = w.getBoundingClientRect();
                  const spans = grid.querySelectorAll('span');
                  return { text: spans[0].textContent, count: spans.length,
                           transform: getComputedStyle(grid).transform,
                           covers: box.top <= r.top && box.bottom >= r.bottom
                                   && box.left <= r.left && box.right >= r.right,
                           z: Number(getComputedStyle(w).zIndex),
                           events: getComputedStyle(w).pointerEvents }; })()",
    );
    let text = mark["text"].as_str().unwrap();
    assert!(text.contains(VERIFIER_NAME), "{mark}");
    assert!(text.contains(VERIFIER_ORG), "{mark}");
    assert!(text.contains("2026-11-21 10:00:00"), "{mark}");
    assert!(mark["count"].as_u64().unwrap() >= 100, "{mark}");
    assert_ne!(
        mark["transform"], "none",
        "the watermark is rotated: {mark}"
    );
    assert_eq!(mark["covers"], true, "{mark}");
    assert!(mark["z"].as_i64().unwrap() > 0, "{mark}");
    assert_eq!(mark["events"], "none");

    // The live clock: its seconds change between two reads.
    let clock = "document.querySelector('[data-result] [data-clock=time]').textContent";
    let first = b.eval(clock).as_str().unwrap().to_owned();
    assert_eq!(first.len(), 8, "HH:MM:SS: {first}");
    b.wait_for(
        &format!("{clock} !== {}", json!(first)),
        "the clock's seconds to change",
    );
    let second = b.eval(clock).as_str().unwrap().to_owned();
    assert_ne!(first, second);
    assert!(
        second.starts_with("10:0"),
        "Shanghai time by the service's clock: {second}"
    );

    // Ready for the next slip at once.
    b.wait_for(SCAN_READY, "the scan field to have the focus again");
    keep_screenshot("verify-valid.png", &b.screenshot(), WIDTH, HEIGHT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_superseded_code_says_why_and_the_new_slip_verifies() {
    let f = Fixture::new().await;
    let old = f.issue(people::SENIOR_2, "apply", RID_1).await;
    let new = f.issue(people::SENIOR_2, "reissue", RID_2).await;
    let mut b = Browser::launch(WIDTH, HEIGHT);
    b.sign_in(
        &f.service.base,
        "/verify",
        &f.verifier,
        "document.getElementById('payload') !== null",
    );

    scan(&mut b, &old);
    let verdict = b.eval(
        "(() => { const r = document.querySelector('[data-result]');
                  return { result: r.dataset.result, color: r.dataset.color,
                           word: r.querySelector('[data-band]').textContent,
                           reason: r.querySelector('[data-reason]').textContent,
                           name: r.querySelector('[data-field=name]').textContent,
                           photo: r.querySelector('img[data-photo]') !== null }; })()",
    );
    assert_eq!(verdict["result"], "superseded", "{verdict}");
    assert_eq!(
        verdict["color"], "none",
        "no colour for a slip that is not valid"
    );
    assert_eq!(verdict["word"], "无效");
    let reason = verdict["reason"].as_str().unwrap();
    assert!(reason.contains("补领了新的凭条"), "{reason}");
    assert!(reason.contains("出示最新的凭条"), "{reason}");
    assert_eq!(verdict["name"], "张*国");
    assert_eq!(
        verdict["photo"], false,
        "no photo for a slip that is not valid"
    );
    assert!(b.text().contains("此凭条已被补领的新凭条取代"));
    assert!(!b.text().contains("绿码"));
    keep_screenshot("verify-superseded.png", &b.screenshot(), WIDTH, HEIGHT);

    // Scanning again straight from the verdict: the new slip is valid, issue 2.
    scan(&mut b, &new);
    assert_eq!(
        b.eval("document.querySelector('[data-result]').dataset.result"),
        "valid"
    );
    assert_eq!(
        b.eval("document.querySelector('[data-field=serial]').textContent"),
        "第 2 张"
    );
    // Text that is no code at all.
    scan(&mut b, "HELLO WORLD");
    assert_eq!(
        b.eval("document.querySelector('[data-result]').dataset.result"),
        "unknown"
    );
    assert!(b.text().contains("查无此码"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_directory_marks_a_kiosk_unavailable_once_its_heartbeat_reports_paper_out() {
    let f = Fixture::new().await;
    let k2 = f.kiosk_with(
        "K002",
        "徐汇区行政服务中心",
        "上海市徐汇区南丹东路 300 号 1 楼大厅",
        "周一至周六 9:00-17:00",
    );
    let _k3 = f.kiosk_with(
        "K003",
        "浦东新区市民中心",
        "上海市浦东新区合欢路 2 号",
        "周一至周五 9:00-17:00",
    );
    f.heartbeat(&f.kiosk, json!({})).await;
    f.heartbeat(&k2, json!({"paper": "near_end"})).await;
    // K003 never sent a heartbeat.

    let mut b = Browser::launch(WIDTH, HEIGHT);
    let directory = format!("{}/kiosks", f.service.base);
    b.goto(&directory);
    let state = |b: &mut Browser, id: &str| -> Value {
        b.eval(&format!(
            "(() => {{ const k = document.querySelector('[data-kiosk={id}]');
                      return {{ can: k.dataset.canIssue,
                               status: k.querySelector('[data-status]').textContent }}; }})()"
        ))
    };
    assert_eq!(
        state(&mut b, "K001"),
        json!({"can": "true", "status": "可以办理"})
    );
    assert_eq!(state(&mut b, "K002")["can"], "true");
    assert_eq!(
        state(&mut b, "K003"),
        json!({"can": "false", "status": "暂不能办理：终端未连接"})
    );
    let text = b.text();
    assert!(text.contains("上海市黄浦区示例路 1 号"), "{text}");
    assert!(text.contains("周一至周日 9:00-17:00"), "{text}");

    // The printer runs out of paper: the next heartbeat says so, and the directory follows.
    f.service.clock.advance(Duration::seconds(30));
    f.heartbeat(
        &f.kiosk,
        json!({"paper": "out", "devices": [
            {"device": "printer", "state": "degraded", "last_error": "缺纸"}]}),
    )
    .await;
    b.goto(&directory);
    assert_eq!(
        state(&mut b, "K001"),
        json!({"can": "false", "status": "暂不能办理：打印纸用完"})
    );
    // The JSON directory agrees.
    let (status, json) = get(&f.service.anonymous(), &f.service.url(routes::KIOSKS)).await;
    assert_eq!(status, 200);
    assert_eq!(json["kiosks"][0]["kiosk_id"], "K001");
    assert_eq!(json["kiosks"][0]["can_issue"], false);
    assert_eq!(json["kiosks"][0]["paper"], "out");
    keep_screenshot("kiosks.png", &b.screenshot(), WIDTH, HEIGHT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_view_puts_a_help_request_on_top_and_highlights_stale_kiosks() {
    let f = Fixture::new().await;
    let k2 = f.kiosk_with(
        "K002",
        "徐汇区行政服务中心",
        "上海市徐汇区南丹东路 300 号",
        "周一至周六 9:00-17:00",
    );
    let k3 = f.kiosk_with(
        "K003",
        "浦东新区市民中心",
        "上海市浦东新区合欢路 2 号",
        "周一至周五 9:00-17:00",
    );
    let k5 = f.kiosk_with(
        "K005",
        "静安区社区事务受理中心",
        "上海市静安区共和新路 912 号",
        "周一至周五 9:00-17:00",
    );
    let _k4 = f.kiosk_with(
        "K004",
        "长宁区行政服务中心",
        "上海市长宁区长宁路 599 号",
        "周一至周五 9:00-17:00",
    );
    // K003's last heartbeat is at 10:00; everyone else's at 10:04, so K003 is stale.
    f.heartbeat(&k3, json!({"paper": "out"})).await;
    f.service.clock.advance(Duration::minutes(4));
    f.heartbeat(&f.kiosk, json!({"journal_backlog": 3})).await;
    f.heartbeat(
        &k2,
        json!({"help_requested_at": "2026-11-21T10:03:30+08:00", "devices": [
            {"device": "idcard", "state": "connected", "last_error": null},
            {"device": "scanner", "state": "degraded", "last_error": "扫码器无响应，正在重连"},
            {"device": "printer", "state": "connected", "last_error": null}]}),
    )
    .await;
    f.heartbeat(
        &k5,
        json!({"in_service": false, "out_of_service_reason": "维护中：更换打印头"}),
    )
    .await;
    // K001's journal: two errors today, one yesterday (Shanghai time), one other event today.
    let event = |id: &str, at: &str, kind: &str| json!({"id": id, "at": at, "kind": kind, "detail": {"reason": "printer_timeout"}});
    let (status, ack) = common::post(
        &f.kiosk,
        &f.service.url(routes::JOURNAL),
        &json!({"events": [
            event("0b8f7b7c-4a6e-4d55-9c1e-000000000001", "2026-11-21T00:30:00+08:00", "error"),
            event("0b8f7b7c-4a6e-4d55-9c1e-000000000002", "2026-11-21T10:01:00+08:00", "error"),
            event("0b8f7b7c-4a6e-4d55-9c1e-000000000003", "2026-11-20T23:59:59+08:00", "error"),
            event("0b8f7b7c-4a6e-4d55-9c1e-000000000004", "2026-11-21T10:02:00+08:00", "printed"),
        ]}),
    )
    .await;
    assert_eq!(status, 200, "{ack}");

    let mut b = Browser::launch(1440, FLEET_HEIGHT);
    // Without the operator's token: the sign-in form (401), then the view.
    b.goto(&format!("{}/fleet", f.service.base));
    assert!(b.text().contains("运维人员登录"));
    b.sign_in(
        &f.service.base,
        "/fleet",
        &f.operator,
        "document.readyState === 'complete' && document.querySelector('table.fleet') !== null",
    );
    let rows = b.eval(
        "[...document.querySelectorAll('tr[data-kiosk]')].map(r => ({
            id: r.dataset.kiosk, stale: r.dataset.stale, help: r.classList.contains('help'),
            background: getComputedStyle(r).backgroundColor,
            errors: r.querySelector('[data-errors]').textContent,
            backlog: r.querySelector('[data-backlog]') ? r.querySelector('[data-backlog]').textContent : null,
            text: r.innerText }))",
    );
    let rows = rows.as_array().unwrap();
    let ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["K002", "K001", "K003", "K004", "K005"], "help first");
    let row = |id: &str| rows.iter().find(|r| r["id"] == id).unwrap();
    assert_eq!(row("K002")["help"], true);
    assert!(
        row("K002")["text"]
            .as_str()
            .unwrap()
            .contains("呼叫工作人员 10:03:30")
    );
    assert!(
        row("K002")["text"]
            .as_str()
            .unwrap()
            .contains("扫码器无响应，正在重连")
    );
    let banner = b.eval("document.querySelector('[data-help=K002]').textContent");
    assert!(
        banner.as_str().unwrap().contains("2026-11-21 10:03:30"),
        "{banner}"
    );
    // Stale kiosks are highlighted; fresh ones are not.
    assert_eq!(row("K003")["stale"], "true");
    assert_eq!(row("K004")["stale"], "true");
    assert!(row("K004")["text"].as_str().unwrap().contains("从未连接"));
    assert_eq!(row("K001")["stale"], "false");
    assert_ne!(row("K003")["background"], row("K001")["background"]);
    assert!(row("K003")["text"].as_str().unwrap().contains("心跳超时"));
    assert!(row("K003")["text"].as_str().unwrap().contains("缺纸"));
    // Errors today and the backlog.
    assert_eq!(row("K001")["errors"], "2");
    assert_eq!(row("K002")["errors"], "0");
    assert_eq!(row("K001")["backlog"], "3");
    assert!(
        row("K005")["text"]
            .as_str()
            .unwrap()
            .contains("维护中：更换打印头")
    );
    keep_screenshot("fleet.png", &b.screenshot(), 1440, FLEET_HEIGHT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counter_reports_a_slip_lost_and_it_stops_verifying() {
    let f = Fixture::new().await;
    let qr = f.issue(people::LEAP_DAY, "apply", RID_3).await;
    let mut b = Browser::launch(WIDTH, HEIGHT);
    b.sign_in(
        &f.service.base,
        "/portal/report-lost",
        &f.portal,
        "document.getElementById('id_number') !== null",
    );
    b.wait_for(
        "document.activeElement === document.getElementById('id_number')",
        "the ID number field to have the focus",
    );
    b.type_text(people::LEAP_DAY.0);
    b.press_enter();
    b.wait_for(
        "document.querySelector('[data-outcome]') !== null",
        "the outcome",
    );
    assert_eq!(
        b.eval("document.querySelector('[data-outcome]').dataset.outcome"),
        "lost"
    );
    let text = b.text();
    assert!(
        text.contains("赵*兰（310***********0049）的第 1 张"),
        "{text}"
    );
    assert!(!text.contains(people::LEAP_DAY.0), "never the full number");

    // The slip no longer verifies.
    let (status, verdict) = post_bearer(
        &f.service.anonymous(),
        &f.service.url(routes::VERIFY),
        &f.verifier,
        &json!({"payload": qr}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(verdict["result"], "lost");

    // Again: nothing left to report.
    b.wait_for(
        "document.activeElement === document.getElementById('id_number')",
        "the ID number field to have the focus",
    );
    b.type_text(people::LEAP_DAY.0);
    b.press_enter();
    b.wait_for(
        "document.querySelector('[data-outcome=refused]') !== null",
        "the refusal",
    );
    assert!(b.text().contains("目前没有有效的离线码"));
}

/// How far (in CSS pixels) any point of the verdict may lie from a copy of the watermark: the
/// gaps between copies are 2.5rem by 3.5rem (50 x 70 px).
const WATERMARK_REACH: f64 = 60.0;

/// Samples the verdict every 24 px and measures, in the rotated grid's own coordinates, how far
/// each point is from the nearest copy of the watermark text.
const WATERMARK_COVERAGE: &str = "(() => {
    const result = document.querySelector('[data-result]');
    const r = result.getBoundingClientRect();
    const w = result.querySelector('.watermark');
    const grid = w.querySelector('.watermark-grid');
    const box = w.getBoundingClientRect();
    const g = grid.getBoundingClientRect();
    const cx = g.left + g.width / 2, cy = g.top + g.height / 2;
    const inverse = new DOMMatrix(getComputedStyle(grid).transform).inverse();
    const spans = [...grid.querySelectorAll('span')].map(s => ({
        l: s.offsetLeft, t: s.offsetTop, r: s.offsetLeft + s.offsetWidth, b: s.offsetTop + s.offsetHeight }));
    let worst = 0, worstAt = null, samples = 0;
    for (let y = r.top + 2; y < r.bottom; y += 24) {
        for (let x = r.left + 2; x < r.right; x += 24) {
            const q = inverse.transformPoint(new DOMPoint(x - cx, y - cy));
            const lx = q.x + grid.offsetWidth / 2, ly = q.y + grid.offsetHeight / 2;
            let best = Infinity;
            for (const s of spans) {
                const dx = Math.max(s.l - lx, 0, lx - s.r), dy = Math.max(s.t - ly, 0, ly - s.b);
                const d = Math.hypot(dx, dy);
                if (d < best) { best = d; if (d === 0) { break; } }
            }
            samples++;
            if (best > worst) { worst = best; worstAt = [Math.round(x), Math.round(y)]; }
        }
    }
    return { samples, worst, worstAt, copies: spans.length,
             text: grid.querySelector('span').textContent,
             covers: box.top <= r.top && box.bottom >= r.bottom && box.left <= r.left && box.right >= r.right,
             resultWidth: r.width, resultHeight: r.height,
             transform: getComputedStyle(grid).transform };
})()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_colour_fills_the_band_and_the_watermark_covers_the_whole_verdict_on_every_screen() {
    let f = Fixture::new().await;
    f.service.with_store(|store| {
        for (person, color) in [
            (people::SENIOR_2, protocol::api::Color::Yellow),
            (people::LEAP_DAY, protocol::api::Color::Red),
        ] {
            store
                .set_color(&protocol::IdNumber::parse(person.0).unwrap(), color)
                .unwrap();
        }
    });
    let green = f.issue(people::SENIOR, "apply", RID_1).await;
    let yellow = f.issue(people::SENIOR_2, "apply", RID_2).await;
    let red = f.issue(people::LEAP_DAY, "apply", RID_3).await;

    let mut b = Browser::launch(1920, 1080);
    b.sign_in(
        &f.service.base,
        "/verify",
        &f.verifier,
        "document.getElementById('payload') !== null",
    );
    for (width, height, qr, color, word, background, shot) in [
        (
            1920,
            1080,
            &green,
            "green",
            "绿码",
            "rgb(10, 125, 50)",
            None,
        ),
        (
            2560,
            1440,
            &yellow,
            "yellow",
            "黄码",
            "rgb(255, 204, 0)",
            None,
        ),
        (
            390,
            844,
            &red,
            "red",
            "红码",
            "rgb(196, 22, 28)",
            Some("verify-red-phone.png"),
        ),
    ] {
        b.resize(width, height);
        scan(&mut b, qr);
        let band = b.eval(
            "(() => { const r = document.querySelector('[data-result]');
                      const band = r.querySelector('.band');
                      return { result: r.dataset.result, color: r.dataset.color,
                               word: r.querySelector('[data-band]').textContent,
                               background: getComputedStyle(band).backgroundColor,
                               width: innerWidth,
                               field: document.getElementById('payload')
                                   .getBoundingClientRect().width }; })()",
        );
        assert!(
            band["field"].as_f64().unwrap() >= 150.0,
            "the scan field keeps room to paste into: {band}"
        );
        assert_eq!(band["width"], width, "{band}");
        assert_eq!(band["result"], "valid", "{band}");
        assert_eq!(band["color"], color, "{band}");
        assert_eq!(band["word"], word, "{band}");
        assert_eq!(band["background"], background, "{band}");

        // The watermark, once the page's script has filled it: every point of the verdict is
        // within reach of a copy naming the verifier, their organisation and the time.
        b.wait_for(
            "document.fonts.status === 'loaded'",
            "the page's fonts to load",
        );
        let mark = b.eval(WATERMARK_COVERAGE);
        let text = mark["text"].as_str().unwrap();
        assert!(
            text.contains(VERIFIER_NAME) && text.contains(VERIFIER_ORG),
            "{mark}"
        );
        assert!(text.contains("2026-11-21 10:00:00"), "{mark}");
        assert_ne!(mark["transform"], "none", "diagonal: {mark}");
        assert_eq!(mark["covers"], true, "{mark}");
        assert!(mark["samples"].as_u64().unwrap() > 300, "{mark}");
        assert!(
            mark["worst"].as_f64().unwrap() <= WATERMARK_REACH,
            "at {width}x{height} a point of the verdict is far from any watermark: {mark}"
        );
        if let Some(name) = shot {
            keep_screenshot(name, &b.screenshot(), width, height);
        }
    }

    // Without the script's filling (the copies the service renders, only), the largest screen
    // is not covered: the check above can tell.
    b.resize(2560, 1440);
    scan(&mut b, &green);
    b.eval(
        "(() => { const grid = document.querySelector('.watermark-grid');
                  grid.removeAttribute('style');
                  const copies = grid.querySelectorAll('span');
                  for (let i = 120; i < copies.length; i++) { copies[i].remove(); } })()",
    );
    let bare = b.eval(WATERMARK_COVERAGE);
    assert!(
        bare["worst"].as_f64().unwrap() > WATERMARK_REACH,
        "the measure tells an uncovered verdict: {bare}"
    );
}

/// A stand-in for the browser's `BarcodeDetector` (Chromium on Linux has none): it reports QR
/// support, and once the camera's video has frames it "finds" `__FAKE_QR__` in them, noting in
/// `sessionStorage` what it was given.
const FAKE_DETECTOR: &str = "window.BarcodeDetector = class {
    constructor(options) { this.formats = (options && options.formats) || []; }
    static getSupportedFormats() { return Promise.resolve(['qr_code', 'ean_13']); }
    detect(source) {
        const frames = source instanceof HTMLVideoElement && source.videoWidth > 0 && !source.paused;
        sessionStorage.setItem('detect', JSON.stringify({
            tag: source && source.tagName, width: source.videoWidth, height: source.videoHeight,
            live: !!(source.srcObject && source.srcObject.getVideoTracks()[0]
                     && source.srcObject.getVideoTracks()[0].readyState === 'live'),
            formats: this.formats }));
        return Promise.resolve(frames ? [{ rawValue: __FAKE_QR__, format: 'qr_code' }] : []);
    }
};";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_camera_scans_where_the_browser_detects_qr_codes_and_only_there() {
    let f = Fixture::new().await;
    let qr = f.issue(people::SENIOR, "apply", RID_1).await;

    // Chromium's fake camera, and a stand-in BarcodeDetector.
    let mut b = Browser::launch_with(
        WIDTH,
        HEIGHT,
        &[
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
        ],
    );
    b.before_every_document(&FAKE_DETECTOR.replace("__FAKE_QR__", &json!(qr).to_string()));
    b.sign_in(
        &f.service.base,
        "/verify",
        &f.verifier,
        "document.getElementById('payload') !== null",
    );
    b.wait_for(
        "!document.getElementById('camera').hidden",
        "the camera button to show",
    );
    assert_eq!(
        b.eval("getComputedStyle(document.getElementById('camera')).display !== 'none'"),
        true
    );
    b.eval("window.__before_scan = true; document.getElementById('camera').click()");
    b.wait_for(
        "window.__before_scan === undefined && document.readyState === 'complete' \
         && document.querySelector('[data-result]') !== null",
        "the verdict of the camera's scan",
    );
    assert_eq!(
        b.eval("document.querySelector('[data-result]').dataset.result"),
        "valid"
    );
    assert_eq!(
        b.eval("document.querySelector('[data-field=name]').textContent"),
        "王*英"
    );
    let seen = b.eval("JSON.parse(sessionStorage.getItem('detect'))");
    assert_eq!(
        seen["tag"], "VIDEO",
        "the detector looked at the camera's video: {seen}"
    );
    assert!(seen["width"].as_u64().unwrap() > 0, "{seen}");
    assert_eq!(seen["live"], true, "{seen}");
    assert_eq!(seen["formats"], json!(["qr_code"]), "{seen}");
    // The camera is off again and the scan field ready.
    assert_eq!(
        b.eval("document.getElementById('camera-view').hidden"),
        true
    );
    b.wait_for(SCAN_READY, "the scan field to have the focus");
    drop(b);

    // A browser without BarcodeDetector: no camera button; the paste field does the job.
    let mut b = Browser::launch_with(
        WIDTH,
        HEIGHT,
        &[
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
        ],
    );
    b.before_every_document("delete window.BarcodeDetector;");
    b.sign_in(
        &f.service.base,
        "/verify",
        &f.verifier,
        "document.getElementById('payload') !== null && document.readyState === 'complete'",
    );
    assert_eq!(b.eval("'BarcodeDetector' in window"), false);
    let controls = b.eval(
        "(() => { const camera = document.getElementById('camera');
                  const paste = document.getElementById('payload');
                  const box = paste.getBoundingClientRect();
                  return { hidden: camera.hidden, display: getComputedStyle(camera).display,
                           paste: box.width > 100 && box.height > 20,
                           label: document.querySelector('label[for=payload]').textContent }; })()",
    );
    assert_eq!(controls["hidden"], true, "{controls}");
    assert_eq!(controls["display"], "none", "{controls}");
    assert_eq!(controls["paste"], true, "{controls}");
    assert_eq!(controls["label"], "扫码或输入二维码内容");
    scan(&mut b, &qr);
    assert_eq!(
        b.eval("document.querySelector('[data-result]').dataset.result"),
        "valid"
    );
}
