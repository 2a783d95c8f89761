//! The fleet view (`/fleet`) for operators and hall staff: every kiosk's devices, paper, last
//! heartbeat, journal backlog, errors today (journal events of kind `error` whose time falls on
//! today's Shanghai date) and service state. A kiosk whose heartbeat is older than
//! [`crate::http::HEARTBEAT_STALE`] is highlighted; a kiosk where a resident pressed
//! 呼叫工作人员 stands at the top with the time of the request until staff clear it at the kiosk.
//! The page reloads itself every [`REFRESH_SECONDS`].

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use protocol::api::{DeviceKind, DeviceState, JournalKind, PaperState};
use time::{Duration, OffsetDateTime};

use super::auth::Visitor;
use super::html::{Frame, ago, date_time, esc, page};
use super::{PageError, html_response};
use crate::clock::SHANGHAI;
use crate::http::{AppState, HEARTBEAT_STALE, blocking};
use crate::model::{HeartbeatRecord, KioskRecord, Role};

/// Where the page is.
pub const PATH: &str = "/fleet";
/// How often the page reloads itself, in seconds.
pub const REFRESH_SECONDS: u32 = 15;

/// One kiosk as the fleet view shows it.
struct Row<'a> {
    kiosk: &'a KioskRecord,
    heartbeat: Option<&'a HeartbeatRecord>,
    errors_today: u64,
    stale: bool,
    help_at: Option<OffsetDateTime>,
}

/// The order of the rows: kiosks asking for help first (the longest waiting first), then the
/// others by kiosk id.
fn order(rows: &mut [Row<'_>]) {
    rows.sort_by(|a, b| match (a.help_at, b.help_at) {
        (Some(x), Some(y)) => x
            .cmp(&y)
            .then_with(|| a.kiosk.kiosk_id.cmp(&b.kiosk.kiosk_id)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => a.kiosk.kiosk_id.cmp(&b.kiosk.kiosk_id),
    });
}

fn device_name(kind: DeviceKind) -> &'static str {
    match kind {
        DeviceKind::Idcard => "身份证阅读器",
        DeviceKind::Scanner => "扫码器",
        DeviceKind::Printer => "打印机",
    }
}

fn device_state(state: DeviceState) -> (&'static str, &'static str) {
    match state {
        DeviceState::Connected => ("正常", "ok"),
        DeviceState::Degraded => ("异常", "warn"),
        DeviceState::Failed => ("故障", "bad"),
    }
}

fn paper(state: PaperState) -> (&'static str, &'static str) {
    match state {
        PaperState::Ok => ("充足", "ok"),
        PaperState::NearEnd => ("即将用完", "warn"),
        PaperState::Out => ("缺纸", "bad"),
        PaperState::Unknown => ("不明", "warn"),
    }
}

/// The UTC bounds of today's Shanghai date: `[00:00, next 00:00)`.
fn today_bounds(now: OffsetDateTime) -> (OffsetDateTime, OffsetDateTime) {
    let start = now
        .to_offset(SHANGHAI)
        .date()
        .midnight()
        .assume_offset(SHANGHAI);
    (start, start.saturating_add(Duration::days(1)))
}

/// `GET /fleet`.
pub(crate) async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
) -> Result<Response, PageError> {
    let session = visitor.require(Role::Operator, PATH)?;
    let now = state.clock.now();
    let (from, until) = today_bounds(now);
    let (all, errors) = blocking(&state, move |store| {
        Ok((
            store.kiosks()?,
            store.journal_counts(JournalKind::Error, from, until)?,
        ))
    })
    .await?;
    let mut rows: Vec<Row<'_>> = all
        .iter()
        .map(|(kiosk, heartbeat)| Row {
            kiosk,
            heartbeat: heartbeat.as_ref(),
            errors_today: errors.get(&kiosk.kiosk_id).copied().unwrap_or(0),
            stale: heartbeat
                .as_ref()
                .is_none_or(|h| now - h.received_at > HEARTBEAT_STALE),
            help_at: heartbeat.as_ref().and_then(|h| h.report.help_requested_at),
        })
        .collect();
    order(&mut rows);

    let help: Vec<&Row<'_>> = rows.iter().filter(|r| r.help_at.is_some()).collect();
    let mut alerts = String::new();
    if !help.is_empty() {
        alerts.push_str("<section class=\"alerts\" role=\"alert\">\n<h2>呼叫工作人员</h2>\n<ul>\n");
        for row in &help {
            if let Some(at) = row.help_at {
                alerts.push_str(&format!(
                    "<li data-help=\"{id}\"><strong>{id} {name}</strong>：{when} 有居民呼叫工作人员\
                     （{ago}），请前往 {address}</li>\n",
                    id = esc(&row.kiosk.kiosk_id),
                    name = esc(&row.kiosk.name),
                    when = date_time(at),
                    ago = ago(now - at),
                    address = esc(&row.kiosk.address),
                ));
            }
        }
        alerts.push_str("</ul>\n</section>\n");
    }

    let stale_count = rows.iter().filter(|r| r.stale).count();
    let error_total: u64 = rows.iter().map(|r| r.errors_today).sum();
    let mut table = String::new();
    for row in &rows {
        table.push_str(&render_row(row, now));
    }
    if rows.is_empty() {
        table.push_str(
            "<tr><td colspan=\"7\">还没有登记终端：用 central provision-kiosk 登记。</td></tr>\n",
        );
    }
    let body = format!(
        "<header class=\"topbar\">\n<span class=\"who\">运维：{name}（{org}）</span>\n\
         <span class=\"topclock\" data-clock=\"full\">{clock}</span>\n{signout}\n</header>\n\
         <main class=\"wide\">\n<h1>终端运行状态</h1>\n{alerts}\
         <p class=\"summary\">共 {total} 台终端 · 心跳超时 {stale_count} 台 · 今日错误 {error_total} 条\
         （每 {REFRESH_SECONDS} 秒自动刷新；心跳超过 {stale_minutes} 分钟视为超时）</p>\n\
         <table class=\"fleet\">\n<thead><tr><th>终端</th><th>状态</th><th>设备</th><th>纸张</th>\
         <th>最近心跳</th><th>待上传日志</th><th>今日错误</th></tr></thead>\n<tbody>\n{table}</tbody>\n\
         </table>\n</main>",
        name = esc(&session.principal.name),
        org = esc(&session.principal.org),
        clock = date_time(now),
        signout = session.sign_out_form(),
        total = rows.len(),
        stale_minutes = HEARTBEAT_STALE.whole_minutes(),
    );
    Ok(html_response(
        StatusCode::OK,
        page(
            &Frame {
                title: "终端运行状态",
                body_class: "fleet-page",
                refresh_seconds: Some(REFRESH_SECONDS),
                now: Some(now),
            },
            &body,
        ),
    ))
}

fn render_row(row: &Row<'_>, now: OffsetDateTime) -> String {
    let mut classes = vec!["kiosk-row"];
    if row.stale {
        classes.push("stale");
    }
    if row.help_at.is_some() {
        classes.push("help");
    }
    let kiosk = row.kiosk;
    let version = row
        .heartbeat
        .map(|h| format!("<br><small>版本 {}</small>", esc(&h.report.kiosk_version)))
        .unwrap_or_default();
    let who = format!(
        "<strong>{id}</strong> {name}<br><small>{address}</small>{version}",
        id = esc(&kiosk.kiosk_id),
        name = esc(&kiosk.name),
        address = esc(&kiosk.address),
    );
    let Some(heartbeat) = row.heartbeat else {
        return format!(
            "<tr class=\"{classes}\" data-kiosk=\"{id}\" data-stale=\"true\">\
             <td>{who}</td><td><span class=\"tag bad\">从未连接</span></td><td>—</td><td>—</td>\
             <td>—</td><td>—</td><td data-errors>{errors}</td></tr>\n",
            classes = classes.join(" "),
            id = esc(&kiosk.kiosk_id),
            errors = row.errors_today,
        );
    };
    let report = &heartbeat.report;
    let mut status = String::new();
    if let Some(at) = row.help_at {
        status.push_str(&format!(
            "<span class=\"tag help\">呼叫工作人员 {}</span><br>",
            super::html::clock_time(at)
        ));
    }
    status.push_str(if row.stale {
        "<span class=\"tag bad\">心跳超时</span>"
    } else {
        "<span class=\"tag ok\">在线</span>"
    });
    if report.in_service {
        status.push_str(" <span class=\"tag ok\">服务中</span>");
    } else {
        status.push_str(" <span class=\"tag bad\">暂停服务</span>");
        if let Some(reason) = &report.out_of_service_reason {
            status.push_str(&format!(
                "<br><small data-oos-reason>{}</small>",
                esc(reason)
            ));
        }
    }
    let mut devices = String::new();
    for device in &report.devices {
        let (word, class) = device_state(device.state);
        devices.push_str(&format!(
            "<div class=\"device\">{name}：<span class=\"tag {class}\">{word}</span>",
            name = device_name(device.device),
        ));
        if let Some(error) = &device.last_error {
            devices.push_str(&format!("<br><small>{}</small>", esc(error)));
        }
        devices.push_str("</div>");
    }
    if devices.is_empty() {
        devices.push('—');
    }
    let (paper_word, paper_class) = paper(report.paper);
    format!(
        "<tr class=\"{classes}\" data-kiosk=\"{id}\" data-stale=\"{stale}\">\
         <td>{who}</td><td>{status}</td><td>{devices}</td>\
         <td><span class=\"tag {paper_class}\" data-paper>{paper_word}</span></td>\
         <td data-heartbeat>{at}<br><small>{ago}</small></td>\
         <td data-backlog>{backlog}</td>\
         <td data-errors class=\"{error_class}\">{errors}</td></tr>\n",
        classes = classes.join(" "),
        id = esc(&kiosk.kiosk_id),
        stale = row.stale,
        at = date_time(heartbeat.received_at),
        ago = ago(now - heartbeat.received_at),
        backlog = report.journal_backlog,
        errors = row.errors_today,
        error_class = if row.errors_today > 0 { "bad" } else { "" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn today_is_the_shanghai_day() {
        let (from, until) = today_bounds(datetime!(2026-11-20 16:30 UTC));
        assert_eq!(from, datetime!(2026-11-21 00:00 +8));
        assert_eq!(until, datetime!(2026-11-22 00:00 +8));
    }

    #[test]
    fn kiosks_asking_for_help_come_first_longest_waiting_first() {
        let kiosk = |id: &str| KioskRecord {
            kiosk_id: id.into(),
            name: String::new(),
            address: String::new(),
            hours: String::new(),
            cert_fingerprint: [0; 32],
        };
        let (a, b, c, d) = (kiosk("K001"), kiosk("K002"), kiosk("K003"), kiosk("K004"));
        let row = |kiosk, help_at| Row {
            kiosk,
            heartbeat: None,
            errors_today: 0,
            stale: false,
            help_at,
        };
        let mut rows = vec![
            row(&a, None),
            row(&b, Some(datetime!(2026-11-21 10:05 +8))),
            row(&c, None),
            row(&d, Some(datetime!(2026-11-21 10:01 +8))),
        ];
        order(&mut rows);
        let ids: Vec<&str> = rows.iter().map(|r| r.kiosk.kiosk_id.as_str()).collect();
        assert_eq!(ids, ["K004", "K002", "K001", "K003"]);
    }
}
