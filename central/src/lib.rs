//! The central service the kiosks sync with: the HTTP API v1 over TLS, storage (SQLite for one
//! node, PostgreSQL for several), issuer signing keys, and the web pages for verifiers, the kiosk
//! directory and the fleet view, and venue poster codes (单位张贴码). It never depends on the
//! kiosk's UI.

pub mod admin;
pub mod clock;
pub mod demo;
pub mod http;
pub mod import;
pub mod issuer;
pub mod model;
pub mod pages;
pub mod pki;
pub mod server;
pub mod store;
pub mod tls;
pub mod tokens;
pub mod venues;
