use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{Backend, PASSWORD, TestApp, location},
    on_both_backends,
};

on_both_backends!(
    healthz_answers_ok_while_the_database_answers,
    healthz_answers_503_when_the_database_is_gone,
    every_response_carries_a_request_id,
    the_server_stops_gracefully_and_restarts_on_the_same_data,
);

async fn healthz_answers_ok_while_the_database_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.json::<serde_json::Value>().await.unwrap(),
        json!({"status": "ok"})
    );
}

async fn healthz_answers_503_when_the_database_is_gone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.db.close().await;

    let response = app.get("/healthz").await;

    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["error"]["code"], "database_unavailable");
}

async fn every_response_carries_a_request_id(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let generated = app.get("/healthz").await;
    let propagated = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "req-123")
        .send()
        .await
        .unwrap();

    assert!(!generated.headers()["x-request-id"].is_empty());
    assert_eq!(propagated.headers()["x-request-id"], "req-123");
}

async fn the_server_stops_gracefully_and_restarts_on_the_same_data(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.sign_up("ann@example.com").await;
    let old_addr = app.addr;

    let app = app.restart().await;

    assert!(
        reqwest::get(format!("http://{old_addr}/healthz"))
            .await
            .is_err()
    );
    let response = app.sign_in("ann@example.com", PASSWORD).await;
    assert_eq!(location(&response), "/streams");
}
