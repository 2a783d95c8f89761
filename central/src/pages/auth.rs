//! Signing in to the pages, and the guards of every form that acts: the session cookie, the
//! per-session form token, and the same-origin check.
//!
//! # The cookie
//!
//! A person signs in by typing the bearer token they were given (`central add-verifier`,
//! `add-token`) into a form. The service checks it and keeps it in the cookie
//! `__Host-ssm_session`: `HttpOnly` (no script on the page can read it, so a script injected
//! into a page could not carry the credential away), `Secure`, `SameSite=Strict`, `Path=/`,
//! twelve hours at most. The pages are rendered by the service with the token's holder, so the
//! token never has to be in the page's script. Only the token's hash is stored, as for the API.
//!
//! An organisation's token (`u_...`, made when an operator approves its venue poster code)
//! signs in on the same form into the same cookie; it is looked up among venues instead of
//! token holders ([`VenueVisitor`]) and opens the organisation's page only.
//!
//! # Forms that act
//!
//! Every form POST that acts for a signed-in person is refused unless all three hold:
//! - the cookie is `SameSite=Strict`, so a browser sends it with no request started by another
//!   site;
//! - the request's `Origin` (or, failing that, `Referer`) is this service itself;
//! - the form carries the session's form token, an HMAC-SM3 of a fixed label under the session's
//!   token, which another site cannot compute or read.
//!
//! The sign-in form has no session yet: the origin check alone guards it.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, extract::rejection::FormRejection};
use protocol::hash::{constant_time_eq, hmac_sm3};
use serde::Deserialize;

use super::html::{Frame, esc, page};
use super::{PageError, html_response};
use crate::http::{AppState, principal_for_token};
use crate::model::{Principal, Role};

/// The name of the session cookie. The `__Host-` prefix makes the browser insist on `Secure`,
/// `Path=/` and no `Domain`.
pub const COOKIE_NAME: &str = "__Host-ssm_session";
/// How long a sign-in lasts, at most, in seconds.
pub const SESSION_MAX_AGE: u32 = 12 * 3600;
/// The name of the form field that carries the form token.
pub const FORM_TOKEN_FIELD: &str = "form_token";

/// The pages a sign-in may return to.
const RETURN_PATHS: [&str; 5] = [
    "/verify",
    "/fleet",
    "/portal/report-lost",
    "/venue",
    "/venues/review",
];
/// Where an organisation's token leads.
pub(crate) const VENUE_HOME: &str = "/venue";

/// The person signed in on this browser: their token and who it belongs to.
#[derive(Clone)]
pub(crate) struct Session {
    token: String,
    /// Whose token it is.
    pub(crate) principal: Principal,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token: it is a credential.
        f.debug_struct("Session")
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// The form token of this session, for the hidden field of every form that acts.
    pub(crate) fn form_token(&self) -> String {
        form_token_for(&self.token)
    }

    /// The hidden field carrying [`Self::form_token`].
    pub(crate) fn form_token_input(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"{FORM_TOKEN_FIELD}\" value=\"{}\">",
            self.form_token()
        )
    }

    /// Checks a submitted form token against this session's.
    pub(crate) fn check_form_token(&self, submitted: &str) -> Result<(), PageError> {
        if constant_time_eq(submitted.as_bytes(), self.form_token().as_bytes()) {
            Ok(())
        } else {
            Err(PageError::forbidden(
                "表单已过期或来源不明，请刷新页面后重试。",
            ))
        }
    }

    /// A sign-out button (a form that acts, so it carries the form token).
    pub(crate) fn sign_out_form(&self) -> String {
        format!(
            "<form class=\"signout\" method=\"post\" action=\"/signout\">{}\
             <button type=\"submit\">退出登录</button></form>",
            self.form_token_input()
        )
    }
}

/// The form token of a session token.
pub(crate) fn form_token_for(token: &str) -> String {
    hex::encode(hmac_sm3(token.as_bytes(), b"ssm-page-form-v1"))
}

/// Who this browser is signed in as, from the session cookie (a token the service no longer
/// knows counts as signed out).
pub(crate) struct Visitor(pub(crate) Option<Session>);

impl FromRequestParts<AppState> for Visitor {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie_token(&parts.headers) else {
            return Ok(Self(None));
        };
        let principal = principal_for_token(state, &token)
            .await
            .map_err(|_| PageError::internal())?;
        Ok(Self(
            principal.map(|principal| Session { token, principal }),
        ))
    }
}

impl Visitor {
    /// The session, when its holder has `role`; otherwise the page to show instead: a sign-in
    /// form (401) for nobody, or a refusal with a sign-in form (403) for another role.
    pub(crate) fn require(self, role: Role, path: &'static str) -> Result<Session, PageError> {
        match self.0 {
            Some(session) if session.principal.role == role => Ok(session),
            Some(session) => Err(PageError::page(
                StatusCode::FORBIDDEN,
                signin_page(
                    Some(role),
                    path,
                    Some("您登录所用的令牌不能打开此页面，请用对应的令牌重新登录。"),
                    Some(&session),
                ),
            )),
            None => Err(PageError::page(
                StatusCode::UNAUTHORIZED,
                signin_page(Some(role), path, None, None),
            )),
        }
    }
}

/// An organisation signed in with its token (`u_...`, see [`crate::venues`]): the venue as it
/// is now. The same cookie carries it; the token is looked up among venues, not principals.
#[derive(Clone)]
pub(crate) struct VenueSession {
    token: String,
    /// The organisation.
    pub(crate) venue: crate::venues::Venue,
}

impl std::fmt::Debug for VenueSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VenueSession")
            .field("venue", &self.venue)
            .finish_non_exhaustive()
    }
}

impl VenueSession {
    /// The hidden field carrying the session's form token.
    pub(crate) fn form_token_input(&self) -> String {
        format!(
            "<input type=\"hidden\" name=\"{FORM_TOKEN_FIELD}\" value=\"{}\">",
            form_token_for(&self.token)
        )
    }

    /// Checks a submitted form token against this session's.
    pub(crate) fn check_form_token(&self, submitted: &str) -> Result<(), PageError> {
        let expected = form_token_for(&self.token);
        if constant_time_eq(submitted.as_bytes(), expected.as_bytes()) {
            Ok(())
        } else {
            Err(PageError::forbidden(
                "表单已过期或来源不明，请刷新页面后重试。",
            ))
        }
    }

    /// A sign-out button.
    pub(crate) fn sign_out_form(&self) -> String {
        format!(
            "<form class=\"signout\" method=\"post\" action=\"/signout\">{}\
             <button type=\"submit\">退出登录</button></form>",
            self.form_token_input()
        )
    }
}

/// The organisation signed in on this browser, if any (rejected venues have no token; a
/// suspended one may still sign in and sees that it is suspended).
pub(crate) struct VenueVisitor(pub(crate) Option<VenueSession>);

impl FromRequestParts<AppState> for VenueVisitor {
    type Rejection = PageError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = cookie_token(&parts.headers) else {
            return Ok(Self(None));
        };
        let venue = venue_for_token(state, &token).await?;
        Ok(Self(venue.map(|venue| VenueSession { token, venue })))
    }
}

impl VenueVisitor {
    /// The session, or the sign-in form for organisations (401).
    pub(crate) fn require(self, path: &'static str) -> Result<VenueSession, PageError> {
        self.0.ok_or_else(|| {
            PageError::page(
                StatusCode::UNAUTHORIZED,
                signin_page_for(&VENUE_SIGNIN, path, None, ""),
            )
        })
    }
}

/// The venue an organisation's token belongs to, if it is one the service issued.
async fn venue_for_token(
    state: &AppState,
    token: &str,
) -> Result<Option<crate::venues::Venue>, PageError> {
    if !token.starts_with(crate::venues::TOKEN_PREFIX) || token.len() > 200 {
        return Ok(None);
    }
    let hash = crate::tokens::token_hash(token);
    crate::http::blocking(state, move |store| store.venue_by_token(&hash))
        .await
        .map_err(|_| PageError::internal())
}

/// The session token in the request's cookies, if any.
fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// A form POST from a page of this service: refused (403) when the request's `Origin`, or its
/// `Referer` when there is no `Origin`, is another site, or when neither is present.
pub(crate) struct SameOrigin;

impl<S: Send + Sync> FromRequestParts<S> for SameOrigin {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if same_origin(&parts.headers, &parts.uri) {
            Ok(Self)
        } else {
            Err(PageError::forbidden(
                "此表单不是从本服务的页面提交的，已拒绝。请打开本服务的页面重新提交。",
            ))
        }
    }
}

/// Whether the request came from a page of this service (see [`SameOrigin`]).
fn same_origin(headers: &HeaderMap, uri: &Uri) -> bool {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()));
    let Some(host) = host else {
        return false;
    };
    let expected = format!("https://{host}");
    let header_value = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    if let Some(origin) = header_value(header::ORIGIN) {
        return origin.eq_ignore_ascii_case(&expected);
    }
    match header_value(header::REFERER) {
        Some(referer) => {
            let referer = referer.to_ascii_lowercase();
            let expected = expected.to_ascii_lowercase();
            referer == expected
                || referer
                    .strip_prefix(&expected)
                    .is_some_and(|rest| rest.starts_with('/'))
        }
        None => false,
    }
}

/// The title and hint of a sign-in form.
pub(crate) struct SigninFor {
    title: &'static str,
    hint: &'static str,
}

/// The sign-in form of the organisations' pages.
pub(crate) const VENUE_SIGNIN: SigninFor = SigninFor {
    title: "单位登录",
    hint: "请输入审核通过后发给本单位的单位令牌（以 u_ 开头）。还没有登记？请先申请单位张贴码。",
};

/// The sign-in form, for a page that needs `role` (or any role), returning to `next`.
pub(crate) fn signin_page(
    role: Option<Role>,
    next: &str,
    message: Option<&str>,
    signed_in: Option<&Session>,
) -> String {
    let (title, hint) = match role {
        Some(Role::Verifier) => (
            "核验人员登录",
            "请输入管理员发给您的核验令牌（以 v_ 开头）。",
        ),
        Some(Role::Operator) => ("运维人员登录", "请输入运维令牌（以 o_ 开头）。"),
        Some(Role::Portal) => ("窗口工作人员登录", "请输入挂失令牌（以 p_ 开头）。"),
        None => ("登录", "请输入管理员或审核人员发给您的令牌。"),
    };
    let current = signed_in
        .map(|s| {
            format!(
                "<p class=\"hint\">当前登录：{}（{}）</p>{}",
                esc(&s.principal.name),
                esc(&s.principal.org),
                s.sign_out_form()
            )
        })
        .unwrap_or_default();
    signin_page_for(&SigninFor { title, hint }, next, message, &current)
}

/// A sign-in form with this title and hint; `current` is trusted markup saying who is signed
/// in now (or empty).
pub(crate) fn signin_page_for(
    form: &SigninFor,
    next: &str,
    message: Option<&str>,
    current: &str,
) -> String {
    let SigninFor { title, hint } = *form;
    let message = message
        .map(|m| {
            format!(
                "<p class=\"notice notice-error\" role=\"alert\">{}</p>",
                esc(m)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "<main class=\"narrow\">\n<h1>{title}</h1>\n{message}\
         <form class=\"signin\" method=\"post\" action=\"/signin\">\n\
         <label for=\"token\">令牌</label>\n\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"off\" \
         autofocus required>\n\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\n\
         <button type=\"submit\">登录</button>\n</form>\n\
         <p class=\"hint\">{hint}</p>\n{current}\
         <p><a href=\"/\">返回首页</a></p>\n</main>",
        next = esc(next),
    );
    page(
        &Frame {
            title,
            body_class: "plain",
            refresh_seconds: None,
            now: None,
        },
        &body,
    )
}

/// `GET /signin?next=/fleet`.
#[derive(Debug, Deserialize)]
pub(crate) struct SigninQuery {
    next: Option<String>,
}

/// The sign-in page on its own.
pub(crate) async fn signin_form(Query(query): Query<SigninQuery>) -> Response {
    let next = query
        .next
        .as_deref()
        .and_then(allowed_return)
        .unwrap_or("/");
    html_response(StatusCode::OK, signin_page(None, next, None, None))
}

/// The sign-in form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct SigninForm {
    token: String,
    #[serde(default)]
    next: String,
}

fn allowed_return(path: &str) -> Option<&'static str> {
    RETURN_PATHS.iter().copied().find(|p| *p == path)
}

fn home_of(role: Role) -> &'static str {
    match role {
        Role::Verifier => "/verify",
        Role::Operator => "/fleet",
        Role::Portal => "/portal/report-lost",
    }
}

/// `POST /signin`: checks the token, sets the cookie and goes on to the page asked for (or the
/// holder's page).
pub(crate) async fn signin(
    State(state): State<AppState>,
    _same_origin: SameOrigin,
    form: Result<Form<SigninForm>, FormRejection>,
) -> Result<Response, PageError> {
    let Form(form) = form.map_err(|_| PageError::bad_request("登录表单不完整，请重新填写。"))?;
    let token = form.token.trim();
    let principal = if token.is_empty() || token.len() > 200 {
        None
    } else {
        principal_for_token(&state, token)
            .await
            .map_err(|_| PageError::internal())?
    };
    let home = match principal {
        Some(principal) => Some(home_of(principal.role)),
        None => venue_for_token(&state, token).await?.map(|_| VENUE_HOME),
    };
    let Some(home) = home else {
        let next = allowed_return(&form.next).unwrap_or("/");
        return Err(PageError::page(
            StatusCode::UNAUTHORIZED,
            signin_page(None, next, Some("令牌不正确，请核对后重新输入。"), None),
        ));
    };
    // An organisation's token opens only its own page.
    let next = match allowed_return(&form.next) {
        Some(next) if (home == VENUE_HOME) == (next == VENUE_HOME) => next,
        _ => home,
    };
    let cookie = format!(
        "{COOKIE_NAME}={token}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={SESSION_MAX_AGE}"
    );
    let cookie = HeaderValue::from_str(&cookie).map_err(|_| {
        PageError::page(
            StatusCode::UNAUTHORIZED,
            signin_page(None, next, Some("令牌不正确，请核对后重新输入。"), None),
        )
    })?;
    let mut response = Redirect::to(next).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// The sign-out form's fields.
#[derive(Debug, Deserialize)]
pub(crate) struct SignoutForm {
    #[serde(default)]
    form_token: String,
}

/// `POST /signout`: clears the cookie.
pub(crate) async fn signout(
    visitor: Visitor,
    venue: VenueVisitor,
    _same_origin: SameOrigin,
    form: Result<Form<SignoutForm>, FormRejection>,
) -> Result<Response, PageError> {
    if let Some(session) = &visitor.0 {
        let Form(form) = form.map_err(|_| PageError::bad_request("表单不完整。"))?;
        session.check_form_token(&form.form_token)?;
    } else if let Some(session) = &venue.0 {
        let Form(form) = form.map_err(|_| PageError::bad_request("表单不完整。"))?;
        session.check_form_token(&form.form_token)?;
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "__Host-ssm_session=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                *name,
                HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static("")),
            );
        }
        map
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; __Host-ssm_session=v_abc ; b=2")]);
        assert_eq!(cookie_token(&h).as_deref(), Some("v_abc"));
        let h = headers(&[("cookie", "ssm_session=v_abc")]);
        assert_eq!(cookie_token(&h), None);
        let h = headers(&[("cookie", "__Host-ssm_session=")]);
        assert_eq!(cookie_token(&h), None);
    }

    #[test]
    fn only_this_origin_may_post() {
        let uri = Uri::from_static("/verify");
        let ok = headers(&[
            ("host", "localhost:8443"),
            ("origin", "https://localhost:8443"),
        ]);
        assert!(same_origin(&ok, &uri));
        let other = headers(&[
            ("host", "localhost:8443"),
            ("origin", "https://evil.example"),
        ]);
        assert!(!same_origin(&other, &uri));
        let http = headers(&[
            ("host", "localhost:8443"),
            ("origin", "http://localhost:8443"),
        ]);
        assert!(!same_origin(&http, &uri));
        let null = headers(&[("host", "localhost:8443"), ("origin", "null")]);
        assert!(!same_origin(&null, &uri));
        let referer = headers(&[
            ("host", "localhost:8443"),
            ("referer", "https://localhost:8443/verify"),
        ]);
        assert!(same_origin(&referer, &uri));
        let prefix_trick = headers(&[
            ("host", "localhost:8443"),
            ("referer", "https://localhost:8443.evil.example/verify"),
        ]);
        assert!(!same_origin(&prefix_trick, &uri));
        let neither = headers(&[("host", "localhost:8443")]);
        assert!(!same_origin(&neither, &uri));
        let h2 = headers(&[("origin", "https://localhost:8443")]);
        let absolute = Uri::from_static("https://localhost:8443/verify");
        assert!(same_origin(&h2, &absolute));
    }

    #[test]
    fn form_tokens_differ_per_session_and_only_the_right_one_passes() {
        let session = |token: &str| Session {
            token: token.to_owned(),
            principal: Principal {
                id: 1,
                role: Role::Verifier,
                name: "赵核验".into(),
                org: "示例单位".into(),
                venue: None,
            },
        };
        let a = session("v_a");
        let b = session("v_b");
        assert_ne!(a.form_token(), b.form_token());
        assert_eq!(a.form_token().len(), 64);
        assert!(a.check_form_token(&a.form_token()).is_ok());
        assert!(a.check_form_token(&b.form_token()).is_err());
        assert!(a.check_form_token("").is_err());
    }

    #[test]
    fn sign_in_returns_only_to_known_pages() {
        assert_eq!(allowed_return("/fleet"), Some("/fleet"));
        assert_eq!(allowed_return("https://evil.example/"), None);
        assert_eq!(allowed_return("//evil.example"), None);
        let html = signin_page(Some(Role::Operator), "/fleet\"><script>", None, None);
        assert!(html.contains("value=\"/fleet&quot;&gt;&lt;script&gt;\""));
    }
}
