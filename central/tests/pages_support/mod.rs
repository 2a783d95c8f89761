//! Shared by the page tests: a running service with kiosks, citizens, codes and token holders
//! ([`Fixture`]), an HTTP client that handles the session cookie by hand, and a small client of
//! the Chrome DevTools protocol that drives a headless Chromium ([`Browser`]).
//!
//! The browser is Debian's `chromium`, started as
//! `chromium --headless --no-sandbox --ignore-certificate-errors --remote-debugging-port=0` with
//! a throw-away profile; the test reads the port from the profile's `DevToolsActivePort`, opens
//! the browser's DevTools websocket, makes a page target and sends it commands (navigate,
//! evaluate, type, press Enter, screenshot). Where there is no Chromium the browser tests fail
//! with a message saying what to install.

#![allow(dead_code, unreachable_pub)]

use std::io::ErrorKind;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use central::model::Role;
use protocol::api::{Color, routes};
use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

use crate::common::{self, Service, people, post};

// ---------------------------------------------------------------------------------------------
// Fixture
// ---------------------------------------------------------------------------------------------

/// The verifier every page test signs in as.
pub const VERIFIER_NAME: &str = "赵核验";
/// Their organisation (`common::Service::token` gives every holder this one).
pub const VERIFIER_ORG: &str = "示例单位";

/// A service with kiosk K001 enrolled, the usual fictional citizens, and a token per role.
pub struct Fixture {
    pub service: Service,
    pub kiosk: reqwest::Client,
    pub verifier: String,
    pub portal: String,
    pub operator: String,
}

impl Fixture {
    pub async fn new() -> Fixture {
        let service = Service::start().await;
        let kiosk = service.kiosk("K001");
        let verifier = service.token(Role::Verifier, VERIFIER_NAME);
        let portal = service.token(Role::Portal, "人民广场窗口");
        let operator = service.token(Role::Operator, "值班运维");
        for (person, photo) in [
            (people::SENIOR, true),
            (people::SENIOR_2, true),
            (people::LEAP_DAY, true),
        ] {
            service.citizen(person.0, person.1, photo, Color::Green, true);
        }
        Fixture {
            service,
            kiosk,
            verifier,
            portal,
            operator,
        }
    }

    /// Identifies `person` at `kiosk` by ID card and issues a code (`apply` or `reissue`);
    /// returns the QR text.
    pub async fn issue_at(
        &self,
        kiosk: &reqwest::Client,
        person: (&str, &str),
        action: &str,
        request_id: &str,
    ) -> String {
        let birth = format!(
            "{}-{}-{}",
            &person.0[6..10],
            &person.0[10..12],
            &person.0[12..14]
        );
        let card = json!({"id_card": {
            "kind": "resident", "name": person.1, "id_number": person.0, "sex": "female",
            "birth_date": birth, "valid_from": "2015-01-01", "valid_until": null}});
        let (status, who) = post(kiosk, &self.service.url(routes::IDENTIFY), &card).await;
        assert_eq!(status, 200, "{who}");
        let (status, code) = post(
            kiosk,
            &self.service.url(routes::CODES),
            &json!({"session": who["session"], "action": action, "request_id": request_id}),
        )
        .await;
        assert_eq!(status, 200, "{code}");
        code["qr_text"].as_str().unwrap().to_owned()
    }

    /// [`Self::issue_at`] at K001.
    pub async fn issue(&self, person: (&str, &str), action: &str, request_id: &str) -> String {
        self.issue_at(&self.kiosk, person, action, request_id).await
    }

    /// Sends a heartbeat from `kiosk` with these fields over a healthy default.
    pub async fn heartbeat(&self, kiosk: &reqwest::Client, overrides: Value) {
        let mut beat = json!({
            "kiosk_version": "0.1.0",
            "sent_at": "2026-11-21T10:00:00+08:00",
            "devices": [
                {"device": "idcard", "state": "connected", "last_error": null},
                {"device": "scanner", "state": "connected", "last_error": null},
                {"device": "printer", "state": "connected", "last_error": null}
            ],
            "paper": "ok",
            "journal_backlog": 0,
            "in_service": true,
            "out_of_service_reason": null,
            "help_requested_at": null
        });
        for (key, value) in overrides.as_object().unwrap() {
            beat[key] = value.clone();
        }
        let (status, body) = post(kiosk, &self.service.url(routes::HEARTBEAT), &beat).await;
        assert_eq!(status, 200, "{body}");
    }

    /// Enrols another kiosk with these directory details; returns its client.
    pub fn kiosk_with(
        &self,
        kiosk_id: &str,
        name: &str,
        address: &str,
        hours: &str,
    ) -> reqwest::Client {
        let out = self.service.dir.path().join(format!("kiosk-{kiosk_id}"));
        let details = central::admin::KioskDetails {
            name: name.into(),
            address: address.into(),
            hours: hours.into(),
        };
        common::backend::off_runtime(|| {
            central::admin::provision_kiosk(&self.service.data, kiosk_id, &out, details)
        })
        .unwrap();
        let cert = std::fs::read_to_string(out.join("kiosk.pem")).unwrap();
        let key = std::fs::read_to_string(out.join("kiosk.key")).unwrap();
        common::client(&self.service.ca_pem, Some(&format!("{cert}{key}")))
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP with the session cookie
// ---------------------------------------------------------------------------------------------

/// A client that trusts the service's CA and follows no redirects, so that tests see the
/// sign-in answer and its cookie.
pub fn page_client(service: &Service) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(service.ca_pem.as_bytes()).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([ca])
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// An `application/x-www-form-urlencoded` body, as a browser sends a form.
pub fn form_body(fields: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' => {
                    char::from(b).to_string()
                }
                b' ' => "+".to_owned(),
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    };
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of the `Cookie` header for a signed-in token.
pub fn cookie(token: &str) -> String {
    format!("{}={token}", central::pages::auth::COOKIE_NAME)
}

/// The form token a page embeds for the session of `token`, read from the page `path`.
pub async fn form_token(service: &Service, token: &str, path: &str) -> String {
    let html = page_client(service)
        .get(service.url(path))
        .header("cookie", cookie(token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let marker = "name=\"form_token\" value=\"";
    let start = html.find(marker).expect("the page has a form token") + marker.len();
    html[start..start + 64].to_owned()
}

// ---------------------------------------------------------------------------------------------
// Chromium over the DevTools protocol
// ---------------------------------------------------------------------------------------------

/// How long any one wait in a browser test may take before the test fails. Generous: the
/// machine may be busy; nothing is timed, only bounded.
pub const DEADLINE: Duration = Duration::from_secs(60);

/// The Chromium binary: `$CHROMIUM`, or the first of `chromium`, `chromium-browser`,
/// `google-chrome` on the `PATH`.
pub fn chromium_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("CHROMIUM") {
        return PathBuf::from(path);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    panic!(
        "the browser tests need headless Chromium, and none was found: install Debian's \
         `chromium` package (`apt-get install chromium`, which scripts/test does), or set \
         CHROMIUM=/path/to/chromium"
    );
}

/// A headless Chromium with one page, driven over the DevTools protocol.
pub struct Browser {
    child: Child,
    _profile: tempfile::TempDir,
    socket: WebSocket<TcpStream>,
    session: String,
    next_id: u64,
}

impl Browser {
    /// Starts Chromium with a fresh profile and opens a page of `width` x `height` CSS pixels.
    pub fn launch(width: u32, height: u32) -> Browser {
        Self::launch_with(width, height, &[])
    }

    /// [`Self::launch`] with extra command-line switches (e.g. Chromium's fake camera).
    pub fn launch_with(width: u32, height: u32, extra: &[&str]) -> Browser {
        let binary = chromium_binary();
        let profile = tempfile::tempdir().unwrap();
        let child = Command::new(&binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--ignore-certificate-errors",
                "--remote-debugging-port=0",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-extensions",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--password-store=basic",
                "--hide-scrollbars",
                "--mute-audio",
                "--lang=zh-CN",
                "--force-device-scale-factor=1",
                &format!("--window-size={width},{height}"),
                &format!("--user-data-dir={}", profile.path().display()),
            ])
            .args(extra)
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "could not start {}: {e}; install Debian's `chromium` package",
                    binary.display()
                )
            });
        let mut browser_child = Some(child);
        let (port, path) = wait_for_devtools(profile.path(), browser_child.as_mut().unwrap());
        let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let url = format!("ws://127.0.0.1:{port}{path}");
        let (socket, _) = tungstenite::client(url.as_str(), stream)
            .unwrap_or_else(|e| panic!("the DevTools websocket refused the handshake: {e}"));
        let mut browser = Browser {
            child: browser_child.take().unwrap(),
            _profile: profile,
            socket,
            session: String::new(),
            next_id: 0,
        };
        let target = browser.browser_call("Target.createTarget", json!({"url": "about:blank"}));
        let target_id = target["targetId"].as_str().unwrap().to_owned();
        let attached = browser.browser_call(
            "Target.attachToTarget",
            json!({"targetId": target_id, "flatten": true}),
        );
        browser.session = attached["sessionId"].as_str().unwrap().to_owned();
        browser.resize(width, height);
        browser.call(
            "Emulation.setFocusEmulationEnabled",
            json!({"enabled": true}),
        );
        browser.call("Page.enable", json!({}));
        browser.call("Runtime.enable", json!({}));
        browser
    }

    fn send(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({"id": id, "method": method, "params": params});
        if let Some(session) = session {
            message["sessionId"] = json!(session);
        }
        self.socket
            .send(Message::text(message.to_string()))
            .unwrap_or_else(|e| panic!("sending {method} to Chromium failed: {e}"));
        let deadline = Instant::now() + DEADLINE;
        loop {
            assert!(
                Instant::now() < deadline,
                "Chromium did not answer {method} in time"
            );
            let incoming = match self.socket.read() {
                Ok(incoming) => incoming,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    continue;
                }
                Err(e) => panic!("reading Chromium's answer to {method} failed: {e}"),
            };
            let Message::Text(text) = incoming else {
                continue;
            };
            let value: Value = serde_json::from_str(text.as_str()).unwrap();
            if value["id"] == json!(id) {
                if let Some(error) = value.get("error") {
                    return json!({"__error": error});
                }
                return value["result"].clone();
            }
        }
    }

    /// A command to the browser itself; panics on a protocol error.
    fn browser_call(&mut self, method: &str, params: Value) -> Value {
        let result = self.send(None, method, params);
        assert!(result.get("__error").is_none(), "{method}: {result}");
        result
    }

    /// A command to the page; panics on a protocol error.
    pub fn call(&mut self, method: &str, params: Value) -> Value {
        let session = self.session.clone();
        let result = self.send(Some(&session), method, params);
        assert!(result.get("__error").is_none(), "{method}: {result}");
        result
    }

    /// Evaluates `expression` in the page; `Err` while the page is between documents or when
    /// the expression throws.
    pub fn try_eval(&mut self, expression: &str) -> Result<Value, String> {
        let session = self.session.clone();
        let result = self.send(
            Some(&session),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(error) = result.get("__error") {
            return Err(error.to_string());
        }
        if let Some(exception) = result.get("exceptionDetails") {
            return Err(exception.to_string());
        }
        Ok(result["result"]["value"].clone())
    }

    /// Evaluates `expression` in the page.
    pub fn eval(&mut self, expression: &str) -> Value {
        self.try_eval(expression)
            .unwrap_or_else(|e| panic!("evaluating {expression}: {e}"))
    }

    /// Polls `expression` until it is `true` (at most [`DEADLINE`]).
    pub fn wait_for(&mut self, expression: &str, what: &str) {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if self.try_eval(expression) == Ok(Value::Bool(true)) {
                return;
            }
            if Instant::now() > deadline {
                let text = self
                    .try_eval("document.body ? document.body.innerText : ''")
                    .unwrap_or_default();
                panic!("waited in vain for {what} ({expression}); the page says:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Makes the page `width` x `height` CSS pixels (a phone-sized one, under 600 pixels wide,
    /// as a mobile device).
    pub fn resize(&mut self, width: u32, height: u32) {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1,
                   "mobile": width < 600}),
        );
    }

    /// Runs `source` in every document the page opens from now on, before the page's own
    /// scripts (e.g. a stand-in for a browser feature).
    pub fn before_every_document(&mut self, source: &str) {
        self.call(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({"source": source}),
        );
    }

    /// Opens `url` and waits until the new document has loaded (a mark left on the old one
    /// tells them apart, also when `url` is the page already shown).
    pub fn goto(&mut self, url: &str) {
        self.eval("window.__old_document = true");
        let result = self.call("Page.navigate", json!({"url": url}));
        assert!(
            result.get("errorText").is_none(),
            "navigating to {url}: {result}"
        );
        let check = format!(
            "window.__old_document === undefined && document.readyState === 'complete' \
             && location.href === {}",
            json!(url)
        );
        self.wait_for(&check, &format!("{url} to load"));
    }

    /// Types `text` into the focused element, as a keyboard (or a scanner in keyboard mode)
    /// would.
    pub fn type_text(&mut self, text: &str) {
        self.call("Input.insertText", json!({"text": text}));
    }

    /// Presses and releases Enter.
    pub fn press_enter(&mut self) {
        for kind in ["keyDown", "keyUp"] {
            let mut event = json!({
                "type": kind, "key": "Enter", "code": "Enter",
                "windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13
            });
            if kind == "keyDown" {
                event["text"] = json!("\r");
            }
            self.call("Input.dispatchKeyEvent", event);
        }
    }

    /// The page's visible text.
    pub fn text(&mut self) -> String {
        self.eval("document.body.innerText")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// A PNG of the viewport.
    pub fn screenshot(&mut self) -> Vec<u8> {
        let shot = self.call(
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": false}),
        );
        STANDARD.decode(shot["data"].as_str().unwrap()).unwrap()
    }

    /// Signs in on the sign-in form the page `path` shows to a stranger, by typing the token
    /// and pressing Enter; waits for `path` to show `ready`.
    pub fn sign_in(&mut self, base: &str, path: &str, token: &str, ready: &str) {
        self.goto(&format!("{base}{path}"));
        self.wait_for(
            "document.activeElement && document.activeElement.id === 'token'",
            "the sign-in form to have the focus",
        );
        self.type_text(token);
        self.press_enter();
        self.wait_for(ready, &format!("{path} after signing in"));
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.socket.close(None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits for Chromium to write `DevToolsActivePort` into its profile: the port, and the path of
/// the browser's websocket.
fn wait_for_devtools(profile: &Path, child: &mut Child) -> (u16, String) {
    let file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next())
                && let Ok(port) = port.trim().parse()
            {
                return (port, path.trim().to_owned());
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "Chromium exited at start ({status}); is Debian's `chromium` package installed \
                 and working? Try `chromium --headless --no-sandbox --dump-dom about:blank`"
            );
        }
        assert!(
            Instant::now() < deadline,
            "Chromium did not open its DevTools port in time"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------------------------
// Screenshots
// ---------------------------------------------------------------------------------------------

/// Checks that `png` is a PNG of `width` x `height` and keeps it: in `docs/screens/NAME` when
/// `UPDATE_SCREENS=1` (how the README's pictures are made), else in the system's temp dir.
pub fn keep_screenshot(name: &str, png: &[u8], width: u32, height: u32) -> PathBuf {
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let reader = decoder.read_info().expect("the screenshot is a PNG");
    let info = reader.info();
    assert_eq!((info.width, info.height), (width, height), "{name}");
    let dir = if std::env::var_os("UPDATE_SCREENS").is_some_and(|v| v == "1") {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screens")
    } else {
        std::env::temp_dir().join("ssm-central-screens")
    };
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, png).unwrap();
    path
}
