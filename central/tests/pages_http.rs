//! The pages over plain HTTPS (no browser): the security headers, signing in and the cookie's
//! attributes, who may open which page, the refusal of forms from another origin or without
//! the session's form token, HTML escaping of everything from storage, and the counter page's
//! answers.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;
mod pages_support;

use central::admin::KioskDetails;
use central::model::Role;
use central::pages::CONTENT_SECURITY_POLICY;
use common::backend::off_runtime;
use common::{people, post_bearer};
use pages_support::{Fixture, cookie, form_body, form_token, page_client};
use protocol::api::routes;
use reqwest::StatusCode;
use serde_json::json;

const RID_1: &str = "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";

/// Sends a form from "this" origin with a session cookie.
async fn post_form(
    f: &Fixture,
    path: &str,
    token: Option<&str>,
    origin: Option<&str>,
    fields: &[(&str, &str)],
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut request = page_client(&f.service)
        .post(f.service.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(fields));
    if let Some(token) = token {
        request = request.header("cookie", cookie(token));
    }
    if let Some(origin) = origin {
        request = request.header("origin", origin);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn get_page(
    f: &Fixture,
    path: &str,
    token: Option<&str>,
) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let mut request = page_client(&f.service).get(f.service.url(path));
    if let Some(token) = token {
        request = request.header("cookie", cookie(token));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

#[tokio::test]
async fn every_page_carries_the_policy_and_is_not_stored() {
    let f = Fixture::new().await;
    for (path, token) in [
        ("/", None),
        ("/kiosks", None),
        ("/signin", None),
        ("/verify", Some(f.verifier.as_str())),
        ("/verify", None),
        ("/fleet", Some(f.operator.as_str())),
        ("/portal/report-lost", Some(f.portal.as_str())),
    ] {
        let (status, headers, body) = get_page(&f, path, token).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::UNAUTHORIZED,
            "{path}: {status}"
        );
        assert_eq!(
            headers["content-security-policy"], CONTENT_SECURITY_POLICY,
            "{path}"
        );
        assert_eq!(headers["cache-control"], "no-store", "{path}");
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "DENY", "{path}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(body.starts_with("<!DOCTYPE html>"), "{path}");
        assert!(body.contains("<html lang=\"zh-CN\">"), "{path}");
        // No inline script or style: the policy allows none.
        assert!(!body.contains("<script>"), "{path}");
        assert!(!body.contains("<style"), "{path}");
        assert!(!body.contains(" style="), "{path}");
        assert!(!body.contains(" on"), "{path}: no inline event handlers");
    }
    assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self'"));
    assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
    assert!(!CONTENT_SECURITY_POLICY.contains("unsafe-inline"));

    for (path, kind) in [
        (central::pages::assets::CSS_PATH, "text/css"),
        (central::pages::assets::JS_PATH, "text/javascript"),
    ] {
        let (status, headers, body) = get_page(&f, path, None).await;
        assert_eq!(status, StatusCode::OK);
        assert!(headers["content-type"].to_str().unwrap().starts_with(kind));
        assert!(!body.is_empty());
    }
    // The verify API answer is not stored either (it shows a person).
    let response = f
        .service
        .anonymous()
        .post(f.service.url(routes::VERIFY))
        .bearer_auth(&f.verifier)
        .json(&json!({"payload": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn signing_in_sets_a_strict_http_only_secure_cookie_and_goes_to_the_page() {
    let f = Fixture::new().await;
    let origin = f.service.base.clone();
    let (status, headers, _) = post_form(
        &f,
        "/signin",
        None,
        Some(&origin),
        &[("token", &f.operator), ("next", "/fleet")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/fleet");
    let set_cookie = headers["set-cookie"].to_str().unwrap();
    assert!(set_cookie.starts_with(&format!("__Host-ssm_session={}", f.operator)));
    for attribute in [
        "Path=/",
        "Secure",
        "HttpOnly",
        "SameSite=Strict",
        "Max-Age=43200",
    ] {
        assert!(
            set_cookie.contains(attribute),
            "{set_cookie} lacks {attribute}"
        );
    }
    assert!(!set_cookie.contains("Domain"));

    // An unknown return path goes to the holder's own page.
    let (status, headers, _) = post_form(
        &f,
        "/signin",
        None,
        Some(&origin),
        &[("token", &f.verifier), ("next", "https://evil.example/")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/verify");

    // A wrong token: the form again, with a plain message, and no cookie.
    let (status, headers, body) = post_form(
        &f,
        "/signin",
        None,
        Some(&origin),
        &[("token", "v_wrong"), ("next", "/verify")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(headers.get("set-cookie").is_none());
    assert!(body.contains("令牌不正确"));

    // Signing in from another site is refused (login CSRF).
    let (status, headers, _) = post_form(
        &f,
        "/signin",
        None,
        Some("https://evil.example"),
        &[("token", &f.verifier), ("next", "/verify")],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(headers.get("set-cookie").is_none());

    // Signing out clears the cookie.
    let token = form_token(&f.service, &f.verifier, "/verify").await;
    let (status, headers, _) = post_form(
        &f,
        "/signout",
        Some(&f.verifier),
        Some(&origin),
        &[("form_token", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("__Host-ssm_session=; ")
    );
}

#[tokio::test]
async fn each_page_needs_its_role() {
    let f = Fixture::new().await;
    for (path, role, own) in [
        ("/verify", "核验人员登录", f.verifier.as_str()),
        ("/fleet", "运维人员登录", f.operator.as_str()),
        ("/portal/report-lost", "窗口工作人员登录", f.portal.as_str()),
    ] {
        // Nobody: 401 and the sign-in form returning here.
        let (status, _, body) = get_page(&f, path, None).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(body.contains(role), "{path}");
        assert!(body.contains("action=\"/signin\""), "{path}");
        assert!(
            body.contains(&format!("name=\"next\" value=\"{path}\"")),
            "{path}"
        );
        // A token the service does not know counts as nobody.
        let (status, _, _) = get_page(&f, path, Some("o_not-a-token")).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        // Another role: 403.
        for other in [&f.verifier, &f.operator, &f.portal] {
            let (status, _, body) = get_page(&f, path, Some(other)).await;
            if other == own {
                assert_eq!(status, StatusCode::OK, "{path}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
                assert!(body.contains("不能打开此页面"), "{path}");
            }
        }
    }
    // The directory is public.
    let (status, _, _) = get_page(&f, "/kiosks", None).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn a_form_from_another_origin_or_without_the_form_token_is_refused() {
    let f = Fixture::new().await;
    let qr = f.issue(people::SENIOR, "apply", RID_1).await;
    let origin = f.service.base.clone();
    let verify_token = form_token(&f.service, &f.verifier, "/verify").await;
    let portal_token = form_token(&f.service, &f.portal, "/portal/report-lost").await;
    let referer = format!("{origin}/verify");

    // The verifier page: all three guards pass, and the verdict is there.
    let (status, headers, body) = post_form(
        &f,
        "/verify",
        Some(&f.verifier),
        Some(&origin),
        &[("payload", &qr), ("form_token", &verify_token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["cache-control"], "no-store");
    assert!(body.contains("data-result=\"valid\""));

    let http_origin = origin.replace("https", "http");
    for (why, origin_header, form) in [
        (
            "another origin",
            Some("https://evil.example"),
            verify_token.as_str(),
        ),
        (
            "plain http origin",
            Some(http_origin.as_str()),
            &verify_token,
        ),
        ("no origin, no referer", None, &verify_token),
        ("no form token", Some(origin.as_str()), ""),
        (
            "another session's form token",
            Some(origin.as_str()),
            &portal_token,
        ),
    ] {
        let (status, _, body) = post_form(
            &f,
            "/verify",
            Some(&f.verifier),
            origin_header,
            &[("payload", &qr), ("form_token", form)],
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{why}");
        assert!(!body.contains("data-result"), "{why}: nothing verified");
    }
    // Without the cookie: the sign-in form.
    let (status, _, _) = post_form(
        &f,
        "/verify",
        None,
        Some(&origin),
        &[("payload", &qr), ("form_token", &verify_token)],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    // A same-origin Referer stands in for a missing Origin.
    let response = page_client(&f.service)
        .post(f.service.url("/verify"))
        .header("cookie", cookie(&f.verifier))
        .header("referer", &referer)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_body(&[
            ("payload", &qr),
            ("form_token", &verify_token),
        ]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // The counter page: a forged form reports nothing lost.
    let (status, _, _) = post_form(
        &f,
        "/portal/report-lost",
        Some(&f.portal),
        Some("https://evil.example"),
        &[
            ("id_number", people::SENIOR.0),
            ("form_token", &portal_token),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = post_form(
        &f,
        "/portal/report-lost",
        Some(&f.portal),
        Some(&origin),
        &[
            ("id_number", people::SENIOR.0),
            ("form_token", &verify_token),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, verdict) = post_bearer(
        &f.service.anonymous(),
        &f.service.url(routes::VERIFY),
        &f.verifier,
        &json!({"payload": qr}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(verdict["result"], "valid", "still valid");
}

#[tokio::test]
async fn everything_from_storage_is_escaped() {
    let f = Fixture::new().await;
    let hostile = "<script>alert(1)</script>\"'&";
    let escaped = "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;";
    let out = f.service.dir.path().join("kiosk-X");
    let details = KioskDetails {
        name: hostile.into(),
        address: hostile.into(),
        hours: hostile.into(),
    };
    off_runtime(|| central::admin::provision_kiosk(&f.service.data, "K666", &out, details))
        .unwrap();
    let cert = std::fs::read_to_string(out.join("kiosk.pem")).unwrap();
    let key = std::fs::read_to_string(out.join("kiosk.key")).unwrap();
    let kiosk = common::client(&f.service.ca_pem, Some(&format!("{cert}{key}")));
    f.heartbeat(
        &kiosk,
        json!({"kiosk_version": hostile, "in_service": false, "out_of_service_reason": hostile,
               "help_requested_at": "2026-11-21T09:59:00+08:00",
               "devices": [{"device": "printer", "state": "failed", "last_error": hostile}]}),
    )
    .await;
    let verifier = off_runtime(|| {
        central::admin::add_token(&f.service.data, Role::Verifier, hostile, hostile)
    })
    .unwrap();
    let operator = off_runtime(|| {
        central::admin::add_token(&f.service.data, Role::Operator, hostile, hostile)
    })
    .unwrap();
    let qr = f.issue(people::SENIOR, "apply", RID_1).await;

    let (_, _, directory) = get_page(&f, "/kiosks", None).await;
    let (_, _, fleet) = get_page(&f, "/fleet", Some(&operator)).await;
    let token = form_token(&f.service, &verifier, "/verify").await;
    let (status, _, verdict) = post_form(
        &f,
        "/verify",
        Some(&verifier),
        Some(&f.service.base),
        &[("payload", &qr), ("form_token", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for (page, body, at_least) in [
        ("directory", &directory, 3),
        ("fleet", &fleet, 8),
        ("verify", &verdict, 3),
    ] {
        assert!(!body.contains("<script>alert"), "{page}: {body}");
        assert!(
            body.matches(escaped).count() >= at_least,
            "{page}: {} escaped copies",
            body.matches(escaped).count()
        );
    }
}

#[tokio::test]
async fn the_counter_page_reports_through_the_api_code_path_and_explains_refusals() {
    let f = Fixture::new().await;
    let qr = f.issue(people::SENIOR, "apply", RID_1).await;
    let origin = f.service.base.clone();
    let token = form_token(&f.service, &f.portal, "/portal/report-lost").await;
    let report = |id: &'static str| {
        let token = token.clone();
        let origin = origin.clone();
        let f = &f;
        async move {
            post_form(
                f,
                "/portal/report-lost",
                Some(&f.portal),
                Some(&origin),
                &[("id_number", id), ("form_token", &token)],
            )
            .await
        }
    };
    let (status, headers, body) = report("3101011950031500 29").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "spaces typed in the number are ignored"
    );
    assert_eq!(headers["cache-control"], "no-store");
    assert!(body.contains("data-outcome=\"lost\""));
    assert!(body.contains("王*英（310***********0029）的第 1 张"));
    assert!(!body.contains("王秀英") && !body.contains(people::SENIOR.0));
    let (_, verdict) = post_bearer(
        &f.service.anonymous(),
        &f.service.url(routes::VERIFY),
        &f.verifier,
        &json!({"payload": qr}),
    )
    .await;
    assert_eq!(verdict["result"], "lost");

    let (status, _, body) = report(people::SENIOR.0).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.contains("目前没有有效的离线码"));
    let (status, _, body) = report(people::SENIOR_2.0.get(..17).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("身份证号码不正确"));
    assert!(body.contains("data-outcome=\"refused\""));
    // A valid number nobody holds.
    let (status, _, body) = report(people::YOUNG.0).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("系统中没有身份证号码为 310***********0010 的居民"));
}

#[tokio::test]
async fn an_empty_scan_explains_itself_and_verifies_nothing() {
    let f = Fixture::new().await;
    let token = form_token(&f.service, &f.verifier, "/verify").await;
    let (status, _, body) = post_form(
        &f,
        "/verify",
        Some(&f.verifier),
        Some(&f.service.base),
        &[("payload", "  \r\n"), ("form_token", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("没有读到内容"));
    assert!(!body.contains("data-result"));
    let long = "A".repeat(3000);
    let (status, _, body) = post_form(
        &f,
        "/verify",
        Some(&f.verifier),
        Some(&f.service.base),
        &[("payload", &long), ("form_token", &token)],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("内容太长"));
}

/// Scans `qr` on the verifier page (a form POST with the verifier's session); returns the status
/// and the page.
async fn verify_on_page(f: &Fixture, qr: &str) -> (StatusCode, String) {
    let token = form_token(&f.service, &f.verifier, "/verify").await;
    let (status, _, body) = post_form(
        f,
        "/verify",
        Some(&f.verifier),
        Some(&f.service.base),
        &[("payload", qr), ("form_token", &token)],
    )
    .await;
    (status, body)
}

/// The text of the element carrying `attribute` (`data-reason`, `data-band`, ...).
fn text_of<'a>(html: &'a str, attribute: &str) -> &'a str {
    let start = html
        .find(&format!(" {attribute}>"))
        .unwrap_or_else(|| panic!("no {attribute} in:\n{html}"))
        + attribute.len()
        + 2;
    let end = html[start..].find('<').unwrap() + start;
    &html[start..end]
}

#[tokio::test]
async fn the_verifier_page_says_in_plain_words_why_a_slip_is_lost_forged_expired_or_not_yet_valid()
{
    let f = Fixture::new().await;
    let lost = f.issue(people::SENIOR, "apply", RID_1).await;
    let expiring = f
        .issue(
            people::SENIOR_2,
            "apply",
            "7f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b",
        )
        .await;
    let api_result = |qr: String| {
        let f = &f;
        async move {
            let (status, verdict) = post_bearer(
                &f.service.anonymous(),
                &f.service.url(routes::VERIFY),
                &f.verifier,
                &json!({"payload": qr}),
            )
            .await;
            assert_eq!(status, 200, "{verdict}");
            verdict["result"].as_str().unwrap().to_owned()
        }
    };

    // Lost: reported at the counter.
    let (status, _) = post_bearer(
        &f.service.anonymous(),
        &f.service.url(routes::REPORT_LOST),
        &f.portal,
        &json!({"id_number": people::SENIOR.0}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, html) = verify_on_page(&f, &lost).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-result=\"lost\""), "{html}");
    assert!(html.contains("data-color=\"none\""));
    assert_eq!(text_of(&html, "data-band"), "无效");
    assert!(html.contains("此凭条已挂失"));
    assert!(
        text_of(&html, "data-reason").contains("已经挂失，不能再使用"),
        "{html}"
    );
    assert!(text_of(&html, "data-reason").contains("补领"));

    // Forged: one character of a genuine slip changed, so that the signature fails.
    let mut forged = expiring.clone().into_bytes();
    let at = forged.len() - 5;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(api_result(forged.clone()).await, "forged");
    let (status, html) = verify_on_page(&f, &forged).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-result=\"forged\""), "{html}");
    assert!(html.contains("不是真实的离线码"));
    assert!(text_of(&html, "data-reason").contains("可能是伪造或损坏的凭条"));
    assert!(text_of(&html, "data-reason").contains("请不要放行"));
    assert!(
        !html.contains("data-field=\"name\""),
        "no holder for a forgery"
    );

    // Not yet valid: the service's clock stands two days before the day the slip was issued.
    f.service.clock.advance(time::Duration::days(-2));
    assert_eq!(api_result(expiring.clone()).await, "not_yet_valid");
    let (status, html) = verify_on_page(&f, &expiring).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-result=\"not_yet_valid\""), "{html}");
    assert!(html.contains("data-color=\"none\""));
    assert!(html.contains("此凭条尚未生效"));
    let reason = text_of(&html, "data-reason");
    assert!(reason.contains("从 2026年11月21日 起才有效"), "{reason}");
    assert!(reason.contains("请不要放行"), "{reason}");
    assert!(!html.contains("绿码"));

    // Expired: the day after its last valid day (2027-05-19).
    f.service.clock.advance(time::Duration::days(2 + 180));
    assert_eq!(api_result(expiring.clone()).await, "expired");
    let (status, html) = verify_on_page(&f, &expiring).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("data-result=\"expired\""), "{html}");
    assert!(html.contains("此凭条已过期"));
    let reason = text_of(&html, "data-reason");
    assert!(reason.contains("有效期到 2027年5月19日 为止"), "{reason}");
    assert!(reason.contains("重新申领"), "{reason}");
    assert!(!html.contains("绿码"));
}

#[tokio::test]
async fn kiosks_out_of_service_or_with_a_failed_printer_cannot_issue() {
    let f = Fixture::new().await;
    let k2 = f.kiosk_with(
        "K002",
        "徐汇区行政服务中心",
        "上海市徐汇区南丹东路 300 号",
        "9:00-17:00",
    );
    let k3 = f.kiosk_with(
        "K003",
        "浦东新区市民中心",
        "上海市浦东新区合欢路 2 号",
        "9:00-17:00",
    );
    // K001 is taken out of service by hall staff; K002's printer has failed (paper is fine);
    // K003 is healthy.
    f.heartbeat(
        &f.kiosk,
        json!({"in_service": false, "out_of_service_reason": "维护中"}),
    )
    .await;
    f.heartbeat(
        &k2,
        json!({"devices": [
            {"device": "idcard", "state": "connected", "last_error": null},
            {"device": "scanner", "state": "connected", "last_error": null},
            {"device": "printer", "state": "failed", "last_error": "切刀故障"}]}),
    )
    .await;
    f.heartbeat(&k3, json!({})).await;

    let (status, _, html) = get_page(&f, "/kiosks", None).await;
    assert_eq!(status, StatusCode::OK);
    let card = |id: &str| {
        let start = html
            .find(&format!("data-kiosk=\"{id}\""))
            .unwrap_or_else(|| panic!("{id} not listed:\n{html}"));
        let end = html[start..].find("</li>").unwrap() + start;
        html[start..end].to_owned()
    };
    let k1 = card("K001");
    assert!(k1.contains("data-can-issue=\"false\""), "{k1}");
    assert!(k1.contains("暂不能办理：暂停服务"), "{k1}");
    let k2_card = card("K002");
    assert!(k2_card.contains("data-can-issue=\"false\""), "{k2_card}");
    assert!(k2_card.contains("暂不能办理：设备故障"), "{k2_card}");
    let k3_card = card("K003");
    assert!(k3_card.contains("data-can-issue=\"true\""), "{k3_card}");
    assert!(k3_card.contains("可以办理"));

    let (status, json) = common::get(&f.service.anonymous(), &f.service.url(routes::KIOSKS)).await;
    assert_eq!(status, 200);
    let listing = |id: &str| {
        json["kiosks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kiosk_id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(listing("K001")["can_issue"], false);
    assert_eq!(listing("K001")["in_service"], false);
    assert_eq!(listing("K001")["online"], true);
    assert_eq!(listing("K002")["can_issue"], false);
    assert_eq!(listing("K002")["paper"], "ok");
    assert_eq!(listing("K002")["in_service"], true);
    assert_eq!(listing("K003")["can_issue"], true);
}

#[tokio::test]
async fn the_fleet_view_shows_each_kiosks_last_heartbeat_time() {
    let f = Fixture::new().await;
    let k2 = f.kiosk_with(
        "K002",
        "徐汇区行政服务中心",
        "上海市徐汇区南丹东路 300 号",
        "9:00-17:00",
    );
    let _k3 = f.kiosk_with(
        "K003",
        "浦东新区市民中心",
        "上海市浦东新区合欢路 2 号",
        "9:00-17:00",
    );
    f.heartbeat(&f.kiosk, json!({})).await; // 10:00:00
    f.service.clock.advance(time::Duration::seconds(4 * 60 + 7));
    f.heartbeat(&k2, json!({})).await; // 10:04:07
    f.service.clock.advance(time::Duration::minutes(2));

    let (status, _, html) = get_page(&f, "/fleet", Some(&f.operator)).await;
    assert_eq!(status, StatusCode::OK);
    let heartbeat = |id: &str| {
        let row = html
            .find(&format!("data-kiosk=\"{id}\""))
            .unwrap_or_else(|| panic!("{id} not listed:\n{html}"));
        let row = &html[row..];
        let row = &row[..row.find("</tr>").unwrap()];
        match row.find("<td data-heartbeat>") {
            Some(at) => {
                let cell = &row[at + "<td data-heartbeat>".len()..];
                cell[..cell.find("</td>").unwrap()].to_owned()
            }
            None => row.to_owned(),
        }
    };
    assert_eq!(
        heartbeat("K001"),
        "2026-11-21 10:00:00<br><small>6 分钟前</small>"
    );
    assert_eq!(
        heartbeat("K002"),
        "2026-11-21 10:04:07<br><small>2 分钟前</small>"
    );
    assert!(
        heartbeat("K003").contains("从未连接"),
        "a kiosk that never sent one says so"
    );
}
