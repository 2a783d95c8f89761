//! The verifier page (`/verify`): a signed-in verifier scans a slip (camera where the browser
//! has a `BarcodeDetector`, a USB scanner in keyboard mode, or pasted text) and the verdict
//! fills the screen: a colour band or the reason the slip is not valid, the masked holder, the
//! photo, a live clock with seconds and a diagonal watermark naming the verifier.
//!
//! The scan is a form POST with the session cookie (see [`super::auth`]); the service runs the
//! code path of `POST /v1/verify` ([`crate::http::verify_payload`]), which also logs the
//! verification, and renders the verdict. A verifier bound to a venue (a door verifier, see
//! [`crate::venues`]) also records an entry there with each valid verdict, which the page says.
//! Nothing about the holder is kept by the page: the answer is `no-store`, and the script
//! returns to the empty page after a while.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use protocol::api::{Color, Photo, VerifyResponse, VerifyResult};
use serde::Deserialize;
use time::{Date, OffsetDateTime};

use super::auth::{SameOrigin, Session, Visitor};
use super::html::{Frame, chinese_date, clock_time, date_time, esc, page};
use super::{PageError, html_response};
use crate::http::{AppState, verify_payload};
use crate::model::Role;

/// Where the page is.
pub const PATH: &str = "/verify";
/// How many times the watermark text repeats over a verdict.
pub const WATERMARK_REPEATS: usize = 120;
/// After how many seconds the page drops a verdict from the screen.
pub const CLEAR_AFTER_SECONDS: u32 = 120;
/// The longest QR text the form takes (a v1 slip is under 150 characters).
pub const MAX_PAYLOAD: usize = 2048;

/// `GET /verify`: the scan form.
pub(crate) async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let session = visitor.require(Role::Verifier, PATH)?;
    Ok(html_response(
        StatusCode::OK,
        render(&session, state.clock.now(), &Shown::Nothing),
    ))
}

/// The scan form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct ScanForm {
    #[serde(default)]
    payload: String,
    #[serde(default)]
    form_token: String,
}

/// `POST /verify`: verifies the scanned text and shows the verdict.
pub(crate) async fn check(
    State(state): State<AppState>,
    visitor: Visitor,
    _same_origin: SameOrigin,
    form: Result<Form<ScanForm>, FormRejection>,
) -> Result<Response, PageError> {
    let session = visitor.require(Role::Verifier, PATH)?;
    let Form(form) = form.map_err(|_| PageError::bad_request("表单不完整，请重新扫码。"))?;
    session.check_form_token(&form.form_token)?;
    // A scanner in keyboard mode may add a line end; pasted text may start with spaces. (Inside
    // and at the end, a space is a base45 character and is kept.)
    let payload = form.payload.trim_start().trim_end_matches(['\r', '\n']);
    let now = state.clock.now();
    if payload.is_empty() {
        return Ok(html_response(
            StatusCode::BAD_REQUEST,
            render(
                &session,
                now,
                &Shown::Notice("没有读到内容：请扫描凭条上的二维码，或输入二维码内容后按回车。"),
            ),
        ));
    }
    if payload.len() > MAX_PAYLOAD {
        return Ok(html_response(
            StatusCode::BAD_REQUEST,
            render(
                &session,
                now,
                &Shown::Notice("内容太长，不是离线码凭条上的二维码。"),
            ),
        ));
    }
    let verdict = match verify_payload(&state, &session.principal, payload).await {
        Ok(verdict) => verdict,
        Err(e) if e.code() == protocol::api::ErrorCode::VenueNotActive => {
            return Err(PageError::forbidden(
                "您所在单位的张贴码尚未通过审核或已暂停使用，门口核验账号也暂停使用，这次扫码没有核验、没有登记。请联系本单位或审核人员。",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    Ok(html_response(
        StatusCode::OK,
        render(&session, now, &Shown::Verdict(Box::new(verdict))),
    ))
}

/// What the page shows above the scan form.
enum Shown {
    /// Nothing yet: how to scan.
    Nothing,
    /// A problem with the input, in plain words.
    Notice(&'static str),
    /// A verdict.
    Verdict(Box<VerifyResponse>),
}

fn render(session: &Session, now: OffsetDateTime, shown: &Shown) -> String {
    let who = &session.principal;
    let main = match shown {
        Shown::Nothing => idle(now, None),
        Shown::Notice(notice) => idle(now, Some(notice)),
        Shown::Verdict(verdict) => {
            let mut section = verdict_section(verdict, now);
            // A door verifier's valid scan was recorded as an entry at their venue.
            if who.venue.is_some() && verdict.result == VerifyResult::Valid {
                let at = section.rfind("</section>").unwrap_or(section.len());
                section.insert_str(
                    at,
                    &format!(
                        "<p class=\"entry-recorded\" data-entry-recorded>已登记进入 {}</p>\n",
                        esc(&who.org)
                    ),
                );
            }
            section
        }
    };
    let body = format!(
        "<header class=\"topbar\">\n<span class=\"who\" data-verifier>核验人员：{name}（{org}）</span>\n\
         <span class=\"topclock\" data-clock=\"full\">{clock}</span>\n{signout}\n</header>\n\
         {main}\n\
         <form class=\"scan\" id=\"scan-form\" method=\"post\" action=\"{PATH}\" autocomplete=\"off\">\n\
         <label for=\"payload\">扫码或输入二维码内容</label>\n\
         <input id=\"payload\" name=\"payload\" type=\"text\" autofocus autocomplete=\"off\" \
         placeholder=\"扫码或输入内容\" autocapitalize=\"off\" spellcheck=\"false\" enterkeyhint=\"go\" maxlength=\"{MAX_PAYLOAD}\">\n\
         {token}\n<button type=\"submit\">核验</button>\n\
         <button type=\"button\" id=\"camera\" hidden>摄像头扫码</button>\n</form>\n\
         <div class=\"camera-view\" id=\"camera-view\" hidden>\n\
         <video id=\"camera-video\" playsinline muted></video>\n\
         <p id=\"camera-status\">请把二维码对准摄像头</p>\n\
         <button type=\"button\" id=\"camera-stop\">关闭摄像头</button>\n</div>",
        name = esc(&who.name),
        org = esc(&who.org),
        clock = date_time(now),
        signout = session.sign_out_form(),
        token = session.form_token_input(),
    );
    page(
        &Frame {
            title: "随申码离线码核验",
            body_class: "verify",
            refresh_seconds: None,
            now: Some(now),
        },
        &body,
    )
}

fn live_clock(now: OffsetDateTime) -> String {
    format!(
        "<div class=\"live-clock\"><span data-clock=\"date\">{}</span>\
         <span data-clock=\"time\">{}</span></div>",
        chinese_date(now.to_offset(crate::clock::SHANGHAI).date()),
        clock_time(now)
    )
}

fn idle(now: OffsetDateTime, notice: Option<&str>) -> String {
    let notice = notice
        .map(|n| {
            format!(
                "<p class=\"notice notice-error\" role=\"alert\" data-notice>{}</p>\n",
                esc(n)
            )
        })
        .unwrap_or_default();
    format!(
        "<section class=\"idle\">\n{notice}<h1>请扫描离线码凭条上的二维码</h1>\n\
         <p>扫码枪对准二维码扫描即可；也可以粘贴或输入二维码内容后按回车。</p>\n{}\n</section>",
        live_clock(now)
    )
}

/// The band's big word, its line under it, and a sentence for a slip that is not valid.
fn wording(verdict: &VerifyResponse) -> (&'static str, String, Option<String>) {
    match (verdict.result, verdict.color) {
        (VerifyResult::Valid, Some(Color::Green)) => ("绿码", "离线码有效".into(), None),
        (VerifyResult::Valid, Some(Color::Yellow)) => ("黄码", "离线码有效".into(), None),
        (VerifyResult::Valid, Some(Color::Red)) => ("红码", "离线码有效".into(), None),
        (VerifyResult::Valid, None) => (
            "无法判断",
            "没有取得健康码颜色".into(),
            Some("请重新扫码；如果仍然如此，请持码人到窗口核实。".into()),
        ),
        (VerifyResult::Superseded, _) => (
            "无效",
            "此凭条已被补领的新凭条取代".into(),
            Some("持码人已补领了新的凭条，这一张不能再使用。请持码人出示最新的凭条。".into()),
        ),
        (VerifyResult::Lost, _) => (
            "无效",
            "此凭条已挂失".into(),
            Some("这张凭条已经挂失，不能再使用。持码人可到自助终端补领新的凭条。".into()),
        ),
        (VerifyResult::Expired, _) => (
            "无效",
            "此凭条已过期".into(),
            Some(match verdict.expires_on {
                Some(day) => format!(
                    "这张凭条的有效期到 {} 为止。请持码人到自助终端重新申领。",
                    chinese_date(day)
                ),
                None => "请持码人到自助终端重新申领。".into(),
            }),
        ),
        (VerifyResult::NotYetValid, _) => (
            "无效",
            "此凭条尚未生效".into(),
            Some(match verdict.expires_on.and_then(first_valid_day) {
                Some(day) => format!(
                    "这张凭条从 {} 起才有效，今天还不能使用。凭条日期可能有误，请不要放行，\
                     请持码人到窗口核实。",
                    chinese_date(day)
                ),
                None => "这张凭条还没有到生效日期。凭条日期可能有误，请不要放行，请持码人到窗口核实。"
                    .into(),
            }),
        ),
        (VerifyResult::Forged, _) => (
            "无效",
            "不是真实的离线码".into(),
            Some("二维码内容不完整或签名不符，可能是伪造或损坏的凭条。请不要放行，请持码人到窗口核实。".into()),
        ),
        (VerifyResult::Unknown, _) => (
            "无法识别",
            "查无此码".into(),
            Some("这不是随申码离线码，或系统中没有这张凭条的记录。请持码人到窗口核实。".into()),
        ),
    }
}

/// The first valid day of a slip whose last valid day is `expires_on` (the two are
/// [`protocol::code::VALIDITY_DAYS`] days apart, counting both).
fn first_valid_day(expires_on: Date) -> Option<Date> {
    expires_on.checked_sub(time::Duration::days(
        i64::from(protocol::code::VALIDITY_DAYS) - 1,
    ))
}

fn result_name(result: VerifyResult) -> &'static str {
    match result {
        VerifyResult::Valid => "valid",
        VerifyResult::Superseded => "superseded",
        VerifyResult::Lost => "lost",
        VerifyResult::Expired => "expired",
        VerifyResult::NotYetValid => "not_yet_valid",
        VerifyResult::Forged => "forged",
        VerifyResult::Unknown => "unknown",
    }
}

fn color_name(color: Option<Color>) -> &'static str {
    match color {
        Some(Color::Green) => "green",
        Some(Color::Yellow) => "yellow",
        Some(Color::Red) => "red",
        None => "none",
    }
}

/// The photo as a `data:` URL, when it is a PNG or JPEG in plain base64.
fn photo_url(photo: &Photo) -> Option<String> {
    let mime_ok = photo.mime == "image/png" || photo.mime == "image/jpeg";
    let data_ok = !photo.data_base64.is_empty()
        && photo
            .data_base64
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=');
    (mime_ok && data_ok).then(|| format!("data:{};base64,{}", photo.mime, photo.data_base64))
}

fn verdict_section(verdict: &VerifyResponse, now: OffsetDateTime) -> String {
    let valid = verdict.result == VerifyResult::Valid && verdict.color.is_some();
    let (word, sub, reason) = wording(verdict);
    let class = if valid {
        format!("result-valid color-{}", color_name(verdict.color))
    } else {
        "result-invalid".to_owned()
    };
    let reason = reason
        .map(|r| format!("<p class=\"reason\" data-reason>{}</p>\n", esc(&r)))
        .unwrap_or_default();
    let clock = live_clock(now);
    let details = if let Some(holder) = &verdict.holder {
        let photo = match holder.photo.as_ref().and_then(photo_url) {
            Some(url) => format!(
                "<img class=\"photo\" data-photo src=\"{}\" alt=\"持码人照片\">",
                esc(&url)
            ),
            None if valid => {
                "<div class=\"photo photo-missing\">无照片<br>请核对证件</div>".to_owned()
            }
            None => String::new(),
        };
        let serial = verdict
            .serial
            .map(|s| format!("<dt>凭条</dt><dd data-field=\"serial\">第 {s} 张</dd>"))
            .unwrap_or_default();
        let expires = verdict
            .expires_on
            .map(|d| {
                format!(
                    "<dt>有效期至</dt><dd data-field=\"expires_on\">{}</dd>",
                    chinese_date(d)
                )
            })
            .unwrap_or_default();
        format!(
            "<div class=\"details\">{photo}<dl class=\"holder\">\
             <dt>姓名</dt><dd data-field=\"name\">{name}</dd>\
             <dt>证件号码</dt><dd data-field=\"id_number\">{id}</dd>{serial}{expires}</dl>\
             {clock}</div>\n",
            name = esc(&holder.name),
            id = esc(&holder.id_number),
        )
    } else {
        format!("<div class=\"details\">{clock}</div>\n")
    };
    let check_hint = if valid {
        "请核对照片与本人是否一致"
    } else {
        "请勿放行"
    };
    let mark = format!("<span>{}</span>", esc(&verdict.watermark));
    format!(
        "<section class=\"result {class}\" data-result=\"{result}\" data-color=\"{color}\" \
         data-clear-after=\"{CLEAR_AFTER_SECONDS}\">\n\
         <div class=\"band\"><span class=\"band-word\" data-band>{word}</span>\
         <span class=\"band-sub\">{sub}</span></div>\n{reason}{details}\
         <p class=\"checked\">核验时间 {checked} · {check_hint}</p>\n\
         <div class=\"watermark\" aria-hidden=\"true\" data-watermark=\"{mark_text}\">\
         <div class=\"watermark-grid\">{marks}</div></div>\n</section>",
        result = result_name(verdict.result),
        color = color_name(if valid { verdict.color } else { None }),
        sub = esc(&sub),
        checked = date_time(verdict.checked_at),
        mark_text = esc(&verdict.watermark),
        marks = mark.repeat(WATERMARK_REPEATS),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::api::Holder;
    use time::macros::{date, datetime};

    fn verdict(result: VerifyResult, color: Option<Color>) -> VerifyResponse {
        VerifyResponse {
            result,
            color,
            holder: Some(Holder {
                name: "王*<b>英".into(),
                id_number: "310***********0029".into(),
                photo: Some(Photo {
                    mime: "image/png".into(),
                    data_base64: "iVBORw0KGgo=".into(),
                }),
            }),
            serial: Some(2),
            expires_on: Some(date!(2027 - 05 - 19)),
            checked_at: datetime!(2026-11-21 10:00:05 +8),
            watermark: "赵核验 · <i>示例</i> · 2026-11-21 10:00:05".into(),
        }
    }

    #[test]
    fn a_valid_code_shows_its_colour_photo_and_escaped_watermark() {
        let html = verdict_section(
            &verdict(VerifyResult::Valid, Some(Color::Green)),
            datetime!(2026-11-21 10:00:05 +8),
        );
        assert!(html.contains("data-result=\"valid\""));
        assert!(html.contains("color-green"));
        assert!(html.contains(">绿码<"));
        assert!(html.contains("王*&lt;b&gt;英"));
        assert!(html.contains("src=\"data:image/png;base64,iVBORw0KGgo=\""));
        assert!(html.contains("&lt;i&gt;示例&lt;/i&gt;"));
        assert!(!html.contains("<i>"));
        assert_eq!(
            html.matches("<span>赵核验").count(),
            WATERMARK_REPEATS,
            "the watermark repeats"
        );
        assert!(html.contains("data-clock=\"time\">10:00:05<"));
    }

    #[test]
    fn each_colour_has_its_band_and_word() {
        for (color, class, word) in [
            (Color::Green, "color-green", ">绿码<"),
            (Color::Yellow, "color-yellow", ">黄码<"),
            (Color::Red, "color-red", ">红码<"),
        ] {
            let html = verdict_section(
                &verdict(VerifyResult::Valid, Some(color)),
                datetime!(2026-11-21 10:00 +8),
            );
            assert!(html.contains(&format!("result-valid {class}")), "{color:?}");
            assert!(html.contains(word), "{color:?}");
            assert!(html.contains("data-photo"), "{color:?}");
        }
    }

    #[test]
    fn every_invalid_verdict_says_why_and_shows_no_colour() {
        for (result, words) in [
            (VerifyResult::Superseded, "补领"),
            (VerifyResult::Lost, "挂失"),
            (VerifyResult::Expired, "2027年5月19日"),
            (VerifyResult::NotYetValid, "从 2026年11月21日 起才有效"),
            (VerifyResult::Forged, "伪造"),
            (VerifyResult::Unknown, "没有这张凭条的记录"),
        ] {
            let html = verdict_section(&verdict(result, None), datetime!(2026-11-21 10:00 +8));
            assert!(html.contains("result-invalid"), "{result:?}");
            assert!(html.contains("data-color=\"none\""), "{result:?}");
            assert!(html.contains(words), "{result:?}: {words}");
            assert!(
                !html.contains("绿码") && !html.contains("红码"),
                "{result:?}"
            );
        }
    }

    #[test]
    fn only_png_and_jpeg_photos_in_plain_base64_are_shown() {
        let photo = |mime: &str, data: &str| Photo {
            mime: mime.into(),
            data_base64: data.into(),
        };
        assert!(photo_url(&photo("image/jpeg", "AAAA")).is_some());
        assert!(photo_url(&photo("image/svg+xml", "AAAA")).is_none());
        assert!(photo_url(&photo("image/png", "AA\"><script>")).is_none());
        assert!(photo_url(&photo("image/png", "")).is_none());
    }
}
