//! Delivery over time: demo failures and expiry, retries with growing waits, and a stream's
//! throughput limit.

use app::ids::StreamId;
use app::{
    db::Db,
    streams::{StreamInput, StreamKind},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::{
    helpers::{Backend, TestApp, TestDatabase},
    on_both_backends,
};

on_both_backends!(
    the_demo_channel_reports_failures_and_stale_messages_expire,
    transient_failures_retry_with_growing_waits_then_fail,
    a_stream_never_sends_faster_than_its_throughput_limit,
);

async fn the_demo_channel_reports_failures_and_stale_messages_expire(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let app = TestApp::spawn_configured(database, |config| {
        config.delivery.demo_failure_ratio = 1.0;
    })
    .await;
    let TestStream { token, .. } = stream_with(&app, StreamKind::SmsMarketing, sms("Flaky")).await;
    call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [message("f-1", "+447700900123", "Hi")] }),
    )
    .await;
    let failed = settled(&app, &token, &["f-1"]).await;
    assert_eq!(failed[0]["status"], "undelivered");
    assert_eq!(failed[0]["error"]["code"], "undelivered");

    let database = TestDatabase::new(backend).await;
    let app = TestApp::spawn_configured(database, |config| {
        config.delivery.validity_secs = 0;
    })
    .await;
    let TestStream { token, .. } = stream_with(&app, StreamKind::SmsMarketing, sms("Stale")).await;
    call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [message("x-1", "+447700900123", "Hi")] }),
    )
    .await;
    let expired = settled(&app, &token, &["x-1"]).await;
    assert_eq!(expired[0]["status"], "expired");
}

/// The steps of a stream's messages with this status, oldest first, in milliseconds.
async fn steps_at(db: &Db, stream_id: &StreamId, status: &str) -> Vec<i64> {
    sqlx::query_scalar(
        "select h.at from message_history h join messages m on m.id = h.message_id
         where m.stream_id = $1 and h.status = $2 order by h.at",
    )
    .bind(stream_id)
    .bind(status)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

async fn transient_failures_retry_with_growing_waits_then_fail(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let app = TestApp::spawn_configured(database, |config| {
        config.delivery.demo_transient_ratio = 1.0;
        config.delivery.max_attempts = 3;
        config.delivery.retry_base_ms = 100;
    })
    .await;
    let TestStream {
        id: stream_id,
        token,
        ..
    } = stream_with(&app, StreamKind::SmsMarketing, sms("Busy")).await;
    call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [message("b-1", "+447700900123", "Hi")] }),
    )
    .await;
    let failed = settled(&app, &token, &["b-1"]).await;
    assert_eq!(failed[0]["status"], "sent_failed");
    assert_eq!(failed[0]["error"]["code"], "provider_busy");
    let attempts: i64 = sqlx::query_scalar("select attempts from messages where stream_id = $1")
        .bind(&stream_id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(attempts, 3);

    // Accepted, two retries (each queued again with the provider's error), then failed; the
    // waits are at least half of 100 ms and 200 ms, the backoff's lower bounds.
    let queued = steps_at(&app.db, &stream_id, "queued").await;
    let failed_at = steps_at(&app.db, &stream_id, "sent_failed").await;
    assert_eq!(queued.len(), 3, "{queued:?}");
    assert_eq!(failed_at.len(), 1);
    assert!(queued[2] - queued[1] >= 50, "{queued:?}");
    assert!(failed_at[0] - queued[2] >= 100, "{queued:?} {failed_at:?}");
    let details: Vec<Option<String>> = sqlx::query_scalar(
        "select h.detail from message_history h join messages m on m.id = h.message_id
         where m.stream_id = $1 and h.status = 'queued' order by h.at",
    )
    .bind(&stream_id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(details[0], None);
    assert!(
        details[1].as_deref().unwrap().contains("busy"),
        "{details:?}"
    );
}

async fn a_stream_never_sends_faster_than_its_throughput_limit(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let app = TestApp::spawn_configured(database, |_| {}).await;
    let input = StreamInput {
        max_rate: Some(20),
        ..sms("Paced")
    };
    let TestStream {
        account,
        id: stream_id,
        token,
    } = stream_with(&app, StreamKind::SmsMarketing, input).await;
    let ids: Vec<String> = (0..40).map(|n| format!("p-{n}")).collect();
    let batch: Vec<Value> = ids
        .iter()
        .map(|id| message(id, "+447700900123", "Paced"))
        .collect();
    let (status, _) = call(&app, "/simple_send/", &token, json!({ "messages": batch })).await;
    assert_eq!(status, StatusCode::OK);
    // Another stream without a limit is not held back by this one's.
    let TestStream { token: free, .. } =
        stream_with_account(&app, &account, StreamKind::SmsMarketing).await;
    call(
        &app,
        "/simple_send/",
        &free,
        json!({ "messages": [message("free-1", "+447700900123", "Now")] }),
    )
    .await;
    settled(&app, &free, &["free-1"]).await;

    app.settle().await;
    let sent = steps_at(&app.db, &stream_id, "sent").await;
    assert_eq!(sent.len(), ids.len(), "not all sent");
    // 20 a second: the 21st message after any message goes at least (nearly) a second later,
    // and the 40 take about two seconds rather than one worker pass. History times are commit
    // times, which a busy machine spreads by some tens of milliseconds.
    for window in sent.windows(21) {
        assert!(window[20] - window[0] >= 850, "{sent:?}");
    }
    assert!(sent[39] - sent[0] >= 1_850, "{sent:?}");
    // Waiting for a slot is not a step of the message's history.
    assert_eq!(
        steps_at(&app.db, &stream_id, "queued").await.len(),
        ids.len()
    );
}
