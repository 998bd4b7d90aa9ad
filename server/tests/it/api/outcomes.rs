//! Outcomes on demand: five numbers of Ofcom's drama range decide a demo message's fate, the
//! same every time, whatever the random settings say.

use std::time::{Duration, Instant};

use app::streams::StreamKind;
use serde_json::{Value, json};

use super::*;
use crate::{
    helpers::{Backend, TestApp, TestDatabase, TestStream},
    on_both_backends,
};

on_both_backends!(
    scripted_numbers_reach_their_status_every_time,
    predictable_streams_deliver_everything_and_never_reply,
);

/// The stream's message `internal_id` once it is `status`, within `within`.
async fn reaches(
    app: &TestApp,
    token: &str,
    internal_id: &str,
    status: &str,
    within: Duration,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        app.settle().await;
        let message = app.tracked(token, internal_id).await;
        if message["status"] == status {
            return message;
        }
        assert!(
            Instant::now() < deadline,
            "{internal_id} is {message}, not {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A demo channel on which every message left to chance fails, is retried quickly and gets
/// a reply.
fn against_the_odds(config: &mut sluice::config::Config) {
    config.delivery.demo_failure_ratio = 1.0;
    config.delivery.demo_transient_ratio = 1.0;
    config.delivery.demo_reply_ratio = 1.0;
    config.delivery.retry_base_ms = 50;
    config.delivery.retry_max_ms = 100;
}

async fn scripted_numbers_reach_their_status_every_time(backend: Backend) {
    let app = TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        // Every other number would fail: the scripted ones do not care.
        against_the_odds(config);
        config.delivery.validity_secs = 3;
    })
    .await;
    let TestStream { token, .. } = stream_with(
        &app,
        StreamKind::SmsTwoWay,
        app::streams::StreamInput {
            demo: true,
            ..sms("Scripted")
        },
    )
    .await;
    let messages: Vec<Value> = (1..=5)
        .map(|n| {
            json!({ "internal_id": format!("s-{n}"), "recipient_phone": format!("+44770090000{n}"),
                "message_content": "Scripted" })
        })
        .collect();
    let (status, body) = call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": messages }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sent_at = Instant::now();

    let undelivered = reaches(&app, &token, "s-1", "undelivered", Duration::from_secs(10)).await;
    assert!(
        undelivered["error"]["message"]
            .as_str()
            .unwrap()
            .contains("scripted")
    );
    let rejected = reaches(&app, &token, "s-2", "rejected", Duration::from_secs(10)).await;
    assert_eq!(rejected["error"]["code"], "provider_rejected");
    let retried = reaches(&app, &token, "s-4", "delivered", Duration::from_secs(10)).await;
    let steps: Vec<&str> = retried["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["queued", "queued", "sent", "delivered"],
        "{retried}"
    );

    // Silent: still sent while it may be delivered, expired once it may not.
    let silent = reaches(&app, &token, "s-5", "sent", Duration::from_secs(2)).await;
    assert!(silent["error"].is_null());
    let expired = reaches(&app, &token, "s-5", "expired", Duration::from_secs(10)).await;
    assert_eq!(expired["error"]["code"], "expired");

    let slow = reaches(&app, &token, "s-3", "delivered", Duration::from_secs(20)).await;
    assert!(sent_at.elapsed() >= Duration::from_secs(10));
    let at = |status: &str| {
        slow["history"]
            .as_array()
            .unwrap()
            .iter()
            .find(|step| step["status"] == status)
            .and_then(|step| step["at"].as_str())
            .map(|at| at.to_string())
            .unwrap()
    };
    assert!(at("delivered") > at("sent"));

    // No scripted number replies, though every other demo recipient would.
    let replies: i64 =
        sqlx::query_scalar("select count(*) from messages where direction = 'inbound'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(replies, 0);
}

async fn predictable_streams_deliver_everything_and_never_reply(backend: Backend) {
    let app = TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        against_the_odds(config);
        config.delivery.max_attempts = 2;
    })
    .await;
    let stream = |name: &str, predictable: bool| app::streams::StreamInput {
        demo: true,
        demo_predictable: predictable,
        ..sms(name)
    };
    let predictable = stream_with(&app, StreamKind::SmsTwoWay, stream("Steady", true)).await;
    let random = app
        .create_stream(
            &predictable.account,
            StreamKind::SmsTwoWay,
            &stream("Chance", false),
        )
        .await;
    let messages = |prefix: &str| -> Vec<Value> {
        (0..5)
            .map(|n| {
                json!({ "internal_id": format!("{prefix}-{n}"),
                    "recipient_phone": format!("+4477009001{n:02}"), "message_content": "Hi" })
            })
            .collect()
    };
    for (token, prefix) in [(&predictable.token, "p"), (&random.token, "r")] {
        let (status, body) = call(
            &app,
            "/simple_send/",
            token,
            json!({ "messages": messages(prefix) }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    for n in 0..5 {
        let id = format!("p-{n}");
        let delivered = reaches(
            &app,
            &predictable.token,
            &id,
            "delivered",
            Duration::from_secs(10),
        )
        .await;
        let steps: Vec<&str> = delivered["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|step| step["status"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["queued", "sent", "delivered"], "{delivered}");
    }
    // The same odds on the other stream: its messages fail.
    reaches(
        &app,
        &random.token,
        "r-0",
        "sent_failed",
        Duration::from_secs(10),
    )
    .await;

    let replies: i64 = sqlx::query_scalar(
        "select count(*) from messages where direction = 'inbound' and stream_id = $1",
    )
    .bind(&predictable.id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(replies, 0);
}
