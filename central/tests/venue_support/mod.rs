//! Shared by the venue tests: applying, approving and signing in as an organisation over the
//! real pages, posting forms as a browser does, scanning a poster with a 随申码 token, reading
//! the entries back, and rendering a poster PDF (pdftoppm) and decoding its QR (zbarimg).

#![allow(dead_code, unreachable_pub)]

use std::path::Path;
use std::process::Command;

use central::clock::Clock;
use protocol::api::routes;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::post;
use crate::pages_support::{Fixture, cookie, form_body, form_token, page_client};

/// A valid unified social credit code (a company registered in Huangpu; check character
/// computed by hand in `protocol::uscc`'s tests).
pub const USCC: &str = "91310101MA1FL2X0PL";
/// Another valid one, registered in Pudong (check character computed with the weights of
/// `protocol::uscc`).
pub const USCC_2: &str = "91310115MA1K4A2B3A";
/// Valid, but registered in Fujian (the example of GB 32100-2015): refused, since only
/// organisations registered in Shanghai may apply.
pub const USCC_ELSEWHERE: &str = "91350100M000100Y43";
/// The test organisation.
pub const VENUE_NAME: &str = "上海市示例社区文化活动中心";
/// Its address.
pub const VENUE_ADDRESS: &str = "上海市黄浦区示例路 100 号";

/// Sends a form from this service's origin, with the session cookie of `token` if given.
pub async fn post_form(
    f: &Fixture,
    path: &str,
    token: Option<&str>,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut request = page_client(&f.service)
        .post(f.service.url(path))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &f.service.base)
        .body(form_body(fields));
    if let Some(token) = token {
        request = request.header("cookie", cookie(token));
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

/// GETs a page (or a file) with the session cookie of `token`: status, content type, body.
pub async fn get_with(f: &Fixture, path: &str, token: &str) -> (StatusCode, String, Vec<u8>) {
    let response = page_client(&f.service)
        .get(f.service.url(path))
        .header("cookie", cookie(token))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// A page's HTML.
pub async fn page_html(f: &Fixture, path: &str, token: &str) -> (StatusCode, String) {
    let (status, _, body) = get_with(f, path, token).await;
    (status, String::from_utf8(body).unwrap())
}

/// Applies for a poster code on the public form.
pub async fn apply(f: &Fixture, name: &str, uscc: &str) -> (StatusCode, String) {
    post_form(
        f,
        "/venues/apply",
        None,
        &[
            ("name", name),
            ("uscc", uscc),
            ("address", VENUE_ADDRESS),
            ("contact_name", "李联系"),
            ("contact_phone", "13800138000"),
        ],
    )
    .await
}

/// The text between `start` and the next `end` after it.
pub fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html
        .find(start)
        .unwrap_or_else(|| panic!("{start:?} not found in:\n{html}"))
        + start.len();
    let to = html[from..].find(end).unwrap() + from;
    &html[from..to]
}

/// The row id of the venue called `name` on the review page.
pub async fn venue_id(f: &Fixture, name: &str) -> String {
    let (status, html) = page_html(f, "/venues/review", &f.operator).await;
    assert_eq!(status, 200, "{html}");
    let row_start = html
        .find(&format!("<strong>{name}</strong>"))
        .unwrap_or_else(|| panic!("{name} is not on the review page:\n{html}"));
    let row = &html[..row_start];
    let marker = "data-venue=\"";
    let at = row.rfind(marker).unwrap() + marker.len();
    row[at..].split('"').next().unwrap().to_owned()
}

/// Presses a button of the review page (as the operator).
pub async fn review(f: &Fixture, action: &str, venue: &str, note: &str) -> (StatusCode, String) {
    let form_token = form_token(&f.service, &f.operator, "/venues/review").await;
    post_form(
        f,
        "/venues/review",
        Some(&f.operator),
        &[
            ("action", action),
            ("venue", venue),
            ("note", note),
            ("form_token", &form_token),
        ],
    )
    .await
}

/// Approves the venue called `name`; returns the organisation's token.
pub async fn approve(f: &Fixture, name: &str) -> String {
    let id = venue_id(f, name).await;
    let (status, html) = review(f, "approve", &id, "").await;
    assert_eq!(status, 200, "{html}");
    between(&html, "data-token>", "<").to_owned()
}

/// Applies and approves the test organisation; returns its token.
pub async fn registered_venue(f: &Fixture) -> String {
    let (status, html) = apply(f, VENUE_NAME, USCC).await;
    assert_eq!(status, 200, "{html}");
    approve(f, VENUE_NAME).await
}

/// Sends a form of the organisation's page with its form token.
pub async fn venue_form(
    f: &Fixture,
    venue_token: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let form_token = form_token(&f.service, venue_token, "/venue").await;
    let mut all = fields.to_vec();
    all.push(("form_token", &form_token));
    post_form(f, path, Some(venue_token), &all).await
}

/// Adds a door verifier on the organisation's page; returns their token.
pub async fn door_verifier(f: &Fixture, venue_token: &str, name: &str) -> String {
    let (status, html) =
        venue_form(f, venue_token, "/venue/door-verifiers", &[("name", name)]).await;
    assert_eq!(status, 200, "{html}");
    between(&html, "data-token>", "<").to_owned()
}

/// A current 随申码 token for the person with this ID number (what 随申办 holds).
pub fn suishen(f: &Fixture, id_number: &str) -> String {
    let now = f.service.clock.now();
    crate::common::backend::off_runtime(|| {
        central::admin::suishen_code(&f.service.data, id_number, now)
    })
    .unwrap()
}

/// `POST /v1/venue-scans`.
pub async fn scan(f: &Fixture, suishen_code: &str, venue_code: &str) -> (u16, Value) {
    post(
        &f.service.anonymous(),
        &f.service.url(routes::VENUE_SCANS),
        &json!({"suishen_code": suishen_code, "venue_code": venue_code}),
    )
    .await
}

/// Renders the first page of `pdf` to a PNG at `dpi` with pdftoppm.
pub fn render_pdf(pdf: &[u8], dpi: u32, dir: &Path) -> Vec<u8> {
    let input = dir.join("poster.pdf");
    std::fs::write(&input, pdf).unwrap();
    let prefix = dir.join(format!("poster-{dpi}"));
    let status = Command::new("pdftoppm")
        .args(["-png", "-singlefile", "-r", &dpi.to_string()])
        .arg(&input)
        .arg(&prefix)
        .status()
        .unwrap_or_else(|e| {
            panic!("pdftoppm is needed (Debian: apt-get install poppler-utils): {e}")
        });
    assert!(status.success(), "pdftoppm failed");
    std::fs::read(prefix.with_extension("png")).unwrap()
}

/// Decodes the QR codes in a PNG with zbarimg; returns their texts.
pub fn zbarimg(png: &[u8], dir: &Path) -> Vec<String> {
    let path = dir.join("decode.png");
    std::fs::write(&path, png).unwrap();
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("zbarimg is needed (Debian: apt-get install zbar-tools): {e}"));
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The rendered poster's QR text, read back by zbarimg.
pub fn poster_qr(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let png = render_pdf(pdf, 100, dir.path());
    let texts = zbarimg(&png, dir.path());
    assert_eq!(texts.len(), 1, "one QR on the poster: {texts:?}");
    texts[0].clone()
}
