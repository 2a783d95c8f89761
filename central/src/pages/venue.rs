//! The organisation's own page (`/venue`, signed in with the organisation's `u_` token): its
//! poster (download the A4 PDF, reprint it, which retires the one on the door), today's entries
//! (time, masked name, colour, how) with counts by colour and a CSV export, and door verifiers:
//! verifier tokens bound to the venue, for staff who scan offline-code slips at the entrance on
//! the verifier page (`/verify`). Each valid slip they scan records an entry here.
//!
//! | route | what |
//! |---|---|
//! | `GET /venue` | the page |
//! | `GET /venue/poster.pdf` | the current poster (made on first download if approval did not) |
//! | `POST /venue/poster` | reprint: a new serial; the old poster stops recording entries |
//! | `POST /venue/door-verifiers` | a door verifier's token, shown once |
//! | `GET /venue/entries.csv?date=YYYY-MM-DD` | a day's entries (today by default, within the retention) |
//!
//! A suspended organisation still signs in and sees its records and why it is suspended, but
//! cannot download, reprint or add door verifiers (403).

use axum::Form;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use protocol::api::Color;
use serde::Deserialize;
use time::{Date, Duration, OffsetDateTime};

use super::auth::{SameOrigin, VenueSession, VenueVisitor};
use super::html::{Frame, chinese_date, clock_time, date_time, esc, page};
use super::{PageError, html_response};
use crate::clock::SHANGHAI;
use crate::http::{AppState, blocking};
use crate::tokens;
use crate::venues::{
    ENTRY_RETENTION, EntryView, MAX_CONTACT_CHARS, PosterRecord, VenueStatus, color_label, counts,
    day_bounds, entries_csv, make_poster,
    poster::{PosterContent, poster_pdf},
};

/// Where the page is.
pub const PATH: &str = "/venue";
/// The poster download.
pub const POSTER_PDF_PATH: &str = "/venue/poster.pdf";
/// The reprint form.
pub const REPRINT_PATH: &str = "/venue/poster";
/// The door-verifier form.
pub const DOOR_VERIFIERS_PATH: &str = "/venue/door-verifiers";
/// The CSV export.
pub const CSV_PATH: &str = "/venue/entries.csv";

/// `GET /venue`.
pub(crate) async fn show(
    State(state): State<AppState>,
    visitor: VenueVisitor,
) -> Result<Response, PageError> {
    let session = visitor.require(PATH)?;
    respond(&state, &session, StatusCode::OK, "").await
}

async fn respond(
    state: &AppState,
    session: &VenueSession,
    status: StatusCode,
    notice: &str,
) -> Result<Response, PageError> {
    let now = state.clock.now();
    let (from, until) = day_bounds(now);
    let id = session.venue.id;
    let (poster, entries) = blocking(state, move |store| {
        Ok((
            store.current_poster(id)?,
            store.venue_entries(id, from, until)?,
        ))
    })
    .await?;
    Ok(html_response(
        status,
        render(session, now, poster.as_ref(), &entries, notice),
    ))
}

/// Refuses the actions of a venue that is not approved.
fn require_approved(session: &VenueSession) -> Result<(), PageError> {
    if session.venue.status == VenueStatus::Approved {
        Ok(())
    } else {
        Err(PageError::forbidden(
            "本单位的张贴码已暂停使用，不能下载、重新打印或添加门口核验人员。请联系审核人员。",
        ))
    }
}

/// `GET /venue/poster.pdf`.
pub(crate) async fn poster(
    State(state): State<AppState>,
    visitor: VenueVisitor,
) -> Result<Response, PageError> {
    let session = visitor.require(PATH)?;
    require_approved(&session)?;
    let venue = &session.venue;
    let id = venue.id;
    let current = blocking(&state, move |store| store.current_poster(id)).await?;
    let current = match current {
        Some(poster) => poster,
        None => make_poster(&state, venue).await?,
    };
    let number = format!("{}-{}", venue.key, current.serial);
    let pdf = poster_pdf(&PosterContent {
        name: &venue.name,
        address: &venue.address,
        uscc: &venue.uscc,
        qr_text: &current.qr_text,
        number: &number,
    })
    .map_err(|e| {
        tracing::error!(error = %e, "poster PDF");
        PageError::internal()
    })?;
    let mut response = pdf.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    if let Ok(disposition) = HeaderValue::from_str(&format!(
        "attachment; filename=\"venue-poster-{number}.pdf\""
    )) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

/// A form with only the form token.
#[derive(Debug, Deserialize)]
pub(crate) struct TokenForm {
    #[serde(default)]
    form_token: String,
}

/// `POST /venue/poster`: reprint.
pub(crate) async fn reprint(
    State(state): State<AppState>,
    visitor: VenueVisitor,
    _same_origin: SameOrigin,
    form: Result<Form<TokenForm>, FormRejection>,
) -> Result<Response, PageError> {
    let session = visitor.require(PATH)?;
    let Form(form) = form.map_err(|_| PageError::bad_request("表单不完整，请刷新页面后重试。"))?;
    session.check_form_token(&form.form_token)?;
    require_approved(&session)?;
    let poster = make_poster(&state, &session.venue).await?;
    let notice = format!(
        "<div class=\"notice notice-ok\" role=\"status\" data-outcome=\"reprinted\">\
         <p><strong>已生成第 {serial} 号张贴码。</strong>{old}请下载打印，并尽快更换入口处的张贴码。</p></div>\n",
        serial = poster.serial,
        old = if poster.serial > 1 {
            format!(
                "此前的第 {} 号张贴码已作废，扫码将不再登记。",
                poster.serial - 1
            )
        } else {
            String::new()
        },
    );
    respond(&state, &session, StatusCode::OK, &notice).await
}

/// The door-verifier form.
#[derive(Debug, Deserialize)]
pub(crate) struct DoorVerifierForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    form_token: String,
}

/// `POST /venue/door-verifiers`: a verifier token bound to this venue, shown once.
pub(crate) async fn add_door_verifier(
    State(state): State<AppState>,
    visitor: VenueVisitor,
    _same_origin: SameOrigin,
    form: Result<Form<DoorVerifierForm>, FormRejection>,
) -> Result<Response, PageError> {
    let session = visitor.require(PATH)?;
    let Form(form) = form.map_err(|_| PageError::bad_request("表单不完整，请刷新页面后重试。"))?;
    session.check_form_token(&form.form_token)?;
    require_approved(&session)?;
    let name = form.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > MAX_CONTACT_CHARS {
        let notice = format!(
            "<p class=\"notice notice-error\" role=\"alert\" data-outcome=\"refused\">\
             请填写门口核验人员的姓名（不超过 {MAX_CONTACT_CHARS} 个字）。</p>\n"
        );
        return respond(&state, &session, StatusCode::BAD_REQUEST, &notice).await;
    }
    let token = tokens::random_token("v_").map_err(|_| PageError::internal())?;
    let hash = tokens::token_hash(&token);
    let id = session.venue.id;
    let shown_name = name.clone();
    blocking(&state, move |store| {
        store.add_venue_verifier(id, &name, &hash)
    })
    .await?;
    let notice = format!(
        "<div class=\"notice notice-ok\" role=\"status\" data-outcome=\"door-verifier\">\
         <p><strong>已添加门口核验人员：{name}</strong></p>\
         <p>核验令牌（只显示这一次，请交给本人）：</p>\
         <p><code class=\"token\" data-token>{token}</code></p>\
         <p>请在入口处打开本服务的 <a href=\"/verify\">核验离线码</a> 页面，用这个令牌登录，\
         扫描老年人出示的离线码凭条：核验有效的，会自动记为本单位的进场记录。</p></div>\n",
        name = esc(&shown_name),
        token = esc(&token),
    );
    respond(&state, &session, StatusCode::OK, &notice).await
}

/// `GET /venue/entries.csv?date=`.
#[derive(Debug, Deserialize)]
pub(crate) struct CsvQuery {
    date: Option<String>,
}

/// `GET /venue/entries.csv`: a day's entries.
pub(crate) async fn csv(
    State(state): State<AppState>,
    visitor: VenueVisitor,
    Query(query): Query<CsvQuery>,
) -> Result<Response, PageError> {
    let session = visitor.require(PATH)?;
    let now = state.clock.now();
    let today = now.to_offset(SHANGHAI).date();
    let day = match query.date.as_deref().filter(|d| !d.is_empty()) {
        None => today,
        Some(text) => Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| PageError::bad_request("日期应写成 2026-11-21 这样。"))?,
    };
    let oldest = today - (ENTRY_RETENTION - Duration::days(1));
    if day > today || day < oldest {
        return Err(PageError::bad_request(&format!(
            "只能导出最近 {} 天（{} 到 {}）的进场记录。",
            ENTRY_RETENTION.whole_days(),
            chinese_date(oldest),
            chinese_date(today)
        )));
    }
    let (from, until) = day_bounds(day.midnight().assume_offset(SHANGHAI));
    let id = session.venue.id;
    let entries = blocking(&state, move |store| store.venue_entries(id, from, until)).await?;
    let mut response = entries_csv(&entries).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(disposition) =
        HeaderValue::from_str(&format!("attachment; filename=\"entries-{day}.csv\""))
    {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    Ok(response)
}

fn color_class(color: Color) -> &'static str {
    match color {
        Color::Green => "green",
        Color::Yellow => "yellow",
        Color::Red => "red",
    }
}

fn render(
    session: &VenueSession,
    now: OffsetDateTime,
    poster: Option<&PosterRecord>,
    entries: &[EntryView],
    notice: &str,
) -> String {
    let venue = &session.venue;
    let approved = venue.status == VenueStatus::Approved;
    let status = if approved {
        String::new()
    } else {
        format!(
            "<p class=\"notice notice-error\" role=\"alert\" data-status=\"{status}\">\
             本单位的张贴码已暂停使用{reason}。扫码不会登记进场，门口核验账号也暂停使用。\
             请联系审核人员。</p>\n",
            status = venue.status.as_str(),
            reason = venue
                .decision_note
                .as_deref()
                .map(|n| format!("（原因：{}）", esc(n)))
                .unwrap_or_default(),
        )
    };
    let poster_section = if approved {
        let current = poster
            .map(|p| {
                format!(
                    "<p>当前张贴码：第 <strong data-poster-serial>{}</strong> 号，{} 生成。</p>",
                    p.serial,
                    date_time(p.created_at)
                )
            })
            .unwrap_or_else(|| "<p>还没有生成张贴码：下载时自动生成。</p>".to_owned());
        format!(
            "<section class=\"card\">\n<h2>张贴码</h2>\n{current}\n\
             <p><a class=\"button\" href=\"{POSTER_PDF_PATH}\" data-download>下载张贴码（A4 PDF）</a></p>\n\
             <p class=\"hint\">打印后张贴在单位入口醒目处。张贴码损坏或被替换时，可以重新生成：\
             旧的张贴码随即作废，扫码不再登记。</p>\n\
             <form method=\"post\" action=\"{REPRINT_PATH}\">{token}\
             <button type=\"submit\" class=\"secondary\" data-reprint>重新生成张贴码（旧码作废）</button>\
             </form>\n</section>\n",
            token = session.form_token_input(),
        )
    } else {
        String::new()
    };
    let (green, yellow, red) = counts(entries);
    let mut rows = String::new();
    for entry in entries {
        rows.push_str(&format!(
            "<tr data-entry data-color=\"{class}\"><td>{time}</td><td data-name>{name}</td>\
             <td><span class=\"tag color-{class}\">{color}</span></td><td>{via}</td></tr>\n",
            class = color_class(entry.color),
            time = clock_time(entry.at),
            name = esc(&entry.name_masked),
            color = color_label(entry.color),
            via = entry.via.label(),
        ));
    }
    if entries.is_empty() {
        rows.push_str("<tr><td colspan=\"4\">今天还没有进场记录。</td></tr>\n");
    }
    let today = chinese_date(now.to_offset(SHANGHAI).date());
    let door = if approved {
        format!(
            "<section class=\"card\">\n<h2>门口核验（离线码）</h2>\n\
             <p>没有智能手机的老年人出示随申码离线码凭条。为入口处的工作人员添加“门口核验人员”，\
             他们用核验令牌登录 <a href=\"/verify\">核验离线码</a> 页面扫描凭条，核验有效的即记为本单位的进场记录。</p>\n\
             <form class=\"door\" method=\"post\" action=\"{DOOR_VERIFIERS_PATH}\" autocomplete=\"off\">{token}\
             <label for=\"door-name\">核验人员姓名</label>\
             <input id=\"door-name\" name=\"name\" type=\"text\" maxlength=\"{MAX_CONTACT_CHARS}\" required>\
             <button type=\"submit\" data-add-door>添加</button></form>\n</section>\n",
            token = session.form_token_input(),
        )
    } else {
        String::new()
    };
    let body = format!(
        "<header class=\"topbar\">\n<span class=\"who\" data-venue-name>单位：{name}</span>\n\
         <span class=\"topclock\" data-clock=\"full\">{clock}</span>\n{signout}\n</header>\n\
         <main class=\"wide venue\">\n<h1>{name}</h1>\n\
         <p class=\"hint\">统一社会信用代码 {uscc} · {address}</p>\n{status}{notice}\
         <section class=\"card entries\">\n<h2>今日进场记录 <small>{today}</small></h2>\n\
         <p class=\"counts\" data-counts>共 <strong data-count=\"total\">{total}</strong> 人次 · \
         <span class=\"tag color-green\">绿码 <strong data-count=\"green\">{green}</strong></span> \
         <span class=\"tag color-yellow\">黄码 <strong data-count=\"yellow\">{yellow}</strong></span> \
         <span class=\"tag color-red\">红码 <strong data-count=\"red\">{red}</strong></span></p>\n\
         <p><a href=\"{CSV_PATH}\" data-csv>导出今日记录（CSV）</a> · \
         <a href=\"{PATH}\">刷新</a></p>\n\
         <table class=\"entries\">\n<thead><tr><th>时间</th><th>姓名</th><th>健康码</th><th>方式</th></tr></thead>\n\
         <tbody>\n{rows}</tbody>\n</table>\n\
         <p class=\"hint\">姓名只显示部分。进场记录保存 {days} 天，到期自动删除。</p>\n</section>\n\
         {poster_section}{door}</main>",
        name = esc(&venue.name),
        uscc = esc(&venue.uscc),
        address = esc(&venue.address),
        clock = date_time(now),
        signout = session.sign_out_form(),
        total = entries.len(),
        days = ENTRY_RETENTION.whole_days(),
    );
    page(
        &Frame {
            title: "单位张贴码",
            body_class: "plain",
            refresh_seconds: None,
            now: Some(now),
        },
        &body,
    )
}
