//! The public Streams API against a real server, on both backends, by what each test proves.

mod accepting;
mod described;
mod events;
mod gating;
mod idempotency;
mod inbox;
mod opt_outs;
mod otp;
mod outcomes;
mod pacing;
mod whatsapp;

use app::ids::AccountId;
use app::{
    db::Db,
    streams::{StreamInput, StreamKind},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{TestApp, TestStream},
    streams::account,
};

/// A stream of `kind` with `input`, and its token.
pub async fn stream_with(app: &TestApp, kind: StreamKind, input: StreamInput) -> TestStream {
    let account = account(&app.db, "ann@acme.io").await;
    app.create_stream(&account, kind, &input).await
}

pub fn sms(name: &str) -> StreamInput {
    StreamInput {
        name: name.into(),
        default_sender: Some("AcmeShop".into()),
        ..StreamInput::default()
    }
}

pub async fn call(app: &TestApp, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url(path))
        .header("authorization", format!("Bearer {token}"))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn message(internal_id: &str, phone: &str, text: &str) -> Value {
    json!({ "internal_id": internal_id, "recipient_phone": phone, "message_content": text })
}

/// Settles the server and answers the asked messages, every one of them final.
async fn settled(app: &TestApp, token: &str, internal_ids: &[&str]) -> Vec<Value> {
    app.settle().await;
    let response = app
        .client
        .get(app.url(&format!("/status?internal_ids={}", internal_ids.join(","))))
        .header("authorization", token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let messages = body["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), internal_ids.len(), "{body}");
    for message in &messages {
        let status = message["status"].as_str();
        assert!(
            !matches!(status, Some("queued" | "sent")),
            "not final: {message}"
        );
    }
    messages
}

async fn count_messages(db: &Db) -> i64 {
    sqlx::query_scalar("select count(*) from messages")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

/// Another stream of the same account.
async fn stream_with_account(app: &TestApp, account: &AccountId, kind: StreamKind) -> TestStream {
    app.create_stream(account, kind, &sms("Another")).await
}
