//! `GET /healthz`, what a load balancer in front of several instances asks: 200 with the backend
//! and the schema version while the database answers with the schema this build writes, 503 with
//! the reason otherwise (a newer schema, on either backend; a PostgreSQL database that is gone),
//! never cached, no authentication.
#![allow(
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

mod common;

use common::backend::{PgDatabase, Raw, admin_url_if_available, off_runtime};
use common::{Service, get};
use serde_json::json;

/// `GET /healthz` with no credentials: (status, Cache-Control, body).
async fn health(service: &Service) -> (u16, String, serde_json::Value) {
    let response = service
        .anonymous()
        .get(service.url("/healthz"))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let cache = response
        .headers()
        .get("cache-control")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, cache, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_instance_answers_ok_with_its_backend_and_schema() {
    let service = Service::start().await;
    let (status, cache, body) = health(&service).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(cache, "no-store");
    assert_eq!(
        body,
        json!({
            "status": "ok",
            "backend": service.data.backend(),
            "schema_version": 3,
            "reason": null,
        })
    );
    // A POST is not a health check.
    let response = service
        .anonymous()
        .post(service.url("/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_with_a_newer_schema_makes_the_instance_unavailable() {
    let service = Service::start().await;
    let raw = Raw::new(&service.test_data);
    raw.execute(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (4, 'future', 'x')",
        &[],
    );
    let (status, cache, body) = health(&service).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(cache, "no-store");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["backend"], service.data.backend());
    assert_eq!(body["schema_version"], 4);
    assert_eq!(
        body["reason"],
        "the database has schema version 4; this build writes 3"
    );

    // Back to the schema it writes: available again, no restart needed.
    raw.execute("DELETE FROM schema_migrations WHERE version = 4", &[]);
    let (status, _, body) = health(&service).await;
    assert_eq!((status, &body["status"]), (200, &json!("ok")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_whose_postgres_database_is_gone_is_unavailable() {
    let Some(admin) =
        admin_url_if_available("an_instance_whose_postgres_database_is_gone_is_unavailable")
    else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let database = PgDatabase::create_on(&admin);
    let data = central::server::DataDir::new(dir.path().join("data"))
        .with_database(&database.url)
        .unwrap();
    let test_data = common::backend::TestData {
        data,
        database: Some(database),
    };
    let service = Service::start_on(dir, test_data).await;
    let (status, _, body) = health(&service).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["backend"], "postgres");

    // The database disappears under the running service (its connections are cut).
    let name = service
        .test_data
        .database_url()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    off_runtime(|| {
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        client
            .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .unwrap();
    });
    let (status, cache, body) = health(&service).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(cache, "no-store");
    assert_eq!(
        body,
        json!({
            "status": "unavailable",
            "backend": "postgres",
            "schema_version": null,
            "reason": "the database does not answer",
        })
    );
    // The rest of the API says so too (retry later, or elsewhere), without details.
    let (status, body) = get(&service.anonymous(), &service.url("/v1/kiosks")).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"], "unavailable");
    assert!(!body.to_string().contains("does not exist"), "{body}");
}
