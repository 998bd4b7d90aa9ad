use reqwest::StatusCode;
use serde_json::json;

use crate::{
    api::{sms, stream_with},
    helpers::{Backend, PASSWORD, TestApp, TestDatabase, location, metric, parse_metrics},
    on_both_backends,
};

on_both_backends!(
    healthz_answers_ok_while_the_database_answers,
    healthz_answers_503_when_the_database_is_gone,
    every_response_carries_a_request_id,
    the_server_stops_gracefully_and_restarts_on_the_same_data,
    metrics_are_served_to_their_scraper_only_and_parse_as_openmetrics,
    without_a_token_metrics_are_served_only_on_their_own_address,
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

async fn metrics_are_served_to_their_scraper_only_and_parse_as_openmetrics(backend: Backend) {
    let app = TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.metrics.token = Some(sluice::config::Redacted("scrape-me".into()));
    })
    .await;
    let anonymous = app.get("/metrics").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let guessed = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-you")
        .send()
        .await
        .unwrap();
    assert_eq!(guessed.status(), StatusCode::UNAUTHORIZED);

    let stream = stream_with(&app, app::streams::StreamKind::SmsMarketing, sms("Counted")).await;
    let (status, _) = app.send_sms(&stream.token, &[("m-1", "Counted")]).await;
    assert_eq!(status, StatusCode::OK);
    app.status_becomes(&stream.token, "m-1", "delivered").await;

    let response = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"),
    );
    let text = response.text().await.unwrap();
    let samples = parse_metrics(&text);
    assert!(samples.iter().all(|s| s.family.starts_with("sluice_")));
    // Every metric the Grafana dashboard charts is one this server exposes.
    let dashboard = include_str!("../../../grafana-dashboard.json");
    let charted: std::collections::BTreeSet<&str> = dashboard
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.starts_with("sluice_"))
        .map(|word| {
            ["_bucket", "_total", "_count", "_sum"]
                .iter()
                .find_map(|suffix| word.strip_suffix(suffix))
                .unwrap_or(word)
        })
        .collect();
    assert!(charted.len() >= 10, "{charted:?}");
    for family in charted {
        assert!(
            text.contains(&format!("# TYPE {family} ")),
            "the dashboard charts {family}, which /metrics lacks"
        );
    }
    let demo = [("channel", "demo"), ("stream_type", "sms_marketing")];
    assert_eq!(
        metric(&samples, "sluice_messages_accepted_total", &demo),
        1.0
    );
    let delivered = [("status", "delivered"), ("channel", "demo")];
    assert_eq!(
        metric(&samples, "sluice_message_steps_total", &delivered),
        1.0
    );
    let send = [("route", "/simple_send/"), ("method", "POST")];
    assert_eq!(
        metric(
            &samples,
            "sluice_http_request_duration_seconds_count",
            &send
        ),
        1.0
    );
    // Routes by their pattern: a status look-up is one series, whatever it asked for.
    assert!(
        samples
            .iter()
            .filter(|s| s.family == "sluice_http_request_duration_seconds")
            .all(|s| !s.labels["route"].contains("m-1")),
    );
    assert_eq!(metric(&samples, "sluice_queue_depth", &[]), 0.0);
    let kinds: std::collections::HashMap<&str, &str> = samples
        .iter()
        .map(|s| (s.family.as_str(), s.kind.as_str()))
        .collect();
    assert_eq!(kinds["sluice_messages_accepted"], "counter");
    assert_eq!(kinds["sluice_http_request_duration_seconds"], "histogram");
    assert_eq!(kinds["sluice_queue_oldest_due_age_seconds"], "gauge");
}

async fn without_a_token_metrics_are_served_only_on_their_own_address(backend: Backend) {
    let app = TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.metrics.addr = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::NOT_FOUND);
    let own = app.metrics_addr.unwrap();
    let scraped = app
        .client
        .get(format!("http://{own}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    let samples = parse_metrics(&scraped.text().await.unwrap());
    assert!(samples.iter().any(|s| s.family == "sluice_webhook_backlog"));
    let ready = app
        .client
        .get(format!("http://{own}/readyz"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    // The console and the API are not on it.
    let other = app
        .client
        .get(format!("http://{own}/streams"))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
}
