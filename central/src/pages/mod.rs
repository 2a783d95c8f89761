//! The web pages of the central service: server-rendered HTML in Chinese, with one stylesheet
//! and one small script served by the service itself (no build step, no CDN).
//!
//! | page | who | what |
//! |---|---|---|
//! | `GET /` | anyone | links to the pages |
//! | `GET, POST /verify` | verifier | scan or type a slip's QR text; the verdict fills the screen |
//! | `GET /kiosks` | anyone | the kiosk directory: address, hours, whether each can issue now |
//! | `GET /fleet` | operator | every kiosk's devices, paper, heartbeat, backlog, errors today |
//! | `GET, POST /portal/report-lost` | portal | the counter's lost report (挂失) |
//! | `GET, POST /venues/apply` | anyone | an organisation applies for a poster code ([`venue_apply`]) |
//! | `GET, POST /venues/review` | operator | approve, reject, suspend venues; clean up old entries |
//! | `GET /venue` and below | organisation (`u_` token) | poster, today's entries, CSV, door verifiers ([`venue`]) |
//! | `GET, POST /signin`, `POST /signout` | anyone | the session cookie ([`auth`]) |
//!
//! Every page answer carries a Content-Security-Policy that allows scripts, styles and
//! connections from the service only (images also as `data:` URLs, for the holder's photo), no
//! framing and forms posting only here, plus `Cache-Control: no-store`, since most pages show
//! a person or a fleet's state. Everything that comes from storage or a request is escaped
//! ([`html::esc`]). The pages call the same code as the API: the verifier page
//! [`crate::http::verify_payload`], the counter page [`crate::http::report_lost_for`], the
//! directory [`crate::http::listing`].

pub mod assets;
pub mod auth;
pub mod fleet;
pub mod html;
pub mod kiosks;
pub mod report_lost;
pub mod venue;
pub mod venue_apply;
pub mod venue_review;
pub mod verify;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use self::html::{Frame, esc, page};
use crate::http::AppState;

/// The Content-Security-Policy of every page.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; media-src 'self'; connect-src 'self'; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The routes of the pages, to merge into the API router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route(verify::PATH, get(verify::show).post(verify::check))
        .route(kiosks::PATH, get(kiosks::show))
        .route(fleet::PATH, get(fleet::show))
        .route(
            report_lost::PATH,
            get(report_lost::show).post(report_lost::submit),
        )
        .route(
            venue_apply::PATH,
            get(venue_apply::show).post(venue_apply::submit),
        )
        .route(
            venue_review::PATH,
            get(venue_review::show).post(venue_review::act),
        )
        .route(venue::PATH, get(venue::show))
        .route(venue::POSTER_PDF_PATH, get(venue::poster))
        .route(venue::REPRINT_PATH, post(venue::reprint))
        .route(venue::DOOR_VERIFIERS_PATH, post(venue::add_door_verifier))
        .route(venue::CSV_PATH, get(venue::csv))
        .route("/signin", get(auth::signin_form).post(auth::signin))
        .route("/signout", post(auth::signout))
        .route(assets::CSS_PATH, get(assets::css))
        .route(assets::JS_PATH, get(assets::js))
        .layer(axum::middleware::from_fn(page_headers))
}

/// Adds the security headers to every page answer; `no-store` unless the handler chose a
/// cache policy (the static files).
async fn page_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(self), microphone=(), geolocation=()"),
    );
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// An HTML answer.
pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    (status, Html(body)).into_response()
}

/// A page shown instead of the one asked for: a refusal, a sign-in form, a fault.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    html: String,
}

impl PageError {
    /// A ready page with this status.
    pub(crate) fn page(status: StatusCode, html: String) -> Self {
        Self { status, html }
    }

    /// A page saying `message` (plain words), with this status.
    pub(crate) fn message(status: StatusCode, message: &str) -> Self {
        let title = match status {
            StatusCode::FORBIDDEN => "已拒绝",
            StatusCode::BAD_REQUEST => "请求有误",
            _ => "出错了",
        };
        let body = format!(
            "<main class=\"narrow\">\n<h1>{title}</h1>\n\
             <p class=\"notice notice-error\" role=\"alert\">{}</p>\n\
             <p><a href=\"/\">返回首页</a></p>\n</main>",
            esc(message)
        );
        Self::page(
            status,
            page(
                &Frame {
                    title,
                    body_class: "plain",
                    refresh_seconds: None,
                    now: None,
                },
                &body,
            ),
        )
    }

    /// 403 with `message`.
    pub(crate) fn forbidden(message: &str) -> Self {
        Self::message(StatusCode::FORBIDDEN, message)
    }

    /// 400 with `message`.
    pub(crate) fn bad_request(message: &str) -> Self {
        Self::message(StatusCode::BAD_REQUEST, message)
    }

    /// 500: a fault on our side (already logged where it happened).
    pub(crate) fn internal() -> Self {
        Self::message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "系统暂时出错，请稍后再试；如果一直出错，请联系运维人员。",
        )
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        html_response(self.status, self.html)
    }
}

impl From<crate::http::ApiError> for PageError {
    fn from(_: crate::http::ApiError) -> Self {
        Self::internal()
    }
}

/// `GET /`: where each page is.
async fn index() -> Response {
    let body = "<main class=\"narrow\">\n<h1>随申码离线码服务</h1>\n<ul class=\"menu\">\n\
         <li><a href=\"/verify\">核验离线码<span>核验人员</span></a></li>\n\
         <li><a href=\"/kiosks\">自助终端分布<span>哪里可以办理</span></a></li>\n\
         <li><a href=\"/fleet\">终端运行状态<span>运维人员</span></a></li>\n\
         <li><a href=\"/portal/report-lost\">离线码挂失<span>窗口工作人员</span></a></li>\n\
         <li><a href=\"/venues/apply\">申请单位张贴码<span>本市登记的单位</span></a></li>\n\
         <li><a href=\"/venue\">本单位张贴码与进场记录<span>已登记的单位</span></a></li>\n\
         <li><a href=\"/venues/review\">单位张贴码审核<span>运维人员</span></a></li>\n\
         </ul>\n</main>";
    html_response(
        StatusCode::OK,
        page(
            &Frame {
                title: "随申码离线码服务",
                body_class: "plain",
                refresh_seconds: None,
                now: None,
            },
            body,
        ),
    )
}
