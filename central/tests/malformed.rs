//! A thousand malformed requests to every route, over real HTTPS with the right credentials so
//! that the bodies reach the handlers: every answer is a 4xx (or a 200 for the rare mutation that
//! is still valid), never a 5xx, and the service stays up.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use central::http::API_ROUTES;
use central::model::Role;
use common::{Service, people};
use protocol::api::Color;
use serde_json::{Value, json};

/// Requests per route.
const PER_ROUTE: usize = 1000;
/// Requests in flight at once.
const CONCURRENCY: usize = 16;

/// splitmix64: a small deterministic generator, so a failure can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A valid body for each route, as the starting point of mutations.
fn template(path: &str) -> Value {
    match path {
        "/v1/kiosk/identify" => json!({"id_card": {
            "kind": "resident", "name": people::SENIOR.1, "id_number": people::SENIOR.0,
            "sex": "female", "birth_date": "1950-03-15", "valid_from": "2015-01-01",
            "valid_until": null}}),
        "/v1/kiosk/codes" => json!({"session": "s_x", "action": "apply",
            "request_id": "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b"}),
        "/v1/kiosk/codes/{code_id}/printed" => json!({
            "request_id": "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b",
            "printed_at": "2026-11-21T10:00:00+08:00"}),
        "/v1/kiosk/codes/{code_id}/print-failed" => json!({
            "request_id": "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b", "reason": "paper_out",
            "detail": null}),
        "/v1/kiosk/heartbeat" => {
            json!({"kiosk_version": "1", "sent_at": "2026-11-21T10:00:00+08:00",
            "devices": [{"device": "printer", "state": "connected", "last_error": null}],
            "paper": "ok", "journal_backlog": 0, "in_service": true,
            "out_of_service_reason": null, "help_requested_at": null})
        }
        "/v1/kiosk/journal" => json!({"events": [{"id": "0b8f7b7c-4a6e-4d55-9c1e-1f2a3b4c5d6e",
            "at": "2026-11-21T10:00:00+08:00", "kind": "session_started", "detail": {"a": "b"}}]}),
        "/v1/verify" => json!({"payload": "SSM1:ABC"}),
        "/v1/portal/report-lost" => json!({"id_number": people::SENIOR.0}),
        _ => json!({}),
    }
}

const ODD_VALUES: &[&str] = &[
    "null",
    "true",
    "0",
    "-1",
    "1e308",
    "18446744073709551616",
    "\"\"",
    "\"\\u0000\"",
    "\"随申码\"",
    "[]",
    "{}",
    "[[[[[[[[[[]]]]]]]]]]",
    "\"2026-02-30\"",
    "\"9999-99-99T99:99:99Z\"",
    "\"310101195003150028\"",
    "\"SSM1:\"",
    "\"\\ud800\"",
    "1.5",
    "\"apply\"",
    "\"reissue\"",
];

fn mutate(rng: &mut Rng, value: &Value) -> Value {
    match value {
        Value::Object(map) if !map.is_empty() => {
            let mut map = map.clone();
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = rng.pick(&keys).clone();
            match rng.below(4) {
                0 => {
                    map.remove(&key);
                }
                1 => {
                    map.insert(format!("{key}_extra"), json!(1));
                }
                2 => {
                    let text = *rng.pick(ODD_VALUES);
                    let replacement = serde_json::from_str(text).unwrap_or(Value::Null);
                    map.insert(key, replacement);
                }
                _ => {
                    let inner = map[&key].clone();
                    map.insert(key, mutate(rng, &inner));
                }
            }
            Value::Object(map)
        }
        Value::Array(items) if !items.is_empty() => {
            let mut items = items.clone();
            let i = rng.below(items.len());
            items[i] = mutate(rng, &items[i]);
            if rng.below(3) == 0 {
                items.push(json!("x"));
            }
            Value::Array(items)
        }
        _ => {
            let odd: &&str = rng.pick(ODD_VALUES);
            serde_json::from_str(odd).unwrap_or(Value::Null)
        }
    }
}

/// One malformed body: raw bytes, a mutated template, or a deeply mutated one.
fn body(rng: &mut Rng, path: &str) -> (Vec<u8>, bool) {
    let json_type = rng.below(10) != 0;
    let bytes = match rng.below(5) {
        0 => (0..rng.below(300))
            .map(|_| u8::try_from(rng.next() & 0xFF).unwrap())
            .collect(),
        1 => {
            let mut text = serde_json::to_vec(&template(path)).unwrap();
            let cut = rng.below(text.len() + 1);
            text.truncate(cut);
            text
        }
        _ => {
            let mut value = template(path);
            for _ in 0..=rng.below(3) {
                value = mutate(rng, &value);
            }
            serde_json::to_vec(&value).unwrap()
        }
    };
    (bytes, json_type)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_route_answers_a_malformed_request_with_a_5xx() {
    let service = Service::start().await;
    service.citizen(people::SENIOR.0, people::SENIOR.1, true, Color::Green, true);
    let kiosk = service.kiosk("K001");
    let verifier = service.token(Role::Verifier, "核验员");
    let portal = service.token(Role::Portal, "门户");
    let code_ids = [
        "0123456789abcdef0123456789abcdef",
        "ZZ",
        "",
        "%2e%2e",
        "0123456789ABCDEF0123456789ABCDEF",
    ];
    let mut rng = Rng(0x5EED_2026_1121);
    let mut counts = std::collections::BTreeMap::<u16, usize>::new();
    for (method, path) in API_ROUTES {
        let mut requests = Vec::new();
        for _ in 0..PER_ROUTE {
            let code_id: &&str = rng.pick(&code_ids);
            let concrete = path.replace("{code_id}", code_id);
            let url = service.url(&concrete);
            let (bytes, json_type) = body(&mut rng, path);
            let mut request = if *method == "GET" {
                let query: String = (0..rng.below(40))
                    .map(|_| char::from(b'a' + u8::try_from(rng.below(26)).unwrap()))
                    .collect();
                kiosk.get(format!("{url}?{query}"))
            } else {
                kiosk.post(&url).body(bytes)
            };
            if json_type {
                request = request.header("content-type", "application/json");
            }
            if path.starts_with("/v1/verify") {
                request = request.bearer_auth(&verifier);
            } else if path.starts_with("/v1/portal") {
                request = request.bearer_auth(&portal);
            }
            requests.push((format!("{method} {concrete}"), request));
        }
        while !requests.is_empty() {
            let batch: Vec<_> = requests.drain(..requests.len().min(CONCURRENCY)).collect();
            let results = futures_join(batch).await;
            for (what, status) in results {
                assert!(status < 500, "{what} answered {status}");
                *counts.entry(status).or_default() += 1;
            }
        }
    }
    // Still serving afterwards.
    let (status, _) = common::get(&service.anonymous(), &service.url("/v1/keys")).await;
    assert_eq!(status, 200);
    println!(
        "statuses over {} requests: {counts:?}",
        API_ROUTES.len() * PER_ROUTE
    );
    assert!(counts.keys().any(|s| (400..500).contains(s)));
}

async fn futures_join(batch: Vec<(String, reqwest::RequestBuilder)>) -> Vec<(String, u16)> {
    let handles: Vec<_> = batch
        .into_iter()
        .map(|(what, request)| {
            tokio::spawn(async move {
                let status = request
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or_else(|e| {
                        panic!("{what}: no answer: {e}");
                    });
                (what, status)
            })
        })
        .collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}
