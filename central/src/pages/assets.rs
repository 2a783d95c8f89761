//! The pages' stylesheet and script, compiled into the binary and served by the service itself
//! (`assets/pages.css`, `assets/pages.js` beside this file).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Where the stylesheet is served.
pub const CSS_PATH: &str = "/assets/pages.css";
/// Where the script is served.
pub const JS_PATH: &str = "/assets/pages.js";

/// The stylesheet.
pub const CSS: &str = include_str!("assets/pages.css");
/// The script: the live clock, the camera scanner, keeping the scan field focused.
pub const JS: &str = include_str!("assets/pages.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Revalidated on each use, so a new release is picked up at once.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /assets/pages.css`.
pub(crate) async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

/// `GET /assets/pages.js`.
pub(crate) async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}
