//! The OpenAPI document of the API v1 (`central/openapi.json`, served at `GET /v1/openapi.json`):
//! a valid OpenAPI 3.0.3 document whose references all resolve, whose schemas mirror the
//! `protocol::api` types (every example is a value of its type, every protocol snapshot is valid
//! against its schema, `required` and `nullable` follow the types' fields), whose error answers
//! follow `ErrorCode::status`, and whose routes are exactly the router's.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use protocol::api::{self, ErrorCode, routes};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

/// The document under test.
const DOCUMENT: &str = include_str!("../openapi.json");
/// Where component schemas live.
const SCHEMAS: &str = "#/components/schemas/";
/// The HTTP methods an OpenAPI path item may hold.
const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("openapi.json is JSON")
}

// ---------------------------------------------------------------------------------------------
// Schema name -> protocol type
// ---------------------------------------------------------------------------------------------

/// Reads a JSON value as a protocol type and writes it back.
type Roundtrip = fn(&Value) -> Result<Value, String>;

fn roundtrip<T: Serialize + DeserializeOwned>(value: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

/// Every component schema and the type whose JSON it describes. Variant schemas (one arm of a
/// `oneOf`) map to the enum they are a variant of.
const TYPES: &[(&str, Roundtrip)] = &[
    ("ErrorBody", roundtrip::<api::ErrorBody>),
    ("CodeId", roundtrip::<api::CodeId>),
    ("RequestId", roundtrip::<api::RequestId>),
    ("SessionToken", roundtrip::<api::SessionToken>),
    ("IdNumber", roundtrip::<protocol::IdNumber>),
    ("CardKind", roundtrip::<api::CardKind>),
    ("CardSex", roundtrip::<api::CardSex>),
    ("IdCardFields", roundtrip::<api::IdCardFields>),
    ("IdentifyByIdCard", roundtrip::<api::IdentifyRequest>),
    ("IdentifyBySuishenCode", roundtrip::<api::IdentifyRequest>),
    ("IdentifyRequest", roundtrip::<api::IdentifyRequest>),
    ("Photo", roundtrip::<api::Photo>),
    ("EligibilityEligible", roundtrip::<protocol::Eligibility>),
    ("EligibilityUnderAge", roundtrip::<protocol::Eligibility>),
    ("EligibilityNotEligible", roundtrip::<protocol::Eligibility>),
    ("Eligibility", roundtrip::<protocol::Eligibility>),
    ("Person", roundtrip::<api::Person>),
    ("CodeStateNone", roundtrip::<api::CodeState>),
    ("CodeStateActive", roundtrip::<api::CodeState>),
    ("CodeStateLost", roundtrip::<api::CodeState>),
    ("CodeStateExpired", roundtrip::<api::CodeState>),
    ("CodeState", roundtrip::<api::CodeState>),
    ("OfferApply", roundtrip::<protocol::rules::Offer>),
    ("OfferReissue", roundtrip::<protocol::rules::Offer>),
    ("OfferNoneUnderAge", roundtrip::<protocol::rules::Offer>),
    ("OfferNone", roundtrip::<protocol::rules::Offer>),
    ("Offer", roundtrip::<protocol::rules::Offer>),
    ("Validity", roundtrip::<api::Validity>),
    ("IdentifyResponse", roundtrip::<api::IdentifyResponse>),
    ("Action", roundtrip::<api::Action>),
    ("IssueRequest", roundtrip::<api::IssueRequest>),
    ("IssuedCode", roundtrip::<api::IssuedCode>),
    ("PrintedRequest", roundtrip::<api::PrintedRequest>),
    ("PrintFailure", roundtrip::<api::PrintFailure>),
    ("PrintFailedRequest", roundtrip::<api::PrintFailedRequest>),
    ("Ack", roundtrip::<api::Ack>),
    ("DeviceKind", roundtrip::<api::DeviceKind>),
    ("DeviceState", roundtrip::<api::DeviceState>),
    ("PaperState", roundtrip::<api::PaperState>),
    ("DeviceReport", roundtrip::<api::DeviceReport>),
    ("HeartbeatRequest", roundtrip::<api::HeartbeatRequest>),
    ("HeartbeatResponse", roundtrip::<api::HeartbeatResponse>),
    ("JournalKind", roundtrip::<api::JournalKind>),
    ("JournalEvent", roundtrip::<api::JournalEvent>),
    ("JournalBatch", roundtrip::<api::JournalBatch>),
    ("JournalAck", roundtrip::<api::JournalAck>),
    ("ServiceHours", roundtrip::<api::ServiceHours>),
    ("StaffEntry", roundtrip::<api::StaffEntry>),
    ("KioskConfig", roundtrip::<api::KioskConfig>),
    ("KeyEntry", roundtrip::<api::KeyEntry>),
    ("KeysResponse", roundtrip::<api::KeysResponse>),
    ("VerifyRequest", roundtrip::<api::VerifyRequest>),
    ("VerifyResult", roundtrip::<api::VerifyResult>),
    ("Holder", roundtrip::<api::Holder>),
    ("VerifyResponse", roundtrip::<api::VerifyResponse>),
    ("ReportLostRequest", roundtrip::<api::ReportLostRequest>),
    ("ReportLostResponse", roundtrip::<api::ReportLostResponse>),
    ("KioskListing", roundtrip::<api::KioskListing>),
    ("KioskDirectory", roundtrip::<api::KioskDirectory>),
    ("VenueScanRequest", roundtrip::<api::VenueScanRequest>),
    ("VenueScanResponse", roundtrip::<api::VenueScanResponse>),
    ("OpenApiDocument", roundtrip::<Value>),
    ("Health", roundtrip::<central::http::Health>),
];

/// Schemas that need no example: the document itself.
const WITHOUT_EXAMPLE: &[&str] = &["OpenApiDocument"];

fn type_of(schema: &str) -> Roundtrip {
    TYPES
        .iter()
        .find(|(name, _)| *name == schema)
        .map(|(_, f)| *f)
        .unwrap_or_else(|| panic!("no protocol type for schema {schema}"))
}

/// Every snapshot of `protocol/tests/snapshots` (file stem after `api__`) and the schema its
/// value (or, for arrays listed with `true`, each of its elements) has.
const SNAPSHOTS: &[(&str, &str, bool)] = &[
    ("ack", "Ack", false),
    ("code_states", "CodeState", true),
    ("error_body", "ErrorBody", false),
    ("heartbeat_request", "HeartbeatRequest", false),
    ("heartbeat_response", "HeartbeatResponse", false),
    ("identify_request_id_card", "IdentifyRequest", false),
    ("identify_request_suishen_code", "IdentifyRequest", false),
    ("identify_response_apply", "IdentifyResponse", false),
    ("identify_response_not_eligible", "IdentifyResponse", false),
    ("identify_response_reissue", "IdentifyResponse", false),
    ("issue_request", "IssueRequest", false),
    ("issued_code", "IssuedCode", false),
    ("journal_ack", "JournalAck", false),
    ("journal_batch", "JournalBatch", false),
    ("keys_response", "KeysResponse", false),
    ("kiosk_config", "KioskConfig", false),
    ("kiosk_directory", "KioskDirectory", false),
    ("print_failed_request", "PrintFailedRequest", false),
    ("printed_request", "PrintedRequest", false),
    ("report_lost_request", "ReportLostRequest", false),
    ("report_lost_response", "ReportLostResponse", false),
    ("verify_request", "VerifyRequest", false),
    ("verify_response_forged", "VerifyResponse", false),
    ("verify_response_valid", "VerifyResponse", false),
];

/// The snapshot values by schema name.
fn snapshots() -> BTreeMap<&'static str, Vec<Value>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../protocol/tests/snapshots");
    let mut on_disk = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).expect("the protocol snapshots are readable") {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name
            .strip_prefix("api__")
            .and_then(|n| n.strip_suffix(".snap"))
        {
            on_disk.insert(stem.to_owned());
        }
    }
    let listed: BTreeSet<String> = SNAPSHOTS.iter().map(|(s, _, _)| (*s).to_owned()).collect();
    assert_eq!(
        on_disk, listed,
        "SNAPSHOTS must list every API snapshot of protocol/"
    );

    let mut by_schema: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for (stem, schema, each) in SNAPSHOTS {
        let text = std::fs::read_to_string(dir.join(format!("api__{stem}.snap"))).unwrap();
        // An insta snapshot: a `---` header block, then the value.
        let body = text.splitn(3, "---\n").nth(2).expect("a snapshot header");
        let value: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{stem}: {e}"));
        let values = if *each {
            value.as_array().expect("an array snapshot").clone()
        } else {
            vec![value]
        };
        by_schema.entry(schema).or_default().extend(values);
    }
    by_schema
}

// ---------------------------------------------------------------------------------------------
// A validator for the subset of OpenAPI 3.0 schemas the document uses
// ---------------------------------------------------------------------------------------------

/// The schema keywords the validator understands; any other keyword is an error, so that the
/// document cannot grow a constraint these tests silently ignore.
const KEYWORDS: &[&str] = &[
    "$ref",
    "type",
    "required",
    "properties",
    "additionalProperties",
    "enum",
    "nullable",
    "items",
    "maxItems",
    "pattern",
    "format",
    "minimum",
    "maximum",
    "oneOf",
    "discriminator",
    "description",
    "example",
];

/// Whether `text` is exactly `len` lowercase hex characters.
fn lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// `HH:MM`, 00:00 to 23:59.
fn hh_mm(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 5
        && b[2] == b':'
        && matches!(
            (b[0], b[1]),
            (b'0' | b'1', b'0'..=b'9') | (b'2', b'0'..=b'3')
        )
        && matches!((b[3], b[4]), (b'0'..=b'5', b'0'..=b'9'))
}

/// The patterns the document uses, each with an equivalent check; `None` for any other.
fn pattern_matches(pattern: &str, text: &str) -> Option<bool> {
    Some(match pattern {
        "^[0-9a-f]{32}$" => lower_hex(text, 32),
        "^[0-9a-f]{64}$" => lower_hex(text, 64),
        "^04[0-9a-f]{128}$" => text
            .strip_prefix("04")
            .is_some_and(|rest| lower_hex(rest, 128)),
        "^([01][0-9]|2[0-3]):[0-5][0-9]$" => hh_mm(text),
        _ => return None,
    })
}

/// The formats the document uses, each with its check; `None` for any other.
fn format_matches(format: &str, text: &str) -> Option<bool> {
    Some(match format {
        "date" => Date::parse(text, format_description!("[year]-[month]-[day]")).is_ok(),
        "date-time" => OffsetDateTime::parse(text, &Rfc3339).is_ok(),
        "uuid" => {
            text.len() == 36
                && text.char_indices().all(|(i, c)| {
                    if matches!(i, 8 | 13 | 18 | 23) {
                        c == '-'
                    } else {
                        c.is_ascii_hexdigit()
                    }
                })
        }
        "byte" => STANDARD.decode(text).is_ok(),
        _ => return None,
    })
}

fn as_i128(value: &Value) -> Option<i128> {
    value
        .as_i64()
        .map(i128::from)
        .or_else(|| value.as_u64().map(i128::from))
}

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (as_i128(a), as_i128(b)) {
        return Some(x.cmp(&y));
    }
    a.as_f64()?.partial_cmp(&b.as_f64()?)
}

/// Validates values against the document's schemas. Objects are checked strictly: a key that an
/// object schema with `properties` does not declare is an error even where
/// `additionalProperties` is not `false` (answers may grow fields, but the examples and
/// snapshots mirror today's types exactly).
struct Validator<'a> {
    doc: &'a Value,
}

impl<'a> Validator<'a> {
    fn new(doc: &'a Value) -> Self {
        Self { doc }
    }

    fn resolve(&self, reference: &str) -> &'a Value {
        let pointer = reference
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("{reference}: only local references are used"));
        self.doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{reference} does not resolve"))
    }

    fn schema(&self, name: &str) -> &'a Value {
        self.resolve(&format!("{SCHEMAS}{name}"))
    }

    /// Follows `$ref`s to the schema that holds the keywords.
    fn deref(&self, mut schema: &'a Value) -> &'a Value {
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            schema = self.resolve(reference);
        }
        schema
    }

    fn errors(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        self.validate(schema, value, "$", &mut errors);
        errors
    }

    fn validate(&self, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
        let Some(keywords) = schema.as_object() else {
            errors.push(format!("{at}: the schema is not an object"));
            return;
        };
        for key in keywords.keys() {
            if !KEYWORDS.contains(&key.as_str()) {
                errors.push(format!("{at}: unsupported schema keyword {key}"));
            }
        }
        if let Some(reference) = keywords.get("$ref") {
            let reference = reference.as_str().expect("a $ref is a string");
            self.validate(self.resolve(reference), value, at, errors);
            return;
        }
        let enumeration = keywords.get("enum").and_then(Value::as_array);
        if value.is_null() {
            // OpenAPI 3.0.3: `nullable` admits null, and an enum must then list null too.
            let nullable = keywords.get("nullable") == Some(&Value::Bool(true));
            if !nullable || enumeration.is_some_and(|e| !e.contains(&Value::Null)) {
                errors.push(format!("{at}: null is not allowed"));
            }
            return;
        }
        if let Some(ty) = keywords.get("type") {
            let ok = match ty.as_str() {
                Some("object") => value.is_object(),
                Some("array") => value.is_array(),
                Some("string") => value.is_string(),
                Some("integer") => as_i128(value).is_some(),
                Some("number") => value.is_number(),
                Some("boolean") => value.is_boolean(),
                _ => {
                    errors.push(format!("{at}: unknown type {ty}"));
                    return;
                }
            };
            if !ok {
                errors.push(format!("{at}: {value} is not of type {ty}"));
                return;
            }
        }
        if let Some(values) = enumeration
            && !values.contains(value)
        {
            errors.push(format!("{at}: {value} is not one of {values:?}"));
        }
        match value {
            Value::String(text) => self.validate_string(keywords, text, at, errors),
            Value::Number(_) => {
                if let Some(min) = keywords.get("minimum")
                    && !matches!(
                        compare(value, min),
                        Some(Ordering::Greater | Ordering::Equal)
                    )
                {
                    errors.push(format!("{at}: {value} is below {min}"));
                }
                if let Some(max) = keywords.get("maximum")
                    && !matches!(compare(value, max), Some(Ordering::Less | Ordering::Equal))
                {
                    errors.push(format!("{at}: {value} is above {max}"));
                }
            }
            Value::Array(items) => {
                if let Some(max) = keywords.get("maxItems").and_then(Value::as_u64)
                    && u64::try_from(items.len()).is_ok_and(|len| len > max)
                {
                    errors.push(format!("{at}: more than {max} items"));
                }
                if let Some(item_schema) = keywords.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.validate(item_schema, item, &format!("{at}[{i}]"), errors);
                    }
                }
            }
            Value::Object(fields) => self.validate_object(keywords, fields, at, errors),
            Value::Bool(_) | Value::Null => {}
        }
        if let Some(arms) = keywords.get("oneOf").and_then(Value::as_array) {
            self.validate_one_of(keywords, arms, value, at, errors);
        }
    }

    fn validate_string(
        &self,
        keywords: &Map<String, Value>,
        text: &str,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        if let Some(pattern) = keywords.get("pattern").and_then(Value::as_str) {
            match pattern_matches(pattern, text) {
                Some(true) => {}
                Some(false) => errors.push(format!("{at}: {text:?} does not match {pattern}")),
                None => errors.push(format!("{at}: no check for pattern {pattern}")),
            }
        }
        if let Some(format) = keywords.get("format").and_then(Value::as_str) {
            match format_matches(format, text) {
                Some(true) => {}
                Some(false) => errors.push(format!("{at}: {text:?} is not a {format}")),
                None => errors.push(format!("{at}: no check for format {format}")),
            }
        }
    }

    fn validate_object(
        &self,
        keywords: &Map<String, Value>,
        fields: &Map<String, Value>,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        for name in keywords
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = name.as_str().expect("required names are strings");
            if !fields.contains_key(name) {
                errors.push(format!("{at}: missing required {name}"));
            }
        }
        let properties = keywords.get("properties").and_then(Value::as_object);
        for (name, field) in fields {
            let at = format!("{at}.{name}");
            match (
                properties.and_then(|p| p.get(name)),
                keywords.get("additionalProperties"),
            ) {
                (Some(schema), _) => self.validate(schema, field, &at, errors),
                (None, Some(Value::Bool(false))) => {
                    errors.push(format!("{at}: not allowed (additionalProperties: false)"));
                }
                (None, Some(extra)) if extra.is_object() => {
                    self.validate(extra, field, &at, errors);
                }
                (None, _) if properties.is_some() => {
                    errors.push(format!("{at}: not declared in the schema"));
                }
                (None, _) => {}
            }
        }
    }

    fn validate_one_of(
        &self,
        keywords: &Map<String, Value>,
        arms: &[Value],
        value: &Value,
        at: &str,
        errors: &mut Vec<String>,
    ) {
        let matching: Vec<&Value> = arms
            .iter()
            .filter(|arm| self.errors(arm, value).is_empty())
            .collect();
        if matching.len() != 1 {
            let mut detail = Vec::new();
            for arm in arms {
                detail.extend(self.errors(arm, value));
            }
            errors.push(format!(
                "{at}: matches {} of the oneOf schemas, not exactly one ({})",
                matching.len(),
                detail.join("; ")
            ));
            return;
        }
        if let Some(discriminator) = keywords.get("discriminator") {
            let property = discriminator["propertyName"]
                .as_str()
                .expect("a propertyName");
            let tag = value.get(property).and_then(Value::as_str);
            let target = tag.and_then(|t| discriminator["mapping"].get(t));
            if target != matching[0].get("$ref") {
                errors.push(format!(
                    "{at}: the discriminator {property}={tag:?} maps to {target:?}, but the value \
                     matches {}",
                    matching[0]
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Walking the document
// ---------------------------------------------------------------------------------------------

/// An operation: upper-case method, path, the operation object.
struct Operation<'a> {
    method: String,
    path: &'a str,
    op: &'a Value,
}

fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("a path item") {
            assert!(
                METHODS.contains(&method.as_str()),
                "{path}: unexpected key {method}"
            );
            out.push(Operation {
                method: method.to_uppercase(),
                path,
                op,
            });
        }
    }
    out
}

/// Every `$ref` in the document, with where it is.
fn references<'a>(value: &'a Value, at: &str, out: &mut Vec<(String, &'a Map<String, Value>)>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(_)) = map.get("$ref") {
                out.push((at.to_owned(), map));
            }
            for (key, child) in map {
                references(child, &format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                references(child, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// The schema of an operation's JSON request body, if it takes one.
fn request_schema(op: &Value) -> Option<&Value> {
    op.get("requestBody")
        .map(|body| &body["content"]["application/json"]["schema"])
}

/// The schema of an operation's 200 answer.
fn response_schema(op: &Value) -> &Value {
    &op["responses"]["200"]["content"]["application/json"]["schema"]
}

/// The component name a `{"$ref": "#/components/schemas/X"}` points at.
fn schema_name(schema: &Value) -> &str {
    schema["$ref"]
        .as_str()
        .and_then(|r| r.strip_prefix(SCHEMAS))
        .unwrap_or_else(|| panic!("{schema} is not a reference to a component schema"))
}

/// Every schema reachable from `schema`, with the component names met on the way.
fn reachable<'a>(
    validator: &Validator<'a>,
    schema: &'a Value,
    at: &str,
    names: &mut BTreeSet<String>,
    out: &mut Vec<(String, &'a Value)>,
) {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference
            .strip_prefix(SCHEMAS)
            .expect("a component schema")
            .to_owned();
        if names.insert(name.clone()) {
            reachable(validator, validator.resolve(reference), &name, names, out);
        }
        return;
    }
    out.push((at.to_owned(), schema));
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, child) in properties {
            reachable(validator, child, &format!("{at}.{name}"), names, out);
        }
    }
    if let Some(items) = schema.get("items") {
        reachable(validator, items, &format!("{at}[]"), names, out);
    }
    if let Some(extra) = schema.get("additionalProperties").filter(|e| e.is_object()) {
        reachable(validator, extra, &format!("{at}.*"), names, out);
    }
    for arm in schema
        .get("oneOf")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        reachable(validator, arm, at, names, out);
    }
}

/// What reaches the request bodies and what the 200 answers: (schemas, component names).
type Side<'a> = (Vec<(String, &'a Value)>, BTreeSet<String>);

fn sides<'a>(validator: &Validator<'a>, doc: &'a Value) -> (Side<'a>, Side<'a>) {
    let (mut requests, mut responses) =
        ((Vec::new(), BTreeSet::new()), (Vec::new(), BTreeSet::new()));
    for Operation { op, .. } in operations(doc) {
        if let Some(schema) = request_schema(op) {
            reachable(
                validator,
                schema,
                "request",
                &mut requests.1,
                &mut requests.0,
            );
        }
        reachable(
            validator,
            response_schema(op),
            "response",
            &mut responses.1,
            &mut responses.0,
        );
    }
    (requests, responses)
}

fn string_set<'a>(values: impl IntoIterator<Item = &'a Value>) -> BTreeSet<String> {
    values
        .into_iter()
        .map(|v| v.as_str().expect("a string").to_owned())
        .collect()
}

fn is_nullable(validator: &Validator<'_>, schema: &Value) -> bool {
    validator.deref(schema).get("nullable") == Some(&Value::Bool(true))
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn the_document_is_openapi_3_0_3() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.0.3");
    assert!(doc["info"]["title"].is_string());
    assert!(doc["info"]["version"].is_string());
    assert!(!doc["paths"].as_object().expect("paths").is_empty());
    assert!(
        !doc["components"]["schemas"]
            .as_object()
            .expect("schemas")
            .is_empty()
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["bearerAuth"],
        json!({
            "type": "http",
            "scheme": "bearer",
            "description": doc["components"]["securitySchemes"]["bearerAuth"]["description"],
        })
    );
    // `mutualTLS` is an OpenAPI 3.1 scheme type: 3.0.3 describes it in words and extensions.
    assert!(!DOCUMENT.contains("\"mutualTLS\""));
    assert!(
        doc["info"]["description"]
            .as_str()
            .unwrap()
            .contains("x-mutual-tls")
    );

    let mut ids = BTreeSet::new();
    for Operation { method, path, op } in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no id"));
        assert!(ids.insert(id.to_owned()), "operationId {id} is used twice");
        assert!(op["summary"].is_string(), "{method} {path}: no summary");
        assert!(
            op["responses"]["200"]["description"].is_string(),
            "{method} {path}"
        );
        if let Some(body) = op.get("requestBody") {
            assert_eq!(
                body["required"], true,
                "{method} {path}: the body is required"
            );
            let content = body["content"].as_object().unwrap();
            assert_eq!(content.keys().collect::<Vec<_>>(), ["application/json"]);
        }
        // Path parameters are declared, required, and typed.
        let placeholders: BTreeSet<&str> = path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let parameters: BTreeSet<&str> = op
            .get("parameters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|p| {
                assert_eq!(
                    p["in"], "path",
                    "{method} {path}: only path parameters are used"
                );
                assert_eq!(p["required"], true, "{method} {path}");
                p["name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(placeholders, parameters, "{method} {path}: path parameters");
    }
}

#[test]
fn every_reference_resolves_and_every_schema_is_used() {
    let doc = document();
    let validator = Validator::new(&doc);
    let mut refs = Vec::new();
    references(&doc, "#", &mut refs);
    assert!(!refs.is_empty());
    let mut used = BTreeSet::new();
    for (at, map) in &refs {
        let reference = map["$ref"].as_str().unwrap();
        assert!(
            reference.starts_with("#/components/"),
            "{at}: {reference} is not local"
        );
        validator.resolve(reference);
        // Siblings of `$ref` are ignored by OpenAPI 3.0: none may carry meaning.
        assert_eq!(
            map.len(),
            1,
            "{at}: $ref with siblings {:?}",
            map.keys().collect::<Vec<_>>()
        );
        used.insert(reference.to_owned());
    }
    // Discriminator mappings are references too.
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        if let Some(discriminator) = schema.get("discriminator") {
            let arms: BTreeSet<String> = schema["oneOf"]
                .as_array()
                .unwrap()
                .iter()
                .map(|arm| arm["$ref"].as_str().unwrap().to_owned())
                .collect();
            let mapped = string_set(discriminator["mapping"].as_object().unwrap().values());
            assert_eq!(
                arms, mapped,
                "{name}: the discriminator maps every arm, and only those"
            );
            let property = discriminator["propertyName"].as_str().unwrap();
            for (tag, target) in discriminator["mapping"].as_object().unwrap() {
                let arm = validator.resolve(target.as_str().unwrap());
                assert_eq!(
                    arm["properties"][property]["enum"],
                    json!([tag]),
                    "{name}: {tag}"
                );
            }
        }
    }
    for section in ["schemas", "responses"] {
        for name in doc["components"][section].as_object().unwrap().keys() {
            let reference = format!("#/components/{section}/{name}");
            assert!(used.contains(&reference), "{reference} is never used");
        }
    }
}

#[test]
fn every_schema_mirrors_a_protocol_type_and_its_example_is_a_value_of_it() {
    let doc = document();
    let validator = Validator::new(&doc);
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let documented: BTreeSet<&str> = schemas.keys().map(String::as_str).collect();
    let typed: BTreeSet<&str> = TYPES.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        documented, typed,
        "TYPES must name every component schema, and only those"
    );

    for (name, schema) in schemas {
        let Some(example) = schema.get("example") else {
            assert!(
                WITHOUT_EXAMPLE.contains(&name.as_str()),
                "schema {name} has no example"
            );
            continue;
        };
        let written = type_of(name)(example)
            .unwrap_or_else(|e| panic!("the example of {name} is not a value of its type: {e}"));
        assert_eq!(
            &written, example,
            "the example of {name} is not in its serialized form"
        );
        let errors = validator.errors(schema, example);
        assert!(
            errors.is_empty(),
            "the example of {name} is not valid: {errors:#?}"
        );
    }

    // The named examples of request and response bodies.
    for Operation { method, path, op } in operations(&doc) {
        let bodies = request_schema(op).map(|_| &op["requestBody"]["content"]["application/json"]);
        for media in bodies
            .into_iter()
            .chain([&op["responses"]["200"]["content"]["application/json"]])
        {
            let name = schema_name(&media["schema"]);
            assert!(
                WITHOUT_EXAMPLE.contains(&name) || schemas[name].get("example").is_some(),
                "{method} {path}: {name} has no example"
            );
            for (key, example) in media
                .get("examples")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let value = &example["value"];
                let written = type_of(name)(value).unwrap_or_else(|e| {
                    panic!("{method} {path}: example {key} is not a {name}: {e}")
                });
                assert_eq!(
                    &written, value,
                    "{method} {path}: example {key} is not canonical"
                );
                let errors = validator.errors(&media["schema"], value);
                assert!(
                    errors.is_empty(),
                    "{method} {path}: example {key}: {errors:#?}"
                );
            }
        }
    }
}

#[test]
fn every_protocol_snapshot_is_valid_against_its_schema() {
    let doc = document();
    let validator = Validator::new(&doc);
    let snapshots = snapshots();
    for (name, values) in &snapshots {
        let schema = validator.schema(name);
        for value in values {
            let errors = validator.errors(schema, value);
            assert!(
                errors.is_empty(),
                "a {name} snapshot is not valid: {errors:#?}"
            );
            let written = type_of(name)(value).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(&written, value, "a {name} snapshot does not round-trip");
        }
        // The schema's example is one of the snapshots, not a copy that could drift.
        if let Some(example) = schema.get("example") {
            assert!(
                values.contains(example),
                "the example of {name} is none of its snapshots"
            );
        }
    }
    // Every operation's named examples are snapshots too.
    for Operation { method, path, op } in operations(&doc) {
        let bodies = request_schema(op).map(|_| &op["requestBody"]["content"]["application/json"]);
        for media in bodies
            .into_iter()
            .chain([&op["responses"]["200"]["content"]["application/json"]])
        {
            let name = schema_name(&media["schema"]);
            for (key, example) in media
                .get("examples")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let known = snapshots
                    .get(name)
                    .is_some_and(|v| v.contains(&example["value"]));
                assert!(
                    known,
                    "{method} {path}: example {key} is not a {name} snapshot"
                );
            }
        }
    }

    // The validator is not vacuous: broken values are refused.
    let broken = [
        ("VerifyResponse", json!({"result": "valid"})),
        ("VerifyResponse", {
            let mut v = snapshots["VerifyResponse"][0].clone();
            v["result"] = json!("fine");
            v
        }),
        (
            "IdentifyRequest",
            json!({"id_card": {}, "suishen_code": "x"}),
        ),
        ("IdentifyRequest", json!({"suishen_code": "x", "extra": 1})),
        ("Offer", json!({"action": "none", "reason": "under_age"})),
        (
            "CodeState",
            json!({"state": "lost", "code_id": "00", "serial": 1, "lost_on": "2025-01-01"}),
        ),
        ("IssuedCode", {
            let mut v = snapshots["IssuedCode"][0].clone();
            v["kid"] = json!(256);
            v
        }),
        ("KioskListing", {
            let mut v = snapshots["KioskDirectory"][0]["kiosks"][0].clone();
            v["surprise"] = json!(true);
            v
        }),
        (
            "ServiceHours",
            json!({"weekday": 8, "opens": "09:00", "closes": "17:00"}),
        ),
        (
            "PrintedRequest",
            json!({"request_id": "nope", "printed_at": "2025-03-14T09:27:41+08:00"}),
        ),
        ("Person", {
            let mut v = snapshots["IdentifyResponse"][0]["person"].clone();
            v["age"] = Value::Null;
            v
        }),
    ];
    for (name, value) in broken {
        assert!(
            !validator.errors(validator.schema(name), &value).is_empty(),
            "{name}: {value} should not be valid"
        );
    }
}

#[test]
fn required_and_nullable_follow_the_types() {
    let doc = document();
    let validator = Validator::new(&doc);
    let ((request_schemas, request_names), (response_schemas, response_names)) =
        sides(&validator, &doc);

    // Request bodies are closed (`deny_unknown_fields`); an `Option` field may be left out.
    for (at, schema) in &request_schemas {
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        assert_eq!(
            schema["additionalProperties"], false,
            "{at}: request objects are closed"
        );
        let required = string_set(schema["required"].as_array().unwrap());
        let non_null: BTreeSet<String> = properties
            .iter()
            .filter(|(_, p)| !is_nullable(&validator, p))
            .map(|(k, _)| k.clone())
            .collect();
        assert_eq!(
            required, non_null,
            "{at}: exactly the non-nullable fields are required"
        );
    }
    // Answers are open (older kiosks keep reading newer answers); every field is always written.
    for (at, schema) in &response_schemas {
        let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
            continue;
        };
        assert!(
            schema.get("additionalProperties").is_none(),
            "{at}: answers are not closed"
        );
        let required = string_set(schema["required"].as_array().unwrap());
        let all: BTreeSet<String> = properties.keys().cloned().collect();
        assert_eq!(
            required, all,
            "{at}: every field of an answer is always written"
        );
    }

    // The same, checked against the types by mutating the examples.
    for name in request_names.iter().chain(&response_names) {
        let schema = validator.schema(name);
        let (Some(properties), Some(example)) = (
            schema.get("properties").and_then(Value::as_object),
            schema.get("example"),
        ) else {
            continue;
        };
        let read = type_of(name);
        let is_request = request_names.contains(name);
        let required = string_set(schema["required"].as_array().unwrap());
        for (field, property) in properties {
            let mut nulled = example.clone();
            nulled[field] = Value::Null;
            assert_eq!(
                read(&nulled).is_ok(),
                is_nullable(&validator, property),
                "{name}.{field}: nullable in the schema exactly when the type takes null"
            );
            if is_request {
                let mut without = example.clone();
                without.as_object_mut().unwrap().remove(field);
                assert_eq!(
                    read(&without).is_err(),
                    required.contains(field),
                    "{name}.{field}: required in the schema exactly when the type requires it"
                );
            }
        }
        let mut extended = example.clone();
        extended["unexpected_field"] = json!(1);
        assert_eq!(
            read(&extended).is_err(),
            is_request,
            "{name}: unknown fields are refused in requests and tolerated in answers"
        );
    }
    assert!(request_names.contains("IdCardFields") && response_names.contains("Person"));
}

#[test]
fn patterns_agree_with_the_types() {
    let doc = document();
    let validator = Validator::new(&doc);
    let code_id = validator.schema("CodeId");
    for text in [
        "3f2a9c417be04d58a1c6e2f09b7d3e15",
        "3F2A9C417BE04D58A1C6E2F09B7D3E15",
        "3f2a9c417be04d58a1c6e2f09b7d3e1",
        "3f2a9c417be04d58a1c6e2f09b7d3e155",
        "3f2a9c417be04d58a1c6e2f09b7d3e1g",
        "",
    ] {
        assert_eq!(
            validator.errors(code_id, &json!(text)).is_empty(),
            api::CodeId::parse(text).is_ok(),
            "code id {text:?}"
        );
    }
    let hours = validator.schema("ServiceHours");
    for opens in [
        "00:00", "09:00", "23:59", "24:00", "9:00", "09:60", "0900", "09:00:00",
    ] {
        let value = json!({"weekday": 1, "opens": opens, "closes": "17:00"});
        assert_eq!(
            validator.errors(hours, &value).is_empty(),
            serde_json::from_value::<api::ServiceHours>(value.clone()).is_ok(),
            "opening time {opens:?}"
        );
    }
    for weekday in [0, 1, 7, 8] {
        let value = json!({"weekday": weekday, "opens": "09:00", "closes": "17:00"});
        assert_eq!(
            validator.errors(hours, &value).is_empty(),
            serde_json::from_value::<api::ServiceHours>(value.clone()).is_ok(),
            "weekday {weekday}"
        );
    }
    let key = validator.schema("KeyEntry");
    assert_eq!(key["properties"]["alg"]["enum"], json!([api::ALG_SM2_SM3]));
    let batch = validator.schema("JournalBatch");
    assert_eq!(
        batch["properties"]["events"]["maxItems"],
        json!(api::MAX_JOURNAL_BATCH)
    );
}

#[test]
fn error_answers_follow_the_error_codes() {
    let doc = document();
    let validator = Validator::new(&doc);
    let listed = string_set(
        validator.schema("ErrorBody")["properties"]["error"]["enum"]
            .as_array()
            .unwrap(),
    );
    let codes: BTreeSet<String> = ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    assert_eq!(
        listed, codes,
        "ErrorBody lists every ErrorCode, and only those"
    );
    for code in ErrorCode::ALL {
        let body = json!({"error": code.as_str(), "message": "m"});
        assert_eq!(
            serde_json::from_value::<ErrorCode>(body["error"].clone()).unwrap(),
            code
        );
        assert!(
            validator
                .errors(validator.schema("ErrorBody"), &body)
                .is_empty()
        );
    }

    let by_name: BTreeMap<&str, ErrorCode> =
        ErrorCode::ALL.iter().map(|c| (c.as_str(), *c)).collect();
    let mut documented: BTreeSet<&str> = BTreeSet::new();
    for Operation { method, path, op } in operations(&doc) {
        let responses = op["responses"].as_object().unwrap();
        for (status, response) in responses {
            if status == "200" {
                continue;
            }
            let status: u16 = status
                .parse()
                .unwrap_or_else(|_| panic!("{method} {path}: {status}"));
            let response = validator.deref(response);
            // The health check's 503 is its own answer (a load balancer reads the status).
            if path == central::http::HEALTH_PATH && status == 503 {
                assert_eq!(
                    response["content"]["application/json"]["schema"],
                    json!({"$ref": format!("{SCHEMAS}Health")}),
                    "{method} {path} 503 is a Health"
                );
                continue;
            }
            assert_eq!(
                response["content"]["application/json"]["schema"],
                json!({"$ref": format!("{SCHEMAS}ErrorBody")}),
                "{method} {path} {status}: errors are ErrorBody"
            );
            // Every code the description names (in backticks) has this status; it names one.
            let description = response["description"].as_str().unwrap();
            let named: Vec<ErrorCode> = description
                .split('`')
                .skip(1)
                .step_by(2)
                .filter_map(|word| by_name.get(word).copied())
                .collect();
            assert!(
                !named.is_empty(),
                "{method} {path} {status}: which error codes?"
            );
            for code in named {
                assert_eq!(
                    code.status(),
                    status,
                    "{method} {path}: {code} is not a {status}"
                );
                documented.insert(code.as_str());
            }
        }
        assert!(responses.contains_key("200"), "{method} {path}: no 200");
        let needed: &[&str] = match (op.get("requestBody").is_some(), path) {
            (_, p) if p.starts_with("/v1/kiosk/") => &["401", "403"],
            (_, p) if p == routes::VERIFY || p == routes::REPORT_LOST => &["401", "403"],
            _ => &[],
        };
        let body: &[&str] = if op.get("requestBody").is_some() {
            &["400", "413", "415", "422"]
        } else {
            &[]
        };
        for status in needed.iter().chain(body).chain(&["429", "503"]) {
            assert!(
                responses.contains_key(*status),
                "{method} {path}: no {status} answer"
            );
        }
    }
    // Every code the service answers with is documented somewhere, except the router's own
    // 405 (no documented method gets it) and 500 (a bug is not part of the contract).
    for code in ErrorCode::ALL {
        if !matches!(code, ErrorCode::MethodNotAllowed | ErrorCode::Internal) {
            assert!(
                documented.contains(code.as_str()),
                "no operation documents {code}"
            );
        }
    }
}

#[test]
fn authentication_is_declared_per_operation() {
    let doc = document();
    for Operation { method, path, op } in operations(&doc) {
        if path.starts_with("/v1/kiosk/") {
            assert_eq!(
                op["x-mutual-tls"], true,
                "{method} {path}: kiosk routes need mutual TLS"
            );
            assert!(op.get("security").is_none(), "{method} {path}");
        } else if path == routes::VERIFY || path == routes::REPORT_LOST {
            assert_eq!(
                op["security"],
                json!([{"bearerAuth": []}]),
                "{method} {path}"
            );
            assert!(op.get("x-mutual-tls").is_none(), "{method} {path}");
        } else {
            assert_eq!(op["security"], json!([]), "{method} {path}: public");
            assert!(op.get("x-mutual-tls").is_none(), "{method} {path}");
        }
    }
}

#[test]
fn every_protocol_route_is_documented() {
    let doc = document();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .iter()
        .map(|o| (o.method.clone(), o.path.to_owned()))
        .collect();
    let protocol_routes = [
        ("POST", routes::IDENTIFY),
        ("POST", routes::CODES),
        ("POST", routes::CODE_PRINTED),
        ("POST", routes::CODE_PRINT_FAILED),
        ("POST", routes::HEARTBEAT),
        ("POST", routes::JOURNAL),
        ("GET", routes::CONFIG),
        ("GET", routes::KEYS),
        ("POST", routes::VERIFY),
        ("POST", routes::REPORT_LOST),
        ("GET", routes::KIOSKS),
        ("POST", routes::VENUE_SCANS),
    ];
    for (method, path) in protocol_routes {
        assert!(
            documented.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is not documented"
        );
    }
}

#[test]
fn the_routes_are_exactly_the_routers() {
    let doc = document();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .iter()
        .map(|o| (o.method.clone(), o.path.to_owned()))
        .collect();
    let served: BTreeSet<(String, String)> = central::http::API_ROUTES
        .iter()
        .map(|(method, path)| ((*method).to_owned(), (*path).to_owned()))
        .collect();
    assert_eq!(
        documented, served,
        "the document lists exactly the router's routes"
    );
    assert_eq!(
        central::http::OPENAPI_JSON,
        DOCUMENT,
        "the served document is this one"
    );
}
