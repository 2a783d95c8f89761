//! The kiosk directory (`/kiosks`), for residents and the people who help them: each kiosk's
//! place, address and hours, and whether it can issue a slip right now, with the reason when it
//! cannot. The same listing as `GET /v1/kiosks` ([`crate::http::listing`]), refreshed every
//! minute.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use protocol::api::{DeviceState, KioskListing, PaperState};

use super::html::{Frame, date_time, esc, page};
use super::{PageError, html_response};
use crate::http::{AppState, blocking, listing};
use crate::model::HeartbeatRecord;

/// Where the page is.
pub const PATH: &str = "/kiosks";
/// How often the page reloads itself, in seconds.
pub const REFRESH_SECONDS: u32 = 60;

/// Why a kiosk cannot issue now, in plain words (empty when it can).
pub fn reasons(listing: &KioskListing, heartbeat: Option<&HeartbeatRecord>) -> Vec<&'static str> {
    let mut reasons = Vec::new();
    if !listing.online {
        reasons.push("终端未连接");
        return reasons;
    }
    if !listing.in_service {
        reasons.push("暂停服务");
    }
    match listing.paper {
        PaperState::Out => reasons.push("打印纸用完"),
        PaperState::Unknown => reasons.push("打印机状态不明"),
        PaperState::Ok | PaperState::NearEnd => {}
    }
    if heartbeat.is_some_and(|h| {
        h.report
            .devices
            .iter()
            .any(|d| d.state == DeviceState::Failed)
    }) {
        reasons.push("设备故障");
    }
    if reasons.is_empty() && !listing.can_issue {
        reasons.push("暂不能办理");
    }
    reasons
}

/// `GET /kiosks`.
pub(crate) async fn show(State(state): State<AppState>) -> Result<Response, PageError> {
    let now = state.clock.now();
    let all = blocking(&state, |store| store.kiosks()).await?;
    let mut cards = String::new();
    for (kiosk, heartbeat) in &all {
        let entry = listing(kiosk, heartbeat.as_ref(), now);
        let why = reasons(&entry, heartbeat.as_ref());
        let status = if entry.can_issue {
            "<p class=\"status status-ok\" data-status>可以办理</p>".to_owned()
        } else {
            format!(
                "<p class=\"status status-no\" data-status>暂不能办理：{}</p>",
                esc(&why.join("、"))
            )
        };
        let paper_note = if entry.can_issue && entry.paper == PaperState::NearEnd {
            "<p class=\"hint\">打印纸即将用完</p>"
        } else {
            ""
        };
        cards.push_str(&format!(
            "<li class=\"kiosk {class}\" data-kiosk=\"{id}\" data-can-issue=\"{can}\">\n\
             <h2>{name}</h2>\n<p class=\"address\">{address}</p>\n\
             <p class=\"hours\">开放时间：{hours}</p>\n{status}{paper_note}\n</li>\n",
            class = if entry.can_issue {
                "kiosk-ok"
            } else {
                "kiosk-no"
            },
            id = esc(&entry.kiosk_id),
            can = entry.can_issue,
            name = esc(&entry.name),
            address = esc(&entry.address),
            hours = esc(&entry.hours),
        ));
    }
    if all.is_empty() {
        cards.push_str("<li class=\"kiosk\">暂无自助终端。</li>\n");
    }
    let body = format!(
        "<main>\n<h1>随申码离线码自助终端</h1>\n\
         <p class=\"lead\">60 周岁及以上的居民可带身份证到以下自助终端申领或补领离线码凭条。\
         “可以办理”表示终端此刻在线、有打印纸、正在服务。</p>\n\
         <ul class=\"kiosks\">\n{cards}</ul>\n\
         <p class=\"hint\">更新时间：{updated}（每分钟自动刷新）</p>\n\
         <p><a href=\"/\">返回首页</a></p>\n</main>",
        updated = date_time(now),
    );
    Ok(html_response(
        StatusCode::OK,
        page(
            &Frame {
                title: "自助终端分布",
                body_class: "plain",
                refresh_seconds: Some(REFRESH_SECONDS),
                now: Some(now),
            },
            &body,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use protocol::api::{DeviceKind, DeviceReport, HeartbeatRequest};
    use time::macros::datetime;

    fn listing_of(online: bool, in_service: bool, paper: PaperState, can: bool) -> KioskListing {
        KioskListing {
            kiosk_id: "K001".into(),
            name: "大厅".into(),
            address: "路".into(),
            hours: "9-17".into(),
            can_issue: can,
            online,
            paper,
            in_service,
            last_heartbeat_at: None,
        }
    }

    #[test]
    fn the_reasons_name_what_stops_a_kiosk() {
        assert!(reasons(&listing_of(true, true, PaperState::Ok, true), None).is_empty());
        assert_eq!(
            reasons(&listing_of(false, true, PaperState::Ok, false), None),
            vec!["终端未连接"]
        );
        assert_eq!(
            reasons(&listing_of(true, false, PaperState::Out, false), None),
            vec!["暂停服务", "打印纸用完"]
        );
        let failed = HeartbeatRecord {
            received_at: datetime!(2026-11-21 10:00 +8),
            report: HeartbeatRequest {
                kiosk_version: "1".into(),
                sent_at: datetime!(2026-11-21 10:00 +8),
                devices: vec![DeviceReport {
                    device: DeviceKind::Printer,
                    state: DeviceState::Failed,
                    last_error: None,
                }],
                paper: PaperState::Ok,
                journal_backlog: 0,
                in_service: true,
                out_of_service_reason: None,
                help_requested_at: None,
            },
        };
        assert_eq!(
            reasons(
                &listing_of(true, true, PaperState::Ok, false),
                Some(&failed)
            ),
            vec!["设备故障"]
        );
    }
}
