//! The JSON bodies of API v1: snapshots of one realistic example of each, round trips, the
//! rejection of malformed requests, and a property test that no input makes deserialization
//! panic. All people, numbers and keys here are fictional.

// A test fails by panicking, helpers included.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::fmt::Debug;

use proptest::prelude::*;
use protocol::api::*;
use protocol::rules::{self, Offer};
use protocol::{Eligibility, IdNumber, IneligibleReason};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::Weekday;
use time::macros::{date, datetime, time};
use uuid::Uuid;

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/// A valid fictional resident ID number (region 110105, born 1949-12-31, female).
const ID_NUMBER: &str = "11010519491231002X";
/// The same with a wrong check character.
const BAD_ID_NUMBER: &str = "110105194912310021";
const CODE_ID_HEX: &str = "3f2a9c417be04d58a1c6e2f09b7d3e15";
const OLD_CODE_ID_HEX: &str = "8d04e6b2c1a9473f95e0d7b3a6c28f41";
const REQUEST_ID: &str = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f";
/// Format v1 text for the fixture code (kid 1, serial 1, 2025-03-14 .. 2025-09-09); the 64
/// signature bytes are a placeholder, not a real signature.
const QR_TEXT: &str = "SSM1:W50470IH5NC81GS99BJ6PZIUM$FLT2%50+NDJ 3W5D7DLW3OC7NW-CTER0KE+MBPHH1:\
                       M:YMMI6X2NOKGXLTWR1U0RMVH.+IE18HGTLPAYRFOMIDBMF6QCF7REFV:5BA7VMGO1";
const PUBLIC_KEY_HEX: &str = "04\
    09f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020\
    ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13";

fn id_number() -> IdNumber {
    IdNumber::parse(ID_NUMBER).unwrap()
}

fn code_id() -> CodeId {
    CODE_ID_HEX.parse().unwrap()
}

fn request_id() -> RequestId {
    RequestId::new(Uuid::parse_str(REQUEST_ID).unwrap())
}

fn photo() -> Photo {
    Photo {
        mime: "image/jpeg".into(),
        data_base64: "/9j/4AAQSkZJRgABAQAAAQABAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8U".into(),
    }
}

fn old_code_id() -> CodeId {
    CodeId::parse(OLD_CODE_ID_HEX).unwrap()
}

/// The code the fixture person got on an earlier visit.
fn active_code() -> CodeState {
    CodeState::Active {
        code_id: old_code_id(),
        serial: 1,
        issued_on: date!(2024 - 11 - 20),
        expires_on: date!(2025 - 05 - 18),
    }
}

fn all_code_states() -> Vec<CodeState> {
    let old = old_code_id();
    vec![
        CodeState::None,
        active_code(),
        CodeState::Lost {
            code_id: old,
            serial: 1,
            lost_on: date!(2025 - 02 - 03),
        },
        CodeState::Expired {
            code_id: old,
            serial: 1,
            expires_on: date!(2025 - 05 - 18),
        },
    ]
}

fn id_card_request() -> IdentifyRequest {
    IdentifyRequest::IdCard(IdCardFields {
        kind: CardKind::Resident,
        name: "王秀英".into(),
        id_number: id_number(),
        sex: CardSex::Female,
        birth_date: date!(1949 - 12 - 31),
        valid_from: date!(2016 - 03 - 01),
        valid_until: None,
    })
}

fn suishen_code_request() -> IdentifyRequest {
    IdentifyRequest::SuishenCode(
        "SSB1.eyJzdWIiOiJkZW1vLTAwMDEiLCJleHAiOjE3NDE5MTY0MTN9.c2ln".into(),
    )
}

fn person(eligibility: Eligibility) -> Person {
    Person {
        name: "王秀英".into(),
        id_number_masked: "110***********002X".into(),
        photo: Some(photo()),
        age: 75,
        eligibility,
    }
}

fn identify_response(eligibility: Eligibility, code: CodeState) -> IdentifyResponse {
    IdentifyResponse {
        session: SessionToken::new("s_Yk3vQ9wZ1pLr8TnE2bXc"),
        session_expires_at: datetime!(2025-03-14 09:31:53 +08:00),
        person: person(eligibility),
        code,
        offer: rules::offer(&eligibility, &code),
        next_code: Validity {
            issued_on: date!(2025 - 03 - 14),
            expires_on: date!(2025 - 09 - 09),
        },
    }
}

fn under_age() -> Eligibility {
    Eligibility::NotEligible(IneligibleReason::UnderAge {
        eligible_from: date!(2030 - 05 - 06),
    })
}

fn issue_request() -> IssueRequest {
    IssueRequest {
        session: SessionToken::new("s_Yk3vQ9wZ1pLr8TnE2bXc"),
        action: Action::Apply,
        request_id: request_id(),
    }
}

fn issued_code() -> IssuedCode {
    IssuedCode {
        code_id: code_id(),
        kid: 1,
        serial: 1,
        issued_on: date!(2025 - 03 - 14),
        expires_on: date!(2025 - 09 - 09),
        qr_text: QR_TEXT.into(),
        replaced: false,
    }
}

fn printed_request() -> PrintedRequest {
    PrintedRequest {
        request_id: request_id(),
        printed_at: datetime!(2025-03-14 09:27:41 +08:00),
    }
}

fn print_failed_request() -> PrintFailedRequest {
    PrintFailedRequest {
        request_id: request_id(),
        reason: PrintFailure::PaperOut,
        detail: Some("paper end sensor on before the job".into()),
    }
}

fn heartbeat_request() -> HeartbeatRequest {
    HeartbeatRequest {
        kiosk_version: "0.1.0".into(),
        sent_at: datetime!(2025-03-14 09:30:00 +08:00),
        devices: vec![
            DeviceReport {
                device: DeviceKind::Idcard,
                state: DeviceState::Connected,
                last_error: None,
            },
            DeviceReport {
                device: DeviceKind::Scanner,
                state: DeviceState::Failed,
                last_error: Some("serial port /dev/ttyACM0 disappeared".into()),
            },
            DeviceReport {
                device: DeviceKind::Printer,
                state: DeviceState::Degraded,
                last_error: Some("paper near end".into()),
            },
        ],
        paper: PaperState::NearEnd,
        journal_backlog: 12,
        in_service: true,
        out_of_service_reason: None,
        help_requested_at: Some(datetime!(2025-03-14 09:29:12 +08:00)),
    }
}

fn heartbeat_response() -> HeartbeatResponse {
    HeartbeatResponse {
        server_time: datetime!(2025-03-14 09:30:00.250 +08:00),
        config_version: 7,
    }
}

fn journal_batch() -> JournalBatch {
    let event = |id: &str, at, kind, detail: &[(&str, &str)]| JournalEvent {
        id: Uuid::parse_str(id).unwrap(),
        at,
        kind,
        detail: detail
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>(),
    };
    JournalBatch {
        events: vec![
            event(
                "0b6e2f7a-3c1d-4e8f-9a0b-1c2d3e4f5a6b",
                datetime!(2025-03-14 09:26:40 +08:00),
                JournalKind::SessionStarted,
                &[("session", "7"), ("login", "id_card")],
            ),
            event(
                "1c7f3a8b-4d2e-4f9a-8b1c-2d3e4f5a6b7c",
                datetime!(2025-03-14 09:26:53 +08:00),
                JournalKind::IssueRequested,
                &[
                    ("session", "7"),
                    ("request_id", REQUEST_ID),
                    ("action", "apply"),
                    ("person", "hmac:5e1f0c2a9d7b"),
                ],
            ),
            event(
                "2d8a4b9c-5e3f-4a0b-9c2d-3e4f5a6b7c8d",
                datetime!(2025-03-14 09:27:41 +08:00),
                JournalKind::Printed,
                &[("session", "7"), ("code_id", CODE_ID_HEX), ("serial", "1")],
            ),
        ],
    }
}

fn kiosk_config() -> KioskConfig {
    let weekday = |weekday| ServiceHours {
        weekday,
        opens: time!(09:00),
        closes: time!(17:00),
    };
    KioskConfig {
        version: 7,
        notice: Some("3月15日（周六）系统维护，暂停服务。".into()),
        service_hours: vec![
            weekday(Weekday::Monday),
            weekday(Weekday::Tuesday),
            weekday(Weekday::Wednesday),
            weekday(Weekday::Thursday),
            weekday(Weekday::Friday),
            ServiceHours {
                weekday: Weekday::Saturday,
                opens: time!(09:00),
                closes: time!(12:00),
            },
        ],
        staff: vec![StaffEntry {
            salt_hex: "5f0c2a9e41d7b3860f1e2d3c4b5a6978".into(),
            id_hash_hex: "a3c9f1e07b2d54869e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f".into(),
            pin_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$bHNmb2FpZW5mb2FpZW5mb2Fp"
                .into(),
            name_masked: "李*".into(),
        }],
        idle_timeout_seconds: 60,
    }
}

fn keys_response() -> KeysResponse {
    KeysResponse {
        keys: vec![KeyEntry {
            kid: 1,
            alg: ALG_SM2_SM3.into(),
            public_key_hex: PUBLIC_KEY_HEX.into(),
        }],
    }
}

fn verify_request() -> VerifyRequest {
    VerifyRequest {
        payload: QR_TEXT.into(),
    }
}

fn verify_valid() -> VerifyResponse {
    VerifyResponse {
        result: VerifyResult::Valid,
        color: Some(Color::Green),
        holder: Some(Holder {
            name: "王*英".into(),
            id_number: "110***********002X".into(),
            photo: Some(photo()),
        }),
        serial: Some(1),
        expires_on: Some(date!(2025 - 09 - 09)),
        checked_at: datetime!(2025-04-02 14:05:09 +08:00),
        watermark: "赵* · 黄浦区某某商场 · V0042".into(),
    }
}

fn verify_forged() -> VerifyResponse {
    VerifyResponse {
        result: VerifyResult::Forged,
        color: None,
        holder: None,
        serial: None,
        expires_on: None,
        checked_at: datetime!(2025-04-02 14:05:31 +08:00),
        watermark: "赵* · 黄浦区某某商场 · V0042".into(),
    }
}

fn report_lost_request() -> ReportLostRequest {
    ReportLostRequest {
        id_number: id_number(),
    }
}

fn report_lost_response() -> ReportLostResponse {
    ReportLostResponse {
        code_id: old_code_id(),
        serial: 1,
        lost_at: datetime!(2025-02-03 10:12:03 +08:00),
    }
}

fn kiosk_directory() -> KioskDirectory {
    KioskDirectory {
        kiosks: vec![
            KioskListing {
                kiosk_id: "K001".into(),
                name: "示例街道社区事务受理服务中心".into(),
                address: "上海市示例区示例路100号1楼大厅".into(),
                hours: "周一至周五 09:00-17:00，周六 09:00-12:00".into(),
                can_issue: true,
                online: true,
                paper: PaperState::Ok,
                in_service: true,
                last_heartbeat_at: Some(datetime!(2025-03-14 09:30:00 +08:00)),
            },
            KioskListing {
                kiosk_id: "K002".into(),
                name: "示例镇政务服务中心".into(),
                address: "上海市示例区示例镇中心路8号".into(),
                hours: "周一至周五 09:00-17:00".into(),
                can_issue: false,
                online: false,
                paper: PaperState::Unknown,
                in_service: true,
                last_heartbeat_at: None,
            },
        ],
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

#[test]
fn snapshot_error_body() {
    insta::assert_json_snapshot!(
        "error_body",
        ErrorBody::new(
            ErrorCode::ConflictActiveCode,
            "the person already holds an active code: reissue instead",
        )
    );
}

#[test]
fn snapshot_identify_requests() {
    insta::assert_json_snapshot!("identify_request_id_card", id_card_request());
    insta::assert_json_snapshot!("identify_request_suishen_code", suishen_code_request());
}

#[test]
fn snapshot_identify_responses() {
    insta::assert_json_snapshot!(
        "identify_response_apply",
        identify_response(Eligibility::Eligible, CodeState::None)
    );
    insta::assert_json_snapshot!(
        "identify_response_reissue",
        identify_response(Eligibility::Eligible, active_code())
    );
    // Another fictional person, born 1970-05-06.
    let mut under_age = identify_response(under_age(), CodeState::None);
    under_age.person.name = "陈建国".into();
    under_age.person.id_number_masked = "310***********1239".into();
    under_age.person.age = 54;
    insta::assert_json_snapshot!("identify_response_not_eligible", under_age);
}

#[test]
fn snapshot_code_states() {
    insta::assert_json_snapshot!("code_states", all_code_states());
}

#[test]
fn an_issued_code_from_an_older_central_reads_as_not_replaced() {
    let mut value = serde_json::to_value(issued_code()).unwrap();
    assert_eq!(value["replaced"], false, "always written");
    value.as_object_mut().unwrap().remove("replaced");
    let read: IssuedCode = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(read, issued_code());
    value["replaced"] = true.into();
    let read: IssuedCode = serde_json::from_value(value).unwrap();
    assert!(read.replaced);
}

#[test]
fn snapshot_codes() {
    insta::assert_json_snapshot!("issue_request", issue_request());
    insta::assert_json_snapshot!("issued_code", issued_code());
}

#[test]
fn snapshot_print_outcomes() {
    insta::assert_json_snapshot!("printed_request", printed_request());
    insta::assert_json_snapshot!("print_failed_request", print_failed_request());
    insta::assert_json_snapshot!("ack", Ack::OK);
}

#[test]
fn snapshot_heartbeat() {
    insta::assert_json_snapshot!("heartbeat_request", heartbeat_request());
    insta::assert_json_snapshot!("heartbeat_response", heartbeat_response());
}

#[test]
fn snapshot_journal() {
    insta::assert_json_snapshot!("journal_batch", journal_batch());
    insta::assert_json_snapshot!(
        "journal_ack",
        JournalAck {
            accepted: 2,
            duplicates: 1
        }
    );
}

#[test]
fn snapshot_config() {
    insta::assert_json_snapshot!("kiosk_config", kiosk_config());
}

#[test]
fn snapshot_keys() {
    insta::assert_json_snapshot!("keys_response", keys_response());
}

#[test]
fn snapshot_verify() {
    insta::assert_json_snapshot!("verify_request", verify_request());
    insta::assert_json_snapshot!("verify_response_valid", verify_valid());
    insta::assert_json_snapshot!("verify_response_forged", verify_forged());
}

#[test]
fn snapshot_report_lost() {
    insta::assert_json_snapshot!("report_lost_request", report_lost_request());
    insta::assert_json_snapshot!("report_lost_response", report_lost_response());
}

#[test]
fn snapshot_kiosk_directory() {
    insta::assert_json_snapshot!("kiosk_directory", kiosk_directory());
}

// ---------------------------------------------------------------------------------------------
// Round trips
// ---------------------------------------------------------------------------------------------

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + Debug>(value: &T) {
    let json = serde_json::to_string(value).unwrap();
    let back: T =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json} does not read back: {e}"));
    assert_eq!(&back, value, "{json}");
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}

#[test]
fn every_body_round_trips() {
    round_trip(&ErrorBody::new(ErrorCode::Internal, "bug"));
    round_trip(&id_card_request());
    round_trip(&suishen_code_request());
    for code in all_code_states() {
        round_trip(&code);
        for eligibility in [
            Eligibility::Eligible,
            under_age(),
            Eligibility::NotEligible(IneligibleReason::NoPhoto),
            Eligibility::NotEligible(IneligibleReason::NotRealNameVerified),
        ] {
            round_trip(&identify_response(eligibility, code));
        }
    }
    round_trip(&issue_request());
    round_trip(&IssueRequest {
        action: Action::Reissue,
        ..issue_request()
    });
    round_trip(&issued_code());
    round_trip(&printed_request());
    round_trip(&print_failed_request());
    round_trip(&Ack::OK);
    round_trip(&heartbeat_request());
    round_trip(&heartbeat_response());
    round_trip(&journal_batch());
    round_trip(&JournalAck {
        accepted: 500,
        duplicates: 0,
    });
    round_trip(&kiosk_config());
    round_trip(&keys_response());
    round_trip(&verify_request());
    round_trip(&verify_valid());
    round_trip(&verify_forged());
    round_trip(&report_lost_request());
    round_trip(&report_lost_response());
    round_trip(&kiosk_directory());
}

#[test]
fn every_error_code_round_trips_and_has_a_status() {
    for code in ErrorCode::ALL {
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, format!("\"{}\"", code.as_str()));
        assert_eq!(code.to_string(), code.as_str());
        assert_eq!(serde_json::from_str::<ErrorCode>(&json).unwrap(), code);
        let status = code.status();
        match code {
            ErrorCode::Internal | ErrorCode::Unavailable => assert!(status >= 500, "{code}"),
            _ => assert!((400..500).contains(&status), "{code} -> {status}"),
        }
    }
    let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ErrorCode::ALL.len());
    assert_eq!(ErrorCode::ConflictActiveCode.status(), 409);
    assert_eq!(ErrorCode::ConflictNoCode.status(), 409);
    assert_eq!(ErrorCode::BodyTooLarge.status(), 413);
    assert_eq!(ErrorCode::Unauthorized.status(), 401);
}

#[test]
fn optional_fields_may_be_left_out() {
    let heartbeat: HeartbeatRequest = serde_json::from_str(
        r#"{"kiosk_version":"0.1.0","sent_at":"2025-03-14T09:30:00+08:00","devices":[],
            "paper":"ok","journal_backlog":0,"in_service":true}"#,
    )
    .unwrap();
    assert_eq!(heartbeat.out_of_service_reason, None);
    assert_eq!(heartbeat.help_requested_at, None);
    let failed: PrintFailedRequest = serde_json::from_str(&format!(
        r#"{{"request_id":"{REQUEST_ID}","reason":"other"}}"#
    ))
    .unwrap();
    assert_eq!(failed.detail, None);
}

// ---------------------------------------------------------------------------------------------
// Identifiers
// ---------------------------------------------------------------------------------------------

#[test]
fn code_id_text_form() {
    let id = CodeId::from_bytes([
        0x3f, 0x2a, 0x9c, 0x41, 0x7b, 0xe0, 0x4d, 0x58, 0xa1, 0xc6, 0xe2, 0xf0, 0x9b, 0x7d, 0x3e,
        0x15,
    ]);
    assert_eq!(id, code_id());
    assert_eq!(id.to_string(), CODE_ID_HEX);
    assert_eq!(format!("{id:?}"), format!("CodeId({CODE_ID_HEX})"));
    assert_eq!(
        serde_json::to_string(&id).unwrap(),
        format!("\"{CODE_ID_HEX}\"")
    );
    assert_eq!(
        routes::code_printed(&id),
        format!("/v1/kiosk/codes/{CODE_ID_HEX}/printed")
    );
    assert_eq!(
        routes::code_print_failed(&id),
        format!("/v1/kiosk/codes/{CODE_ID_HEX}/print-failed")
    );
}

#[test]
fn bad_code_ids_are_refused() {
    let cases = [
        ("", CodeIdError::Length(0)),
        ("3f2a9c417be04d58a1c6e2f09b7d3e1", CodeIdError::Length(31)),
        ("3f2a9c417be04d58a1c6e2f09b7d3e155", CodeIdError::Length(33)),
        (
            "3F2A9C417BE04D58A1C6E2F09B7D3E15",
            CodeIdError::NotLowercaseHex,
        ),
        (
            "3f2a9c417be04d58a1c6e2f09b7d3e1g",
            CodeIdError::NotLowercaseHex,
        ),
        (
            " f2a9c417be04d58a1c6e2f09b7d3e15",
            CodeIdError::NotLowercaseHex,
        ),
        (
            "码码码码码码码码码码码码码码码码码码码码码码码码码码码码码码码码",
            CodeIdError::NotLowercaseHex,
        ),
        (
            "3f2a9c417be04d58a1c6e2f09b7d3e1码",
            CodeIdError::NotLowercaseHex,
        ),
    ];
    for (text, want) in cases {
        assert_eq!(CodeId::parse(text), Err(want), "{text:?}");
        let err = serde_json::from_str::<CodeId>(&format!("\"{text}\"")).unwrap_err();
        assert_eq!(
            ErrorCode::for_deserialize_error(&err.to_string()),
            ErrorCode::InvalidCodeId,
            "{err}"
        );
    }
    // In a body.
    let body = serde_json::json!({
        "code_id": "not-hex", "serial": 1, "lost_at": "2025-05-20T10:12:03+08:00"
    });
    let err = serde_json::from_value::<ReportLostResponse>(body).unwrap_err();
    assert!(err.to_string().contains(INVALID_CODE_ID_MESSAGE), "{err}");
    assert!(serde_json::from_str::<CodeId>("42").is_err());
}

#[test]
fn request_ids_are_hyphenated_uuids() {
    assert_eq!(
        serde_json::to_string(&request_id()).unwrap(),
        format!("\"{REQUEST_ID}\"")
    );
    assert_eq!(request_id().to_string(), REQUEST_ID);
    let body = format!(
        r#"{{"session":"s","action":"apply","request_id":"{}"}}"#,
        "not-a-uuid"
    );
    assert!(serde_json::from_str::<IssueRequest>(&body).is_err());
}

#[test]
fn debug_output_hides_personal_data() {
    let shown = format!(
        "{:?} {:?} {:?} {:?} {:?}",
        id_card_request(),
        suishen_code_request(),
        identify_response(Eligibility::Eligible, active_code()),
        issue_request(),
        report_lost_request(),
    );
    for secret in [
        "王秀英",
        ID_NUMBER,
        "s_Yk3vQ9wZ1pLr8TnE2bXc",
        "SSB1.",
        "/9j/4AAQ",
        "1949",
    ] {
        assert!(!shown.contains(secret), "{secret} in {shown}");
    }
}

// ---------------------------------------------------------------------------------------------
// Rejections
// ---------------------------------------------------------------------------------------------

/// Adds `"surprise": 1` to the top-level object of `value`'s JSON, or to the inner object of a
/// one-key wrapper such as `{"id_card": {...}}` when `inner` is set.
fn with_unknown_field<T: Serialize>(value: &T, inner: bool) -> String {
    let mut json = serde_json::to_value(value).unwrap();
    let object = json.as_object_mut().unwrap();
    let target = if inner {
        object.values_mut().next().unwrap().as_object_mut().unwrap()
    } else {
        object
    };
    target.insert("surprise".into(), serde_json::json!(1));
    json.to_string()
}

fn assert_refused<T: DeserializeOwned + Debug>(json: &str) -> String {
    match serde_json::from_str::<T>(json) {
        Ok(value) => panic!("{json} was accepted as {value:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn requests_refuse_unknown_fields() {
    assert_refused::<IdentifyRequest>(&with_unknown_field(&id_card_request(), true));
    assert_refused::<IdentifyRequest>(&with_unknown_field(&id_card_request(), false));
    assert_refused::<IdentifyRequest>(&with_unknown_field(&suishen_code_request(), false));
    assert_refused::<IssueRequest>(&with_unknown_field(&issue_request(), false));
    assert_refused::<PrintedRequest>(&with_unknown_field(&printed_request(), false));
    assert_refused::<PrintFailedRequest>(&with_unknown_field(&print_failed_request(), false));
    assert_refused::<HeartbeatRequest>(&with_unknown_field(&heartbeat_request(), false));
    assert_refused::<JournalBatch>(&with_unknown_field(&journal_batch(), false));
    assert_refused::<VerifyRequest>(&with_unknown_field(&verify_request(), false));
    assert_refused::<ReportLostRequest>(&with_unknown_field(&report_lost_request(), false));

    // Nested request objects too.
    let mut heartbeat = serde_json::to_value(heartbeat_request()).unwrap();
    heartbeat["devices"][0]["surprise"] = serde_json::json!(1);
    assert_refused::<HeartbeatRequest>(&heartbeat.to_string());
    let mut journal = serde_json::to_value(journal_batch()).unwrap();
    journal["events"][0]["surprise"] = serde_json::json!(1);
    assert_refused::<JournalBatch>(&journal.to_string());
}

#[test]
fn identify_request_must_be_exactly_one_variant() {
    assert_refused::<IdentifyRequest>("{}");
    assert_refused::<IdentifyRequest>(r#"{"passport": "E12345678"}"#);
    assert_refused::<IdentifyRequest>(r#""suishen_code""#);
    assert_refused::<IdentifyRequest>(r#"{"suishen_code": 42}"#);
    assert_refused::<IdentifyRequest>(r#"{"suishen_code": "a", "id_card": {}}"#);
}

#[test]
fn invalid_id_numbers_are_refused_without_echoing_them() {
    let mut card = serde_json::to_value(id_card_request()).unwrap();
    for bad in [
        BAD_ID_NUMBER,
        "",
        "11010519491231002",
        "1101051949123100XX",
        "１１０１",
    ] {
        card["id_card"]["id_number"] = serde_json::json!(bad);
        let message = assert_refused::<IdentifyRequest>(&card.to_string());
        assert_eq!(
            ErrorCode::for_deserialize_error(&message),
            ErrorCode::InvalidIdNumber,
            "{message}"
        );
        if !bad.is_empty() {
            assert!(!message.contains(bad), "{message}");
        }

        let report = serde_json::json!({ "id_number": bad }).to_string();
        let message = assert_refused::<ReportLostRequest>(&report);
        assert_eq!(
            ErrorCode::for_deserialize_error(&message),
            ErrorCode::InvalidIdNumber
        );
    }
    // A number of the wrong JSON type is a shape error, not an ID-number error.
    let message = assert_refused::<ReportLostRequest>(r#"{"id_number": 110105194912310020}"#);
    assert_eq!(
        ErrorCode::for_deserialize_error(&message),
        ErrorCode::InvalidJson
    );
}

#[test]
fn wrong_enum_strings_are_refused() {
    let mut issue = serde_json::to_value(issue_request()).unwrap();
    for bad in ["Apply", "APPLY", "renew", "", "none"] {
        issue["action"] = serde_json::json!(bad);
        let message = assert_refused::<IssueRequest>(&issue.to_string());
        assert_eq!(
            ErrorCode::for_deserialize_error(&message),
            ErrorCode::InvalidJson
        );
    }
    let mut failed = serde_json::to_value(print_failed_request()).unwrap();
    failed["reason"] = serde_json::json!("on_fire");
    assert_refused::<PrintFailedRequest>(&failed.to_string());
    let mut card = serde_json::to_value(id_card_request()).unwrap();
    card["id_card"]["kind"] = serde_json::json!("passport");
    assert_refused::<IdentifyRequest>(&card.to_string());
    let mut journal = serde_json::to_value(journal_batch()).unwrap();
    journal["events"][0]["kind"] = serde_json::json!("SessionStarted");
    assert_refused::<JournalBatch>(&journal.to_string());
}

#[test]
fn bad_dates_and_times_are_refused() {
    let mut card = serde_json::to_value(id_card_request()).unwrap();
    card["id_card"]["valid_until"] = serde_json::json!("长期");
    assert_refused::<IdentifyRequest>(&card.to_string());
    card["id_card"]["valid_until"] = serde_json::json!("2036-02-30");
    assert_refused::<IdentifyRequest>(&card.to_string());

    let mut printed = serde_json::to_value(printed_request()).unwrap();
    printed["printed_at"] = serde_json::json!("2025-03-14 09:27:41");
    assert_refused::<PrintedRequest>(&printed.to_string());

    let mut config = serde_json::to_value(kiosk_config()).unwrap();
    for (field, bad) in [
        ("weekday", serde_json::json!(0)),
        ("weekday", serde_json::json!(8)),
        ("weekday", serde_json::json!("Monday")),
        ("opens", serde_json::json!("9:00")),
        ("opens", serde_json::json!("24:00")),
        ("closes", serde_json::json!("17:00:00")),
    ] {
        let saved = config["service_hours"][0][field].clone();
        config["service_hours"][0][field] = bad;
        assert_refused::<KioskConfig>(&config.to_string());
        config["service_hours"][0][field] = saved;
    }
    serde_json::from_value::<KioskConfig>(config).unwrap();
}

// ---------------------------------------------------------------------------------------------
// Small helpers on the types
// ---------------------------------------------------------------------------------------------

#[test]
fn service_hours() {
    let config = kiosk_config();
    assert!(config.in_service_hours(Weekday::Monday, time!(09:00)));
    assert!(config.in_service_hours(Weekday::Friday, time!(16:59:59)));
    assert!(!config.in_service_hours(Weekday::Friday, time!(17:00)));
    assert!(!config.in_service_hours(Weekday::Monday, time!(08:59)));
    assert!(config.in_service_hours(Weekday::Saturday, time!(11:30)));
    assert!(!config.in_service_hours(Weekday::Saturday, time!(12:30)));
    assert!(!config.in_service_hours(Weekday::Sunday, time!(10:00)));
    let always = KioskConfig {
        service_hours: vec![],
        ..kiosk_config()
    };
    assert!(always.in_service_hours(Weekday::Sunday, time!(03:00)));
    let backwards = ServiceHours {
        weekday: Weekday::Monday,
        opens: time!(17:00),
        closes: time!(09:00),
    };
    assert!(!backwards.contains(Weekday::Monday, time!(12:00)));
    assert!(!backwards.contains(Weekday::Monday, time!(18:00)));
}

#[test]
fn journal_batch_limit() {
    let one = journal_batch().events.remove(0);
    let full = JournalBatch {
        events: vec![one.clone(); MAX_JOURNAL_BATCH],
    };
    assert!(full.within_limit());
    let over = JournalBatch {
        events: vec![one; MAX_JOURNAL_BATCH + 1],
    };
    assert!(!over.within_limit());
}

#[test]
fn offers_in_identify_responses_match_the_rules() {
    let cases = [
        (Eligibility::Eligible, CodeState::None, Offer::Apply),
        (Eligibility::Eligible, active_code(), Offer::Reissue),
        (
            under_age(),
            active_code(),
            Offer::Nothing(IneligibleReason::UnderAge {
                eligible_from: date!(2030 - 05 - 06),
            }),
        ),
    ];
    for (eligibility, code, want) in cases {
        assert_eq!(identify_response(eligibility, code).offer, want);
    }
}

// ---------------------------------------------------------------------------------------------
// No input panics
// ---------------------------------------------------------------------------------------------

fn parse_all(text: &str) {
    let _ = serde_json::from_str::<IdentifyRequest>(text);
    let _ = serde_json::from_str::<IssueRequest>(text);
    let _ = serde_json::from_str::<PrintedRequest>(text);
    let _ = serde_json::from_str::<PrintFailedRequest>(text);
    let _ = serde_json::from_str::<HeartbeatRequest>(text);
    let _ = serde_json::from_str::<JournalBatch>(text);
    let _ = serde_json::from_str::<VerifyRequest>(text);
    let _ = serde_json::from_str::<ReportLostRequest>(text);
    // And the responses the kiosk and pages read.
    let _ = serde_json::from_str::<ErrorBody>(text);
    let _ = serde_json::from_str::<IdentifyResponse>(text);
    let _ = serde_json::from_str::<IssuedCode>(text);
    let _ = serde_json::from_str::<KioskConfig>(text);
    let _ = serde_json::from_str::<VerifyResponse>(text);
    let _ = serde_json::from_str::<KioskDirectory>(text);
    let _ = CodeId::parse(text);
}

/// JSON-ish text: fragments of real bodies glued together, so that the parser gets past the
/// first byte and into the field and value code.
fn jsonish() -> impl Strategy<Value = String> {
    let fragments = prop::sample::select(vec![
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "\"",
        "null",
        "true",
        "0",
        "-1",
        "65536",
        "1e999",
        "\"id_card\"",
        "\"suishen_code\"",
        "\"kind\"",
        "\"resident\"",
        "\"name\"",
        "\"id_number\"",
        "\"11010519491231002X\"",
        "\"sex\"",
        "\"female\"",
        "\"birth_date\"",
        "\"1949-12-31\"",
        "\"valid_until\"",
        "\"session\"",
        "\"action\"",
        "\"apply\"",
        "\"request_id\"",
        "\"6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f\"",
        "\"printed_at\"",
        "\"2025-03-14T09:27:41+08:00\"",
        "\"reason\"",
        "\"paper_out\"",
        "\"events\"",
        "\"weekday\"",
        "\"opens\"",
        "\"25:61\"",
        "\"code_id\"",
        "\"3f2a9c417be04d58a1c6e2f09b7d3e15\"",
        "\"state\"",
        "\"active\"",
        "\"status\"",
        "\"not_eligible\"",
        "\"under_age\"",
        "\"payload\"",
        "\\u0000",
        "\\ud800",
        "码",
    ]);
    prop::collection::vec(fragments, 0..40).prop_map(|parts| parts.concat())
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(text in any::<String>()) {
        parse_all(&text);
    }

    #[test]
    fn jsonish_strings_never_panic(text in jsonish()) {
        parse_all(&text);
    }

    #[test]
    fn code_ids_round_trip(bytes in any::<[u8; 16]>()) {
        let id = CodeId::from_bytes(bytes);
        let text = id.to_string();
        prop_assert_eq!(text.len(), 32);
        prop_assert_eq!(CodeId::parse(&text), Ok(id));
        let json = serde_json::to_string(&id).unwrap();
        prop_assert_eq!(serde_json::from_str::<CodeId>(&json).unwrap(), id);
    }
}
