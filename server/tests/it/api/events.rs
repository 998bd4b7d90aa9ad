//! Events: a Transactional or OTP stream's templates filled per recipient.

use app::streams::{StreamKind, settings::EventInput, settings_store};
use reqwest::StatusCode;
use serde_json::json;

use super::*;
use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
};

on_both_backends!(events_render_their_templates_per_recipient,);

async fn events_render_their_templates_per_recipient(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { account, id, token } =
        stream_with(&app, StreamKind::SmsTransactional, sms("Orders")).await;
    settings_store::save_event(
        &app.db,
        &account,
        &id,
        None,
        EventInput {
            key: "order_shipped".into(),
            body: "Hi {{name}}, order {{order}} has shipped.".into(),
            sender: Some("AcmeOrders".into()),
            active: true,
        },
    )
    .await
    .unwrap();

    let (status, body) = call(
        &app,
        "/event_send/",
        &token,
        json!({ "event": "order_shipped", "recipients": [
            { "internal_id": "e-1", "recipient_phone": "+447700900123", "template_variables": { "name": "Ann", "order": 1001 } },
            { "internal_id": "e-2", "recipient_phone": "+447700900124", "template_variables": { "name": "Bob" } },
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["messages"][0]["status"], "queued");
    assert_eq!(body["messages"][1]["error"]["code"], "missing_variable");
    let (content, sender): (String, String) =
        sqlx::query_as("select content, sender from messages where internal_id = 'e-1'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(content, "Hi Ann, order 1001 has shipped.");
    assert_eq!(sender, "AcmeOrders");

    let (status, body) = call(
        &app,
        "/event_send/",
        &token,
        json!({ "event": "nope", "recipients": [] }),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("event_not_found"))
    );
}
