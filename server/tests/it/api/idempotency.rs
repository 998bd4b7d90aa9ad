//! `Idempotency-Key` on the API's POSTs: the first answer again for the same request, 422 for
//! another, 409 while the first runs, per stream, for a day; refused requests keep nothing.

use app::db::now_ms;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::{
    helpers::{Backend, TestApp, TestStream},
    on_both_backends,
};

on_both_backends!(
    the_same_key_and_request_answer_the_first_answer_and_send_once,
    a_key_is_the_streams_and_a_refused_request_keeps_nothing,
    a_running_request_holds_its_key_until_it_answers_or_dies,
    keys_last_a_day_and_are_pruned_after,
);

/// POSTs `body` to `path` with the stream's token and, when given, `key`.
async fn post(
    app: &TestApp,
    path: &str,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let mut request = app
        .client
        .post(app.url(path))
        .header("authorization", token)
        .json(body);
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

fn send(text: &str) -> Value {
    json!({ "messages": [{ "recipient_phone": "+447700900123", "message_content": text }] })
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

async fn the_same_key_and_request_answer_the_first_answer_and_send_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { token, .. } = stream_with(&app, StreamKind::SmsOtp, sms("Logins")).await;

    let (status, headers, first) =
        post(&app, "/simple_send/", &token, Some("k-1"), &send("Hi")).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert!(headers.get("idempotent-replayed").is_none());
    // The same request again, with or without the trailing slash: the first answer.
    let (status, headers, again) =
        post(&app, "/simple_send", &token, Some("k-1"), &send("Hi")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(again, first);
    assert_eq!(count_messages(&app.db).await, 1);

    // Another request under the same key.
    let (status, _, other) = post(&app, "/simple_send/", &token, Some("k-1"), &send("Bye")).await;
    assert_eq!(
        (status, code(&other)),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
    // Without a key, the same body is a new message.
    let (status, _, _) = post(&app, "/simple_send/", &token, None, &send("Hi")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(count_messages(&app.db).await, 2);

    // One code per key: the replay names the same otp_id, and no second text is queued.
    let otp = json!({ "recipient_phone": "+447700900124" });
    let (status, _, issued) = post(&app, "/otp/auth", &token, Some("login-7"), &otp).await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let (status, headers, replayed) = post(&app, "/otp/auth", &token, Some("login-7"), &otp).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(replayed["otp_id"], issued["otp_id"]);
    assert_eq!(count_messages(&app.db).await, 3);

    // A key must be short, visible ASCII.
    let (status, _, refused) = post(
        &app,
        "/simple_send/",
        &token,
        Some("two words"),
        &send("Hi"),
    )
    .await;
    assert_eq!(
        (status, code(&refused)),
        (StatusCode::BAD_REQUEST, "invalid_idempotency_key")
    );
    assert_eq!(count_messages(&app.db).await, 3);
}

async fn a_key_is_the_streams_and_a_refused_request_keeps_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { account, token, .. } =
        stream_with(&app, StreamKind::SmsMarketing, sms("News")).await;
    let other = stream_with_account(&app, &account, StreamKind::SmsMarketing).await;

    let (status, _, first) = post(&app, "/simple_send/", &token, Some("k-9"), &send("Hi")).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    // Another stream's key space: the same key is a new request there.
    let (status, headers, theirs) = post(
        &app,
        "/simple_send/",
        &other.token,
        Some("k-9"),
        &send("Bye"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{theirs}");
    assert!(headers.get("idempotent-replayed").is_none());
    assert_ne!(
        theirs["messages"][0]["message_uuid"],
        first["messages"][0]["message_uuid"]
    );

    // No token: refused before any key is looked at.
    let (status, _, unknown) = post(&app, "/simple_send/", "nope", Some("k-9"), &send("Hi")).await;
    assert_eq!(
        (status, code(&unknown)),
        (StatusCode::UNAUTHORIZED, "invalid_token")
    );

    // Refused, then fixed under the same key: the fixed request runs.
    let bad = json!({ "messages": [{ "recipient_phone": "12", "message_content": "Hi" }] });
    let (status, _, _) = post(&app, "/simple_send/", &token, Some("k-10"), &bad).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, headers, fixed) =
        post(&app, "/simple_send/", &token, Some("k-10"), &send("Hi")).await;
    assert_eq!(status, StatusCode::OK, "{fixed}");
    assert!(headers.get("idempotent-replayed").is_none());
    assert_eq!(count_messages(&app.db).await, 3);
}

/// Marks `key` of the stream as held by a request that runs until `locked_until`.
async fn held_elsewhere(
    app: &TestApp,
    stream_id: &str,
    key: &str,
    body: &Value,
    locked_until: i64,
) {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(b"/simple_send");
    hash.update([0]);
    hash.update(serde_json::to_vec(body).unwrap());
    sqlx::query(
        "insert into idempotency_keys (stream_id, idempotency_key, fingerprint, locked_until,
             expires_at)
         values ($1, $2, $3, $4, $5)",
    )
    .bind(stream_id)
    .bind(key)
    .bind(hex::encode(hash.finalize()))
    .bind(locked_until)
    .bind(now_ms() + 86_400_000)
    .execute(app.db.pool())
    .await
    .unwrap();
}

async fn a_running_request_holds_its_key_until_it_answers_or_dies(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { id, token, .. } =
        stream_with(&app, StreamKind::SmsMarketing, sms("News")).await;
    let body = send("Hi");

    // Another instance runs the request with this key right now.
    held_elsewhere(&app, &id, "k-run", &body, now_ms() + 60_000).await;
    let (status, headers, busy) = post(&app, "/simple_send/", &token, Some("k-run"), &body).await;
    assert_eq!(
        (status, code(&busy)),
        (StatusCode::CONFLICT, "idempotency_key_in_use")
    );
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(count_messages(&app.db).await, 0);

    // A request that died holding its key lets it go once its lock runs out.
    held_elsewhere(&app, &id, "k-dead", &body, now_ms() - 1).await;
    let (status, _, ran) = post(&app, "/simple_send/", &token, Some("k-dead"), &body).await;
    assert_eq!(status, StatusCode::OK, "{ran}");
    assert_eq!(count_messages(&app.db).await, 1);
}

async fn keys_last_a_day_and_are_pruned_after(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { token, .. } = stream_with(&app, StreamKind::SmsMarketing, sms("News")).await;
    let (status, _, _) = post(&app, "/simple_send/", &token, Some("old"), &send("Hi")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = post(&app, "/simple_send/", &token, Some("new"), &send("Hi")).await;
    assert_eq!(status, StatusCode::OK);
    // A day later, the old key is forgotten: the same request is new again.
    sqlx::query("update idempotency_keys set expires_at = $1 where idempotency_key = 'old'")
        .bind(now_ms() - 1)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (status, headers, _) = post(&app, "/simple_send/", &token, Some("old"), &send("Hi")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get("idempotent-replayed").is_none());
    assert_eq!(count_messages(&app.db).await, 3);

    sqlx::query("update idempotency_keys set expires_at = $1 where idempotency_key = 'new'")
        .bind(now_ms() - 1)
        .execute(app.db.pool())
        .await
        .unwrap();
    let removed = sluice::api::idempotency::prune(&app.db).await.unwrap();
    assert_eq!(removed, 1);
    let left: Vec<String> = sqlx::query_scalar("select idempotency_key from idempotency_keys")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(left, ["old"]);
}
