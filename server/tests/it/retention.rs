//! Retention: message text redacted after some days and rows deleted after more, in batches,
//! never touching what is still on its way; the pass a starting server runs; what it counts.

use app::{
    db::{Db, now_ms},
    messages::{MessageFilter, Retention, queries},
    streams::settings::WebhookMethod,
    time::DAY_MS,
};
use serde_json::Value;
use sluice::{metrics::Metrics, retention};

use crate::{
    helpers::{Backend, PASSWORD, TestApp, TestStream, metric, parse_metrics},
    on_both_backends,
    webhooks::{app_with, receiver, two_way},
};

on_both_backends!(
    old_text_is_redacted_then_old_rows_deleted_and_unfinished_ones_wait,
    a_pass_deletes_in_batches_of_at_most_500_rows,
    a_starting_server_applies_its_retention_and_counts_it,
);

/// A Two-way stream whose demo handset answers every message, its webhook on a receiver.
async fn replying_stream(app: &TestApp) -> TestStream {
    let (addr, _) = receiver(&[]).await;
    let (stream, _) = two_way(app, WebhookMethod::Post, format!("http://{addr}/hook")).await;
    stream
}

/// Sends `internal_id` and waits until it and its reply are in, with the reply's webhook
/// delivery done.
async fn exchange(app: &TestApp, stream: &TestStream, internal_id: &str) {
    let text = format!("Your booking {internal_id}");
    let (status, body) = app.send_sms(&stream.token, &[(internal_id, &text)]).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    for _ in 0..100 {
        app.settle().await;
        let replies: i64 = sqlx::query_scalar(
            "select count(*) from webhook_deliveries
             where stream_id = $1 and event = 'message.received' and status <> 'pending'",
        )
        .bind(&stream.id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        let sent: i64 = sqlx::query_scalar(
            "select count(*) from messages where stream_id = $1 and direction = 'outbound'",
        )
        .bind(&stream.id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        if replies == sent {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the reply to {internal_id} did not arrive");
}

/// Moves every row of the stream made so far `days` into the past.
async fn age(db: &Db, stream: &TestStream, days: i64) {
    for table in ["messages", "webhook_deliveries"] {
        sqlx::query(&format!(
            "update {table} set created_at = created_at - $1 where stream_id = $2"
        ))
        .bind(days * DAY_MS)
        .bind(&stream.id)
        .execute(db.pool())
        .await
        .unwrap();
    }
}

/// (text, redacted) of the stream's messages, outbound and inbound, oldest first.
async fn texts(db: &Db, stream: &TestStream) -> Vec<(String, bool)> {
    let rows: Vec<(String, Option<i64>)> = sqlx::query_as(
        "select content, redacted_at from messages where stream_id = $1 order by created_at, id",
    )
    .bind(&stream.id)
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(content, at)| (content, at.is_some()))
        .collect()
}

/// The `message_content` of the stream's `message.received` events, oldest first.
async fn event_texts(db: &Db, stream: &TestStream) -> Vec<String> {
    let bodies: Vec<String> = sqlx::query_scalar(
        "select body from webhook_deliveries
         where stream_id = $1 and event = 'message.received' order by created_at, id",
    )
    .bind(&stream.id)
    .fetch_all(db.pool())
    .await
    .unwrap();
    bodies
        .iter()
        .map(|body| {
            let event: Value = serde_json::from_str(body).unwrap();
            event["message_content"].as_str().unwrap().to_string()
        })
        .collect()
}

async fn count(db: &Db, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(db.pool()).await.unwrap()
}

async fn old_text_is_redacted_then_old_rows_deleted_and_unfinished_ones_wait(backend: Backend) {
    let app = app_with(backend, true).await;
    let stream = replying_stream(&app).await;
    let metrics = Metrics::default();
    let redact = Retention {
        redact_after_days: 30,
        delete_after_days: 0,
    };

    // Two exchanges 40 days old, one of them still waiting for its delivery report; one today.
    exchange(&app, &stream, "old-1").await;
    exchange(&app, &stream, "old-2").await;
    age(&app.db, &stream, 40).await;
    sqlx::query("update messages set status = 'sent', next_at = $1 where internal_id = 'old-2'")
        .bind(now_ms() + 3_600_000)
        .execute(app.db.pool())
        .await
        .unwrap();
    exchange(&app, &stream, "young").await;
    let before = texts(&app.db, &stream).await;
    assert_eq!(before.len(), 6);
    assert!(
        before
            .iter()
            .all(|(text, redacted)| !text.is_empty() && !redacted)
    );

    let pass = retention::run(&app.db, redact, now_ms(), &metrics)
        .await
        .unwrap();

    // old-1, both old replies and their events lose their text; old-2 waits; today's stay.
    assert_eq!((pass.redacted_messages, pass.redacted_events), (3, 2));
    let after = texts(&app.db, &stream).await;
    let redacted: Vec<bool> = after.iter().map(|(_, redacted)| *redacted).collect();
    let old_2 = after
        .iter()
        .position(|(text, _)| text == "Your booking old-2")
        .expect("a message still on its way keeps its text");
    assert!(
        redacted[..4]
            .iter()
            .enumerate()
            .all(|(n, r)| *r == (n != old_2))
    );
    assert_eq!(&redacted[4..], [false, false]);
    assert!(
        after
            .iter()
            .all(|(text, redacted)| text.is_empty() == *redacted)
    );
    let events = event_texts(&app.db, &stream).await;
    assert_eq!(events[..2], ["", ""]);
    assert!(!events[2].is_empty());
    // The console lists them as redacted; the rest of each message stays.
    let page = queries::list(&app.db, &stream.account, &MessageFilter::default())
        .await
        .unwrap();
    assert_eq!(page.messages.iter().filter(|m| m.redacted).count(), 3);
    app.sign_in("ann@acme.io", PASSWORD).await;
    let html = app.get("/messages").await.text().await.unwrap();
    assert_eq!(html.matches("data-testid=\"message-redacted\"").count(), 3);
    assert!(!html.contains("Your booking old-1"));
    assert!(html.contains("Your booking young"));
    assert_eq!(
        app.tracked(&stream.token, "old-1").await["status"],
        "delivered"
    );

    // The next pass starts at old-2, still unfinished: nothing again until it is done.
    let again = retention::run(&app.db, redact, now_ms(), &metrics)
        .await
        .unwrap();
    assert_eq!((again.redacted_messages, again.redacted_events), (0, 0));
    sqlx::query(
        "update messages set status = 'delivered', next_at = null where internal_id = 'old-2'",
    )
    .execute(app.db.pool())
    .await
    .unwrap();
    let finished = retention::run(&app.db, redact, now_ms(), &metrics)
        .await
        .unwrap();
    assert_eq!(finished.redacted_messages, 1);
    assert_eq!(texts(&app.db, &stream).await[old_2], (String::new(), true));

    // After 35 days the old rows go, with their history and webhook attempts.
    let old_deliveries = count(
        &app.db,
        &format!(
            "select count(*) from webhook_deliveries where created_at < {}",
            now_ms() - 35 * DAY_MS
        ),
    )
    .await;
    assert!(old_deliveries >= 2);
    let delete = Retention {
        redact_after_days: 30,
        delete_after_days: 35,
    };
    let deleted = retention::run(&app.db, delete, now_ms(), &metrics)
        .await
        .unwrap();
    assert_eq!(deleted.deleted_messages, 4);
    assert_eq!(deleted.deleted_deliveries as i64, old_deliveries);
    assert_eq!(texts(&app.db, &stream).await.len(), 2);
    assert_eq!(
        count(
            &app.db,
            "select count(*) from message_history
             where message_id not in (select id from messages)"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &app.db,
            "select count(*) from webhook_attempts
             where delivery_id not in (select id from webhook_deliveries)"
        )
        .await,
        0
    );
    assert!(count(&app.db, "select count(*) from message_history").await > 0);
    let samples = parse_metrics(&metrics.scrape(&app.db).await.unwrap());
    assert_eq!(
        metric(
            &samples,
            "sluice_retention_rows_total",
            &[("action", "redacted"), ("table", "messages")]
        ),
        4.0
    );
    assert_eq!(
        metric(
            &samples,
            "sluice_retention_rows_total",
            &[("action", "deleted"), ("table", "messages")]
        ),
        4.0
    );
}

async fn a_pass_deletes_in_batches_of_at_most_500_rows(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let stream = crate::api::stream_with(
        &app,
        app::streams::StreamKind::SmsMarketing,
        crate::api::sms("Batches"),
    )
    .await;
    let ids: Vec<String> = (0..1_100).map(|n| format!("b-{n}")).collect();
    let messages: Vec<(&str, &str)> = ids.iter().map(|id| (id.as_str(), "Sale today")).collect();
    let (status, body) = app.send_sms(&stream.token, &messages[..550]).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let (status, body) = app.send_sms(&stream.token, &messages[550..]).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    app.settle().await;
    age(&app.db, &stream, 10).await;
    // The first part of a long reply whose second part never came, ten days ago.
    sqlx::query(
        "insert into inbound_parts (stream_id, sender, reference, total, seq, content, created_at)
         values ($1, '+447700900123', 'r1', 2, 1, 'Half a', $2)",
    )
    .bind(&stream.id)
    .bind(now_ms() - 10 * DAY_MS)
    .execute(app.db.pool())
    .await
    .unwrap();

    let pass = retention::run(
        &app.db,
        Retention {
            redact_after_days: 0,
            delete_after_days: 7,
        },
        now_ms(),
        &Metrics::default(),
    )
    .await
    .unwrap();

    assert_eq!((pass.deleted_messages, pass.deleted_parts), (1_100, 1));
    // Messages in three batches (500, 500, 100), webhook deliveries and inbound parts in one.
    assert_eq!(pass.batches, 5);
    assert_eq!(count(&app.db, "select count(*) from messages").await, 0);
}

async fn a_starting_server_applies_its_retention_and_counts_it(backend: Backend) {
    let app = app_with(backend, true).await;
    let stream = replying_stream(&app).await;
    exchange(&app, &stream, "old").await;
    age(&app.db, &stream, 3).await;

    let app = app
        .restart_configured(|config| {
            config.retention.redact_after_days = 2;
            config.metrics.token = Some(sluice::config::Redacted("scrape".into()));
        })
        .await;

    let mut redacted = Vec::new();
    for _ in 0..100 {
        redacted = texts(&app.db, &stream).await;
        if redacted.iter().all(|(_, redacted)| *redacted) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(redacted, [(String::new(), true), (String::new(), true)]);
    let samples = app.scrape("scrape").await;
    assert_eq!(
        metric(
            &samples,
            "sluice_retention_rows_total",
            &[("action", "redacted"), ("table", "messages")]
        ),
        2.0
    );
    assert!(
        metric(
            &samples,
            "sluice_retention_batch_duration_seconds_count",
            &[]
        ) >= 1.0
    );
}
