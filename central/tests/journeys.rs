//! Every journey of the central service over real HTTPS on loopback, with kiosk client
//! certificates, verifier and portal tokens, and a test clock: apply, replay, conflicts, reissue,
//! report lost, colour changes, expiry, forgery, and the refusals.

#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use central::model::Role;
use common::backend::off_runtime;
use common::{Service, get, people, post, post_bearer};
use protocol::api::{Color, routes};
use protocol::code::OfflineCode;
use protocol::keys::{KeySet, PublicKey};
use serde_json::{Value, json};
use time::Duration;

fn card(person: (&str, &str)) -> Value {
    json!({"id_card": {
        "kind": "resident",
        "name": person.1,
        "id_number": person.0,
        "sex": "female",
        "birth_date": "1950-03-15",
        "valid_from": "2015-01-01",
        "valid_until": null
    }})
}

struct Journey {
    service: Service,
    kiosk: reqwest::Client,
    verifier: String,
    portal: String,
}

impl Journey {
    async fn new() -> Journey {
        let service = Service::start().await;
        let kiosk = service.kiosk("K001");
        let verifier = service.token(Role::Verifier, "赵核验");
        let portal = service.token(Role::Portal, "一网通办");
        for (person, photo) in [
            (people::SENIOR, true),
            (people::SENIOR_2, true),
            (people::LEAP_DAY, true),
            (people::NO_PHOTO, false),
            (people::YOUNG, true),
        ] {
            service.citizen(person.0, person.1, photo, Color::Green, true);
        }
        Journey {
            service,
            kiosk,
            verifier,
            portal,
        }
    }

    async fn identify(&self, person: (&str, &str)) -> Value {
        let (status, body) = post(
            &self.kiosk,
            &self.service.url(routes::IDENTIFY),
            &card(person),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn issue(&self, session: &Value, action: &str, request_id: &str) -> (u16, Value) {
        post(
            &self.kiosk,
            &self.service.url(routes::CODES),
            &json!({"session": session, "action": action, "request_id": request_id}),
        )
        .await
    }

    async fn report_lost(&self, person: (&str, &str)) -> (u16, Value) {
        post_bearer(
            &self.service.anonymous(),
            &self.service.url(routes::REPORT_LOST),
            &self.portal,
            &json!({"id_number": person.0}),
        )
        .await
    }

    async fn verify(&self, payload: &str) -> Value {
        let (status, body) = post_bearer(
            &self.service.anonymous(),
            &self.service.url(routes::VERIFY),
            &self.verifier,
            &json!({"payload": payload}),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        body
    }
}

const RID_1: &str = "6f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";
const RID_2: &str = "7f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";
const RID_3: &str = "8f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";
const RID_4: &str = "9f1d2c3b-4a59-4e6f-8a7b-9c0d1e2f3a4b";

#[tokio::test]
async fn apply_replay_conflict_reissue_lost_and_reissue_again() {
    let j = Journey::new().await;

    // Identify: the confirm screen's data.
    let who = j.identify(people::SENIOR).await;
    assert_eq!(who["person"]["name"], "王秀英");
    assert_eq!(who["person"]["id_number_masked"], "310***********0029");
    assert_eq!(who["person"]["eligibility"]["status"], "eligible");
    assert_eq!(who["person"]["age"], 76);
    assert_eq!(who["code"]["state"], "none");
    assert_eq!(who["offer"]["action"], "apply");
    assert_eq!(who["next_code"]["issued_on"], "2026-11-21");
    assert_eq!(who["next_code"]["expires_on"], "2027-05-19");
    assert!(
        who["person"]["photo"]["data_base64"]
            .as_str()
            .unwrap()
            .len()
            > 100
    );

    // Apply.
    let (status, first) = j.issue(&who["session"], "apply", RID_1).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["serial"], 1);
    let first_qr = first["qr_text"].as_str().unwrap().to_owned();
    assert!(first_qr.starts_with("SSM1:") && first_qr.len() <= 150);

    // The code verifies with the published keys.
    let (status, keys) = get(&j.service.anonymous(), &j.service.url(routes::KEYS)).await;
    assert_eq!(status, 200);
    let set: KeySet = keys["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            assert_eq!(k["alg"], "SM2-SM3");
            let kid = u8::try_from(k["kid"].as_u64().unwrap()).unwrap();
            (
                kid,
                PublicKey::from_hex(k["public_key_hex"].as_str().unwrap()).unwrap(),
            )
        })
        .collect();
    let code = OfflineCode::verify(&first_qr, &set).unwrap();
    assert_eq!(
        hex::encode(code.body().code_id()),
        first["code_id"].as_str().unwrap()
    );

    // Verify: valid and green, masked, with the photo and a watermark naming the verifier.
    let checked = j.verify(&first_qr).await;
    assert_eq!(checked["result"], "valid");
    assert_eq!(checked["color"], "green");
    assert_eq!(checked["holder"]["name"], "王*英");
    assert_eq!(checked["holder"]["id_number"], "310***********0029");
    assert!(checked["holder"]["photo"]["data_base64"].is_string());
    assert!(checked["watermark"].as_str().unwrap().contains("赵核验"));
    assert_eq!(checked["serial"], 1);

    // The same request id again: the same code, not a second one.
    let (status, replay) = j.issue(&who["session"], "apply", RID_1).await;
    assert_eq!(status, 200);
    assert_eq!(replay, first);

    // Apply again with a new request id: refused, the person holds a code.
    let again = j.identify(people::SENIOR).await;
    assert_eq!(again["code"]["state"], "active");
    assert_eq!(again["offer"]["action"], "reissue");
    let (status, refused) = j.issue(&again["session"], "apply", RID_2).await;
    assert_eq!(status, 409, "{refused}");
    assert_eq!(refused["error"], "conflict_active_code");

    // Reissue: serial 2; the first slip is superseded at once.
    let (status, second) = j.issue(&again["session"], "reissue", RID_2).await;
    assert_eq!(status, 200, "{second}");
    assert_eq!(second["serial"], 2);
    assert_eq!(j.verify(&first_qr).await["result"], "superseded");
    // The first request id replayed now: its code, marked replaced, so no kiosk prints it.
    assert_eq!(replay["replaced"], false, "{replay}");
    let (status, stale) = j.issue(&again["session"], "apply", RID_1).await;
    assert_eq!(status, 200, "{stale}");
    assert_eq!(
        (stale["code_id"].clone(), stale["replaced"].clone()),
        (first["code_id"].clone(), json!(true))
    );
    let second_qr = second["qr_text"].as_str().unwrap().to_owned();
    let checked = j.verify(&second_qr).await;
    assert_eq!(
        (checked["result"].clone(), checked["serial"].clone()),
        (json!("valid"), json!(2))
    );

    // Report lost through the portal: the slip stops verifying at once.
    let (status, lost) = j.report_lost(people::SENIOR).await;
    assert_eq!(status, 200, "{lost}");
    assert_eq!(lost["serial"], 2);
    assert_eq!(j.verify(&second_qr).await["result"], "lost");
    let (status, stale) = j.issue(&again["session"], "reissue", RID_2).await;
    assert_eq!(
        (status, stale["serial"].clone(), stale["replaced"].clone()),
        (200, json!(2), json!(true)),
        "a lost code is marked replaced too: {stale}"
    );

    // After the loss: apply is refused, reissue makes serial 3.
    let after = j.identify(people::SENIOR).await;
    assert_eq!(after["code"]["state"], "lost");
    assert_eq!(after["offer"]["action"], "reissue");
    let (status, body) = j.issue(&after["session"], "apply", RID_3).await;
    assert_eq!(
        (status, body["error"].clone()),
        (409, json!("conflict_lost_code"))
    );
    let (status, third) = j.issue(&after["session"], "reissue", RID_3).await;
    assert_eq!(status, 200, "{third}");
    assert_eq!(third["serial"], 3);
    assert_eq!(
        j.verify(third["qr_text"].as_str().unwrap()).await["result"],
        "valid"
    );

    // Reporting lost twice: nothing active any more... until the third slip. Lose it too.
    let (status, _) = j.report_lost(people::SENIOR).await;
    assert_eq!(status, 200);
    let (status, body) = j.report_lost(people::SENIOR).await;
    assert_eq!(
        (status, body["error"].clone()),
        (409, json!("conflict_no_code"))
    );
}

#[tokio::test]
async fn colour_changes_show_at_the_next_verification() {
    let j = Journey::new().await;
    let who = j.identify(people::SENIOR_2).await;
    let (_, code) = j.issue(&who["session"], "apply", RID_1).await;
    let qr = code["qr_text"].as_str().unwrap();
    assert_eq!(j.verify(qr).await["color"], "green");
    off_runtime(|| central::admin::set_color(&j.service.data, people::SENIOR_2.0, Color::Red))
        .unwrap();
    assert_eq!(j.verify(qr).await["color"], "red");
    off_runtime(|| central::admin::set_color(&j.service.data, people::SENIOR_2.0, Color::Yellow))
        .unwrap();
    let checked = j.verify(qr).await;
    assert_eq!(
        (checked["result"].clone(), checked["color"].clone()),
        (json!("valid"), json!("yellow"))
    );
}

#[tokio::test]
async fn a_code_expires_after_180_days_and_the_holder_applies_again() {
    let j = Journey::new().await;
    let who = j.identify(people::LEAP_DAY).await;
    let (_, code) = j.issue(&who["session"], "apply", RID_1).await;
    let qr = code["qr_text"].as_str().unwrap().to_owned();
    assert_eq!(code["expires_on"], "2027-05-19");

    j.service.clock.advance(Duration::days(179));
    assert_eq!(
        j.verify(&qr).await["result"],
        "valid",
        "the last day still counts"
    );
    j.service.clock.advance(Duration::days(1));
    let checked = j.verify(&qr).await;
    assert_eq!(checked["result"], "expired");
    assert_eq!(
        checked["color"],
        Value::Null,
        "no colour for a code that is not valid"
    );

    let after = j.identify(people::LEAP_DAY).await;
    assert_eq!(after["code"]["state"], "expired");
    assert_eq!(after["offer"]["action"], "apply");
    let (status, body) = j.issue(&after["session"], "reissue", RID_2).await;
    assert_eq!(
        (status, body["error"].clone()),
        (409, json!("conflict_no_code"))
    );
    let (status, renewed) = j.issue(&after["session"], "apply", RID_2).await;
    assert_eq!(status, 200, "{renewed}");
    assert_eq!(renewed["serial"], 2);
    assert_eq!(renewed["issued_on"], "2027-05-20");
    assert_eq!(
        j.verify(renewed["qr_text"].as_str().unwrap()).await["result"],
        "valid"
    );
}

#[tokio::test]
async fn changed_characters_are_forged_or_unknown() {
    let j = Journey::new().await;
    let who = j.identify(people::SENIOR).await;
    let (_, code) = j.issue(&who["session"], "apply", RID_1).await;
    let qr = code["qr_text"].as_str().unwrap().to_owned();
    let alphabet = protocol::base45::ALPHABET;
    // Change one character at many positions (the prefix included).
    for position in (0..qr.len()).step_by(7) {
        let mut bytes = qr.clone().into_bytes();
        let old = bytes[position];
        bytes[position] = if old == alphabet[0] {
            alphabet[1]
        } else {
            alphabet[0]
        };
        let text = String::from_utf8(bytes).unwrap();
        let result = j.verify(&text).await["result"].clone();
        assert!(
            result == "forged" || result == "unknown",
            "changing position {position} gave {result}"
        );
    }
    for garbage in [
        "",
        "hello",
        "SSM1:",
        "SSM1:%%%%",
        "随申码",
        &"A".repeat(5000),
    ] {
        let result = j.verify(garbage).await["result"].clone();
        assert!(
            result == "forged" || result == "unknown",
            "{garbage:?} gave {result}"
        );
    }
}

#[tokio::test]
async fn the_ineligible_are_told_why_and_get_no_code() {
    let j = Journey::new().await;
    let young = j.identify(people::YOUNG).await;
    assert_eq!(young["person"]["eligibility"]["status"], "not_eligible");
    assert_eq!(young["person"]["eligibility"]["reason"], "under_age");
    assert_eq!(
        young["person"]["eligibility"]["eligible_from"],
        "2050-06-01"
    );
    assert_eq!(young["offer"]["action"], "none");
    let (status, body) = j.issue(&young["session"], "apply", RID_1).await;
    assert_eq!(
        (status, body["error"].clone()),
        (409, json!("not_eligible"))
    );

    let no_photo = j.identify(people::NO_PHOTO).await;
    assert_eq!(no_photo["person"]["eligibility"]["reason"], "no_photo");
    assert_eq!(no_photo["person"]["photo"], Value::Null);
    let (status, _) = j.issue(&no_photo["session"], "apply", RID_2).await;
    assert_eq!(status, 409);
}

#[tokio::test]
async fn identify_by_suishen_code_and_session_rules() {
    let j = Journey::new().await;
    let now = central::clock::Clock::now(&j.service.clock);
    let token =
        off_runtime(|| central::admin::suishen_code(&j.service.data, people::SENIOR.0, now))
            .unwrap();
    let (status, who) = post(
        &j.kiosk,
        &j.service.url(routes::IDENTIFY),
        &json!({"suishen_code": token}),
    )
    .await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["person"]["name"], "王秀英");

    // A 随申码 token expires after ten minutes.
    j.service.clock.advance(Duration::minutes(11));
    let (status, body) = post(
        &j.kiosk,
        &j.service.url(routes::IDENTIFY),
        &json!({"suishen_code": token}),
    )
    .await;
    assert_eq!(
        (status, body["error"].clone()),
        (422, json!("invalid_suishen_code"))
    );
    // So does the session made from it.
    let (status, body) = j.issue(&who["session"], "apply", RID_1).await;
    assert_eq!(
        (status, body["error"].clone()),
        (410, json!("session_expired"))
    );
    // A session from another kiosk is unknown here.
    let other = j.service.kiosk("K002");
    let fresh = j.identify(people::SENIOR).await;
    let (status, body) = post(
        &other,
        &j.service.url(routes::CODES),
        &json!({"session": fresh["session"], "action": "apply", "request_id": RID_2}),
    )
    .await;
    assert_eq!(
        (status, body["error"].clone()),
        (404, json!("unknown_session"))
    );
    let (status, body) = j.issue(&json!("s_forged"), "apply", RID_3).await;
    assert_eq!(
        (status, body["error"].clone()),
        (404, json!("unknown_session"))
    );

    // A card whose name does not match the record, or that has expired.
    let mut wrong = card(people::SENIOR);
    wrong["id_card"]["name"] = json!("王秀");
    let (status, body) = post(&j.kiosk, &j.service.url(routes::IDENTIFY), &wrong).await;
    assert_eq!(
        (status, body["error"].clone()),
        (404, json!("unknown_person"))
    );
    let mut expired = card(people::SENIOR);
    expired["id_card"]["valid_until"] = json!("2020-01-01");
    let (status, body) = post(&j.kiosk, &j.service.url(routes::IDENTIFY), &expired).await;
    assert_eq!(
        (status, body["error"].clone()),
        (422, json!("card_expired"))
    );
}

#[tokio::test]
async fn kiosk_routes_need_an_enrolled_client_certificate() {
    let j = Journey::new().await;
    let anonymous = j.service.anonymous();
    for (method, path) in [
        ("POST", routes::IDENTIFY),
        ("POST", routes::CODES),
        ("POST", routes::HEARTBEAT),
        ("POST", routes::JOURNAL),
        ("GET", routes::CONFIG),
    ] {
        let url = j.service.url(path);
        let request = if method == "GET" {
            anonymous.get(&url)
        } else {
            anonymous.post(&url)
        };
        let response = request.json(&card(people::SENIOR)).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 401, "{method} {path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized");
    }
}

#[tokio::test]
async fn verifier_and_portal_routes_need_their_tokens() {
    let j = Journey::new().await;
    let anonymous = j.service.anonymous();
    let (status, body) = post(
        &anonymous,
        &j.service.url(routes::VERIFY),
        &json!({"payload": "x"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].clone()),
        (401, json!("unauthorized"))
    );
    let (status, _) = post_bearer(
        &anonymous,
        &j.service.url(routes::VERIFY),
        "v_not-a-token",
        &json!({"payload": "x"}),
    )
    .await;
    assert_eq!(status, 401);
    // A portal token cannot verify; a verifier token cannot report loss.
    let (status, body) = post_bearer(
        &anonymous,
        &j.service.url(routes::VERIFY),
        &j.portal,
        &json!({"payload": "x"}),
    )
    .await;
    assert_eq!((status, body["error"].clone()), (403, json!("forbidden")));
    let (status, _) = post_bearer(
        &anonymous,
        &j.service.url(routes::REPORT_LOST),
        &j.verifier,
        &json!({"id_number": people::SENIOR.0}),
    )
    .await;
    assert_eq!(status, 403);
    // The verification answer is never cached.
    let response = anonymous
        .post(j.service.url(routes::VERIFY))
        .bearer_auth(&j.verifier)
        .json(&json!({"payload": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn printed_heartbeat_journal_config_and_directory() {
    let j = Journey::new().await;
    let who = j.identify(people::SENIOR).await;
    let (_, code) = j.issue(&who["session"], "apply", RID_1).await;
    let code_id = code["code_id"].as_str().unwrap();

    let printed = format!("/v1/kiosk/codes/{code_id}/printed");
    let (status, body) = post(
        &j.kiosk,
        &j.service.url(&printed),
        &json!({"request_id": RID_1, "printed_at": "2026-11-21T10:01:00+08:00"}),
    )
    .await;
    assert_eq!((status, body), (200, json!({"ok": true})));
    let failed = format!("/v1/kiosk/codes/{code_id}/print-failed");
    let (status, _) = post(
        &j.kiosk,
        &j.service.url(&failed),
        &json!({"request_id": RID_1, "reason": "paper_out", "detail": null}),
    )
    .await;
    assert_eq!(status, 200);
    // Another kiosk, or a wrong request id, cannot touch the code.
    let (status, body) = post(
        &j.service.kiosk("K009"),
        &j.service.url(&printed),
        &json!({"request_id": RID_1, "printed_at": "2026-11-21T10:01:00+08:00"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].clone()),
        (404, json!("unknown_code"))
    );
    let (status, body) = post(
        &j.kiosk,
        &j.service.url("/v1/kiosk/codes/XYZ/printed"),
        &json!({"request_id": RID_1, "printed_at": "2026-11-21T10:01:00+08:00"}),
    )
    .await;
    assert_eq!(
        (status, body["error"].clone()),
        (400, json!("invalid_code_id"))
    );

    // The directory: unknown until a heartbeat, then able to issue.
    let (_, directory) = get(&j.service.anonymous(), &j.service.url(routes::KIOSKS)).await;
    let k001 = directory["kiosks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kiosk_id"] == "K001")
        .unwrap()
        .clone();
    assert_eq!(
        (k001["online"].clone(), k001["can_issue"].clone()),
        (json!(false), json!(false))
    );
    let heartbeat = json!({
        "kiosk_version": "0.1.0",
        "sent_at": "2026-11-21T10:02:00+08:00",
        "devices": [
            {"device": "idcard", "state": "connected", "last_error": null},
            {"device": "printer", "state": "connected", "last_error": null}
        ],
        "paper": "ok",
        "journal_backlog": 0,
        "in_service": true,
        "out_of_service_reason": null,
        "help_requested_at": null
    });
    let (status, beat) = post(&j.kiosk, &j.service.url(routes::HEARTBEAT), &heartbeat).await;
    assert_eq!(status, 200, "{beat}");
    assert!(beat["config_version"].is_u64());
    let (_, directory) = get(&j.service.anonymous(), &j.service.url(routes::KIOSKS)).await;
    let k001 = directory["kiosks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kiosk_id"] == "K001")
        .unwrap()
        .clone();
    assert_eq!(
        (k001["online"].clone(), k001["can_issue"].clone()),
        (json!(true), json!(true))
    );
    assert_eq!(k001["address"], "上海市黄浦区示例路 1 号");
    // Four minutes without a heartbeat: offline.
    j.service.clock.advance(Duration::minutes(4));
    let (_, directory) = get(&j.service.anonymous(), &j.service.url(routes::KIOSKS)).await;
    let k001 = directory["kiosks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kiosk_id"] == "K001")
        .unwrap()
        .clone();
    assert_eq!(k001["can_issue"], false);

    // The journal takes each event once.
    let batch = json!({"events": [
        {"id": "0b8f7b7c-4a6e-4d55-9c1e-1f2a3b4c5d6e", "at": "2026-11-21T10:00:00+08:00", "kind": "session_started", "detail": {}},
        {"id": "1b8f7b7c-4a6e-4d55-9c1e-1f2a3b4c5d6e", "at": "2026-11-21T10:01:00+08:00", "kind": "printed", "detail": {"serial": "1"}}
    ]});
    let (status, ack) = post(&j.kiosk, &j.service.url(routes::JOURNAL), &batch).await;
    assert_eq!(
        (status, ack),
        (200, json!({"accepted": 2, "duplicates": 0}))
    );
    let (_, ack) = post(&j.kiosk, &j.service.url(routes::JOURNAL), &batch).await;
    assert_eq!(ack, json!({"accepted": 0, "duplicates": 2}));

    let (status, config) = get(&j.kiosk, &j.service.url(routes::CONFIG)).await;
    assert_eq!(status, 200, "{config}");
    assert!(config["idle_timeout_seconds"].is_u64());
}

#[tokio::test]
async fn concurrent_reissues_from_two_kiosks_leave_one_active_code() {
    let j = Journey::new().await;
    let who = j.identify(people::SENIOR).await;
    let (_, first) = j.issue(&who["session"], "apply", RID_1).await;
    let other = j.service.kiosk("K002");
    let who_a = j.identify(people::SENIOR).await;
    let (_, who_b) = post(
        &other,
        &j.service.url(routes::IDENTIFY),
        &card(people::SENIOR),
    )
    .await;
    let url = j.service.url(routes::CODES);
    let body_a = json!({"session": who_a["session"], "action": "reissue", "request_id": RID_2});
    let body_b = json!({"session": who_b["session"], "action": "reissue", "request_id": RID_3});
    let a = post(&j.kiosk, &url, &body_a);
    let b = post(&other, &url, &body_b);
    let ((status_a, body_a), (status_b, body_b)) = tokio::join!(a, b);
    // Both sessions were shown the first code: one reissue replaces it, the other is refused
    // cleanly (the code it would replace is gone), and exactly one code verifies.
    let mut statuses = [status_a, status_b];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{body_a} / {body_b}");
    let (winner, loser) = if status_a == 200 {
        (body_a, body_b)
    } else {
        (body_b, body_a)
    };
    assert_eq!(loser["error"], "conflict_code_changed", "{loser}");
    assert_eq!(winner["serial"], 2, "{winner}");
    assert_eq!(
        j.verify(first["qr_text"].as_str().unwrap()).await["result"],
        "superseded"
    );
    assert_eq!(
        j.verify(winner["qr_text"].as_str().unwrap()).await["result"],
        "valid"
    );
    // Identified again, the refused kiosk sees the new code and may replace that one.
    let now = j.identify(people::SENIOR).await;
    assert_eq!(now["code"]["state"], "active");
    assert_eq!(now["code"]["code_id"], winner["code_id"]);
    let (status, again) = j.issue(&now["session"], "reissue", RID_4).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["serial"], 3);
}

#[tokio::test]
async fn malformed_bodies_get_typed_4xx() {
    let j = Journey::new().await;
    let url = j.service.url(routes::IDENTIFY);
    let response = j
        .kiosk
        .post(&url)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    assert_eq!(
        response.json::<Value>().await.unwrap()["error"],
        "invalid_json"
    );
    let response = j.kiosk.post(&url).body("{}").send().await.unwrap();
    assert_eq!(response.status().as_u16(), 415);
    let mut bad = card(people::SENIOR);
    bad["id_card"]["id_number"] = json!("310101195003150028");
    let (status, body) = post(&j.kiosk, &url, &bad).await;
    assert_eq!(
        (status, body["error"].clone()),
        (422, json!("invalid_id_number"))
    );
    assert!(
        !body["message"]
            .as_str()
            .unwrap()
            .contains("310101195003150028")
    );
    let big = json!({"suishen_code": "A".repeat(70 * 1024)});
    let (status, body) = post(&j.kiosk, &url, &big).await;
    assert_eq!(
        (status, body["error"].clone()),
        (413, json!("body_too_large"))
    );
    let heartbeat = json!({
        "kiosk_version": "1", "sent_at": "9999-12-31T23:59:59-23:59", "devices": [],
        "paper": "ok", "journal_backlog": 0, "in_service": true,
        "out_of_service_reason": null, "help_requested_at": null});
    let (status, body) = post(&j.kiosk, &j.service.url(routes::HEARTBEAT), &heartbeat).await;
    assert_eq!((status, body["error"].clone()), (400, json!("bad_request")));
    let batch = json!({"events": [{"id": "0b8f7b7c-4a6e-4d55-9c1e-1f2a3b4c5d6e",
        "at": "0000-01-01T00:00:00+23:59", "kind": "error", "detail": {}}]});
    let (status, _) = post(&j.kiosk, &j.service.url(routes::JOURNAL), &batch).await;
    assert_eq!(status, 400);
    let (status, body) = get(&j.kiosk, &j.service.url("/v1/nope")).await;
    assert_eq!((status, body["error"].clone()), (404, json!("not_found")));
    let (status, body) = get(&j.kiosk, &url).await;
    assert_eq!(
        (status, body["error"].clone()),
        (405, json!("method_not_allowed"))
    );
}

#[tokio::test]
async fn every_listed_route_is_served_by_the_router() {
    let j = Journey::new().await;
    for (method, path) in central::http::API_ROUTES {
        let url = j
            .service
            .url(&path.replace("{code_id}", "0123456789abcdef0123456789abcdef"));
        let request = match *method {
            "GET" => j.kiosk.get(&url),
            "POST" => j.kiosk.post(&url).json(&json!({})),
            other => panic!("unexpected method {other}"),
        };
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert_ne!(
            body["message"], "no such route",
            "{method} {path} is not routed"
        );
        assert_ne!(
            status, 405,
            "{method} {path} is routed for another method only"
        );
        // And the other method on the same path is refused as such.
        let other = if *method == "GET" {
            j.kiosk.post(&url)
        } else {
            j.kiosk.get(&url)
        };
        let status = other.send().await.unwrap().status().as_u16();
        assert_eq!(status, 405, "{path} answers a method it does not list");
    }
}
