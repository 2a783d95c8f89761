//! The operators' page for venue poster codes (`/venues/review`, operator token): applications
//! waiting for a decision, with approve and reject; approved venues, with suspend; suspended
//! ones, with reinstate; rejected ones for the record; and the clean-up of entries past their
//! retention, run on demand.
//!
//! Approving makes the organisation's token (`u_...`), shown once on the answer for the operator
//! to hand over to the organisation's contact (only its hash is stored), and the venue's first
//! poster. Rejecting and suspending need a reason, which the organisation is told.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::auth::{SameOrigin, Session, Visitor};
use super::html::{Frame, date_time, esc, page};
use super::{PageError, html_response};
use crate::http::{AppState, blocking};
use crate::model::Role;
use crate::tokens;
use crate::venues::{
    Decision, ENTRY_RETENTION, TOKEN_PREFIX, Venue, VenueStatus, make_poster, purge_expired_entries,
};

/// Where the page is.
pub const PATH: &str = "/venues/review";

/// `GET /venues/review`.
pub(crate) async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let session = visitor.require(Role::Operator, PATH)?;
    let venues = blocking(&state, |store| store.venues()).await?;
    Ok(html_response(StatusCode::OK, render(&session, &venues, "")))
}

/// The form of every button on the page.
#[derive(Debug, Deserialize)]
pub(crate) struct ReviewForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    venue: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    form_token: String,
}

/// `POST /venues/review`: a decision, or the clean-up.
pub(crate) async fn act(
    State(state): State<AppState>,
    visitor: Visitor,
    _same_origin: SameOrigin,
    form: Result<Form<ReviewForm>, FormRejection>,
) -> Result<Response, PageError> {
    let session = visitor.require(Role::Operator, PATH)?;
    let Form(form) = form.map_err(|_| PageError::bad_request("表单不完整，请刷新页面后重试。"))?;
    session.check_form_token(&form.form_token)?;
    let now = state.clock.now();
    let note = form.note.split_whitespace().collect::<Vec<_>>().join(" ");
    let (status, notice) = if form.action == "purge" {
        let removed = blocking(&state, move |store| purge_expired_entries(store, now)).await?;
        (
            StatusCode::OK,
            ok(&format!(
                "已删除 {removed} 条超过 {} 天的进场记录。",
                ENTRY_RETENTION.whole_days()
            )),
        )
    } else {
        let venue = form.venue.trim().parse::<i64>().ok();
        decide(&state, &session, &form.action, venue, note).await?
    };
    let venues = blocking(&state, |store| store.venues()).await?;
    Ok(html_response(status, render(&session, &venues, &notice)))
}

fn ok(text: &str) -> String {
    format!(
        "<div class=\"notice notice-ok\" role=\"status\" data-outcome=\"done\"><p>{}</p></div>\n",
        esc(text)
    )
}

fn refused(text: &str) -> String {
    format!(
        "<p class=\"notice notice-error\" role=\"alert\" data-outcome=\"refused\">{}</p>\n",
        esc(text)
    )
}

/// Carries out a decision; returns the status and the notice (trusted markup) to show.
async fn decide(
    state: &AppState,
    session: &Session,
    action: &str,
    venue: Option<i64>,
    note: String,
) -> Result<(StatusCode, String), PageError> {
    let Some(id) = venue else {
        return Ok((StatusCode::BAD_REQUEST, refused("没有选择单位。")));
    };
    let mut token = None;
    let decision = match action {
        "approve" => {
            let new = tokens::random_token(TOKEN_PREFIX).map_err(|_| PageError::internal())?;
            let token_hash = tokens::token_hash(&new);
            token = Some(new);
            Decision::Approve { token_hash }
        }
        "reject" | "suspend" if note.is_empty() => {
            return Ok((
                StatusCode::BAD_REQUEST,
                refused("请填写原因：会告诉单位为什么没有通过或被暂停。"),
            ));
        }
        "reject" => Decision::Reject { note },
        "suspend" => Decision::Suspend { note },
        "reinstate" => Decision::Reinstate,
        _ => return Ok((StatusCode::BAD_REQUEST, refused("未知的操作。"))),
    };
    let by = session.principal.id;
    let now = state.clock.now();
    let (from, _) = decision.transition();
    let decided = blocking(state, move |store| {
        match store.decide_venue(id, &decision, by, now) {
            Err(crate::store::StoreError::NotFound) => Ok(Err(None)),
            Ok(None) => Ok(Err(store.venue(id)?)),
            Ok(Some(venue)) => Ok(Ok(venue)),
            Err(e) => Err(e),
        }
    })
    .await?;
    let venue = match decided {
        Ok(venue) => venue,
        Err(None) => return Ok((StatusCode::NOT_FOUND, refused("没有这个单位。"))),
        Err(Some(venue)) => {
            return Ok((
                StatusCode::CONFLICT,
                refused(&format!(
                    "{} 当前状态为“{}”，不能执行此操作（需要“{}”）。页面已刷新，请重新查看。",
                    venue.name,
                    venue.status.label(),
                    from.label()
                )),
            ));
        }
    };
    let notice = match (action, token) {
        ("approve", Some(token)) => {
            // The first poster; should this fail, the organisation's page makes it on download.
            if let Err(e) = make_poster(state, &venue).await {
                tracing::warn!(venue = venue.id, code = %e.code(), "first poster not made");
            }
            format!(
                "<div class=\"notice notice-ok\" role=\"status\" data-outcome=\"approved\">\
                 <p><strong>已通过：{name}</strong></p>\
                 <p>单位令牌（只显示这一次，请交给单位联系人 {contact}）：</p>\
                 <p><code class=\"token\" data-token>{token}</code></p>\
                 <p>单位用这个令牌登录本服务，下载打印张贴码、查看进场记录。</p></div>\n",
                name = esc(&venue.name),
                contact = esc(&venue.contact_name),
                token = esc(&token),
            )
        }
        ("reject", _) => ok(&format!("已驳回：{}。", venue.name)),
        ("suspend", _) => ok(&format!(
            "已暂停：{}。扫描它的张贴码不再登记进场，门口核验账号也暂停使用。",
            venue.name
        )),
        _ => ok(&format!("已恢复：{}。", venue.name)),
    };
    Ok((StatusCode::OK, notice))
}

fn button(session: &Session, venue: &Venue, action: &str, label: &str, with_note: bool) -> String {
    let note = if with_note {
        "<input type=\"text\" name=\"note\" placeholder=\"原因（必填）\" maxlength=\"100\" required>"
    } else {
        ""
    };
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{PATH}\">{token}\
         <input type=\"hidden\" name=\"action\" value=\"{action}\">\
         <input type=\"hidden\" name=\"venue\" value=\"{id}\">{note}\
         <button type=\"submit\" data-action=\"{action}\">{label}</button></form>",
        token = session.form_token_input(),
        id = venue.id,
    )
}

fn row(session: &Session, venue: &Venue) -> String {
    let actions = match venue.status {
        VenueStatus::Pending => format!(
            "{}{}",
            button(session, venue, "approve", "通过", false),
            button(session, venue, "reject", "驳回", true)
        ),
        VenueStatus::Approved => button(session, venue, "suspend", "暂停", true),
        VenueStatus::Suspended => button(session, venue, "reinstate", "恢复", false),
        VenueStatus::Rejected => String::new(),
    };
    let note = venue
        .decision_note
        .as_deref()
        .map(|n| format!("<br><small>原因：{}</small>", esc(n)))
        .unwrap_or_default();
    format!(
        "<tr data-venue=\"{id}\" data-status=\"{status}\"><td><strong>{name}</strong><br>\
         <small>{address}</small></td><td class=\"mono\">{uscc}</td>\
         <td>{contact}<br><small>{phone}</small></td><td>{applied}</td>\
         <td><span class=\"tag {class}\">{label}</span>{note}</td><td>{actions}</td></tr>\n",
        id = venue.id,
        status = venue.status.as_str(),
        name = esc(&venue.name),
        address = esc(&venue.address),
        uscc = esc(&venue.uscc),
        contact = esc(&venue.contact_name),
        phone = esc(&venue.contact_phone),
        applied = date_time(venue.applied_at),
        class = match venue.status {
            VenueStatus::Approved => "ok",
            VenueStatus::Pending => "warn",
            _ => "bad",
        },
        label = venue.status.label(),
    )
}

fn render(session: &Session, venues: &[Venue], notice: &str) -> String {
    let mut sections = String::new();
    for (title, statuses) in [
        ("待审核的申请", &[VenueStatus::Pending][..]),
        (
            "已登记的单位",
            &[VenueStatus::Approved, VenueStatus::Suspended][..],
        ),
        ("未通过的申请", &[VenueStatus::Rejected][..]),
    ] {
        let rows: String = venues
            .iter()
            .filter(|v| statuses.contains(&v.status))
            .map(|v| row(session, v))
            .collect();
        let rows = if rows.is_empty() {
            "<tr><td colspan=\"6\">没有。</td></tr>\n".to_owned()
        } else {
            rows
        };
        sections.push_str(&format!(
            "<h2>{title}</h2>\n<table class=\"venues\">\n<thead><tr><th>单位</th>\
             <th>统一社会信用代码</th><th>联系人</th><th>申请时间</th><th>状态</th><th>操作</th>\
             </tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n"
        ));
    }
    let body = format!(
        "<header class=\"topbar\">\n<span class=\"who\">运维：{name}（{org}）</span>\n{signout}\n\
         </header>\n<main class=\"wide\">\n<h1>单位张贴码审核</h1>\n{notice}{sections}\
         <h2>进场记录清理</h2>\n<p>进场记录保存 {days} 天，到期自动删除（服务每小时检查一次）。\
         也可以立即清理：</p>\n\
         <form method=\"post\" action=\"{PATH}\">{token}\
         <input type=\"hidden\" name=\"action\" value=\"purge\">\
         <button type=\"submit\" data-action=\"purge\">立即清理过期记录</button></form>\n</main>",
        name = esc(&session.principal.name),
        org = esc(&session.principal.org),
        signout = session.sign_out_form(),
        token = session.form_token_input(),
        days = ENTRY_RETENTION.whole_days(),
    );
    page(
        &Frame {
            title: "单位张贴码审核",
            body_class: "plain",
            refresh_seconds: None,
            now: None,
        },
        &body,
    )
}
