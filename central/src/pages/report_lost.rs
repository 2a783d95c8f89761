//! The counter page for lost reports taken in person (`/portal/report-lost`, portal token): the
//! staff member types the resident's ID number and the resident's active slip stops verifying
//! at once, through the code path of `POST /v1/portal/report-lost`
//! ([`crate::http::report_lost_for`]). The answer names the person masked, so that the staff
//! member can check it is the right one; the ID number typed is never shown back in full.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use protocol::IdNumber;
use protocol::api::ErrorCode;
use serde::Deserialize;

use super::auth::{SameOrigin, Session, Visitor};
use super::html::{Frame, date_time, esc, page};
use super::{PageError, html_response};
use crate::http::{AppState, report_lost_for};
use crate::model::Role;

/// Where the page is.
pub const PATH: &str = "/portal/report-lost";

/// `GET /portal/report-lost`: the form.
pub(crate) async fn show(visitor: Visitor) -> Result<Response, PageError> {
    let session = visitor.require(Role::Portal, PATH)?;
    Ok(html_response(StatusCode::OK, render(&session, "")))
}

/// The form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct LostForm {
    #[serde(default)]
    id_number: String,
    #[serde(default)]
    form_token: String,
}

/// `POST /portal/report-lost`: reports the person's active code lost.
pub(crate) async fn submit(
    State(state): State<AppState>,
    visitor: Visitor,
    _same_origin: SameOrigin,
    form: Result<Form<LostForm>, FormRejection>,
) -> Result<Response, PageError> {
    let session = visitor.require(Role::Portal, PATH)?;
    let Form(form) = form.map_err(|_| PageError::bad_request("表单不完整，请重新填写。"))?;
    session.check_form_token(&form.form_token)?;
    let typed: String = form
        .id_number
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase();
    let refuse = |status: StatusCode, message: &str| {
        Ok(html_response(
            status,
            render(
                &session,
                &format!(
                    "<p class=\"notice notice-error\" role=\"alert\" data-outcome=\"refused\">{}</p>",
                    esc(message)
                ),
            ),
        ))
    };
    let Ok(id_number) = IdNumber::parse(&typed) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "身份证号码不正确（应为 18 位，最后一位可能是 X），请核对后重新输入。",
        );
    };
    let masked_id = id_number.masked();
    match report_lost_for(&state, id_number).await {
        Ok((citizen, lost)) => {
            let outcome = format!(
                "<div class=\"notice notice-ok\" role=\"status\" data-outcome=\"lost\">\
                 <p><strong>已挂失。</strong>{name}（{id}）的第 {serial} 张离线码凭条自 {at} 起失效，\
                 核验时将显示“已挂失”。</p>\
                 <p>请告诉居民：带身份证到任一自助终端选择“补领”，即可打印新的凭条。</p></div>",
                name = esc(&protocol::mask::mask_name(&citizen.name)),
                id = esc(&masked_id),
                serial = lost.serial,
                at = date_time(lost.lost_at),
            );
            Ok(html_response(StatusCode::OK, render(&session, &outcome)))
        }
        Err(e) if e.code() == ErrorCode::UnknownPerson => refuse(
            StatusCode::NOT_FOUND,
            &format!("系统中没有身份证号码为 {masked_id} 的居民，请核对号码。"),
        ),
        Err(e) if e.code() == ErrorCode::ConflictNoCode => refuse(
            StatusCode::CONFLICT,
            &format!(
                "身份证号码为 {masked_id} 的居民目前没有有效的离线码（尚未申领或已经挂失），无需挂失。"
            ),
        ),
        Err(_) => Err(PageError::internal()),
    }
}

fn render(session: &Session, outcome: &str) -> String {
    let who = &session.principal;
    let body = format!(
        "<header class=\"topbar\">\n<span class=\"who\">窗口：{name}（{org}）</span>\n{signout}\n</header>\n\
         <main class=\"narrow\">\n<h1>离线码挂失</h1>\n{outcome}\n\
         <form class=\"lost\" method=\"post\" action=\"{PATH}\" autocomplete=\"off\">\n\
         <label for=\"id_number\">居民身份证号码</label>\n\
         <input id=\"id_number\" name=\"id_number\" type=\"text\" inputmode=\"text\" \
         maxlength=\"24\" autofocus required autocomplete=\"off\" spellcheck=\"false\">\n\
         {token}\n<button type=\"submit\">挂失</button>\n</form>\n\
         <p class=\"hint\">挂失后，居民现有的离线码凭条立即失效，不能恢复；居民到自助终端“补领”新的凭条。\
         请先核对居民本人的身份证件。</p>\n</main>",
        name = esc(&who.name),
        org = esc(&who.org),
        signout = session.sign_out_form(),
        token = session.form_token_input(),
    );
    page(
        &Frame {
            title: "离线码挂失",
            body_class: "plain",
            refresh_seconds: None,
            now: None,
        },
        &body,
    )
}
