//! Customer webhooks against a real receiver on port 0: inbound replies forwarded with
//! Standard Webhooks signatures (checked by an independent implementation), retries until
//! accepted, `Retry-After`, 410 Gone, the end of the schedule, GET requests and the SSRF guard;
//! status callbacks with the caller's `callback_data` on every stream type.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::ids::{AccountId, StreamId};
use app::{
    streams::{
        StreamInput, StreamKind,
        settings::{WebhookHeader, WebhookInput, WebhookMethod},
        settings_store, store,
    },
    webhooks::{Delivery, DeliveryStatus, store as deliveries},
};
use axum::{
    Router,
    body::Bytes,
    extract::{OriginalUri, State},
    http::{HeaderMap, StatusCode},
    response::IntoResponse,
    routing::any,
};
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, TestDatabase, TestStream},
    on_both_backends,
    streams::account,
};

on_both_backends!(
    a_reply_reaches_the_webhook_signed_and_retried_until_accepted,
    gone_switches_the_webhook_off_and_a_spent_schedule_fails,
    get_webhooks_carry_the_event_as_query_parameters,
    private_addresses_are_refused_unless_the_operator_allows_them,
    status_events_go_out_without_waiting_for_the_senders_poll,
    every_stream_type_reports_status_with_its_callback_data,
    an_injected_reply_reaches_the_webhook_and_stop_refuses_the_next_send,
);

/// What the receiver got: method, path and query, headers, body.
pub(crate) type Received = Arc<Mutex<Vec<(String, String, HeaderMap, Bytes)>>>;

/// A customer's endpoint: answers each request with the next scripted status (then 200),
/// `Retry-After: 0` on 503. Delivery-status events are always accepted and not scripted.
pub(crate) async fn receiver(script: &[u16]) -> (SocketAddr, Received) {
    #[derive(Clone)]
    struct Receiver {
        script: Arc<Mutex<VecDeque<u16>>>,
        received: Received,
    }
    async fn handle(
        State(receiver): State<Receiver>,
        method: axum::http::Method,
        OriginalUri(uri): OriginalUri,
        headers: HeaderMap,
        body: Bytes,
    ) -> impl IntoResponse {
        let scripted = !String::from_utf8_lossy(&body).contains("message.status");
        receiver.received.lock().unwrap().push((
            method.to_string(),
            uri.to_string(),
            headers,
            body,
        ));
        let status = match scripted {
            true => receiver.script.lock().unwrap().pop_front().unwrap_or(200),
            false => 200,
        };
        let status = StatusCode::from_u16(status).unwrap();
        let retry_after = [("retry-after", "0")];
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return (status, retry_after, "busy, come back").into_response();
        }
        (status, format!("answered {}", status.as_u16())).into_response()
    }
    let received = Received::default();
    let state = Receiver {
        script: Arc::new(Mutex::new(script.iter().copied().collect())),
        received: received.clone(),
    };
    let app = Router::new().fallback(any(handle)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, received)
}

pub(crate) async fn app_with(backend: Backend, allow_private: bool) -> TestApp {
    TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.delivery.demo_reply_ratio = 1.0;
        config.webhooks.allow_private = allow_private;
        config.webhooks.retry_delays_ms = vec![50, 100, 100];
        config.webhooks.poll_ms = 20;
    })
    .await
}

/// A Two-way stream whose webhook is `url`, and the webhook's signing secret.
pub(crate) async fn two_way(
    app: &TestApp,
    method: WebhookMethod,
    url: String,
) -> (TestStream, String) {
    let key = app.secret_key();
    let account = account(&app.db, "ann@acme.io").await;
    let input = StreamInput {
        name: "Bookings".into(),
        default_sender: Some("Acme".into()),
        ..StreamInput::default()
    };
    let (stream, token) = store::create(
        &app.db,
        &key,
        &account,
        StreamKind::SmsTwoWay,
        &input,
        false,
    )
    .await
    .unwrap();
    let webhook = WebhookInput {
        method,
        url,
        headers: vec![WebhookHeader {
            name: "X-Api-Key".into(),
            value: "k-123".into(),
        }],
        enabled: true,
    };
    settings_store::save_webhook(&app.db, &key, &account, &stream.id, webhook)
        .await
        .unwrap();
    let secret = settings_store::webhook_signing_secret(&app.db, &key, &account, &stream.id, false)
        .await
        .unwrap();
    let stream = TestStream {
        account,
        id: stream.id,
        token,
    };
    (stream, secret)
}

/// Points the stream's webhook (POST, no headers) at `url`.
async fn point_webhook(app: &TestApp, account: &AccountId, stream_id: &StreamId, url: String) {
    let input = WebhookInput {
        url,
        ..WebhookInput::default()
    };
    settings_store::save_webhook(&app.db, &app.secret_key(), account, stream_id, input)
        .await
        .unwrap();
}

/// Settles the server and answers the stream's newest delivery, status events aside, once it
/// is no longer pending. The demo handset's reply (and so its delivery) is queued just after
/// its message's delivery commits, so a settle that lands between the two, or just before the
/// delivery's first attempt, is followed by another.
async fn settled(app: &TestApp, account: &AccountId, stream_id: &StreamId) -> Delivery {
    let mut last = None;
    for _ in 0..5 {
        app.settle().await;
        let log = deliveries::recent(&app.db, account, stream_id, 10)
            .await
            .unwrap();
        match log.iter().find(|d| d.event != "message.status") {
            Some(delivery) if delivery.status != DeliveryStatus::Pending => {
                return delivery.clone();
            }
            found => last = found.cloned(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no delivery settled: {last:?}");
}

async fn a_reply_reaches_the_webhook_signed_and_retried_until_accepted(backend: Backend) {
    let app = app_with(backend, true).await;
    let (addr, received) = receiver(&[500, 503]).await;
    let (
        TestStream {
            account,
            id: stream_id,
            token,
        },
        secret,
    ) = two_way(
        &app,
        WebhookMethod::Post,
        format!("http://{addr}/hooks/sms"),
    )
    .await;

    // A message out; the demo handset replies; the reply goes to the webhook.
    let sent = app
        .client
        .post(app.url("/simple_send/"))
        .header("authorization", &token)
        .json(&json!({ "messages": [{ "recipient_phone": "+447700900123", "message_content": "Book?" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), reqwest::StatusCode::OK);
    let delivery = settled(&app, &account, &stream_id).await;

    assert_eq!(delivery.status, DeliveryStatus::Delivered);
    assert_eq!(delivery.event, "message.received");
    let codes: Vec<Option<u16>> = delivery.attempts.iter().map(|a| a.status_code).collect();
    assert_eq!(codes, [Some(500), Some(503), Some(200)]);
    assert_eq!(
        delivery.attempts[1].response.as_deref(),
        Some("busy, come back")
    );

    let (received, statuses): (Vec<_>, Vec<_>) = received
        .lock()
        .unwrap()
        .clone()
        .into_iter()
        .partition(|(_, _, _, body)| !String::from_utf8_lossy(body).contains("message.status"));
    assert_eq!(received.len(), 3);
    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    for (method, path, headers, body) in &received {
        assert_eq!((method.as_str(), path.as_str()), ("POST", "/hooks/sms"));
        assert_eq!(headers["x-api-key"], "k-123");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(
            headers["webhook-id"],
            delivery.id.as_str(),
            "one id for every attempt"
        );
        verifier
            .verify(body, headers)
            .expect("a valid Standard Webhooks signature");
    }
    // Tampering with the body breaks the signature.
    let (_, _, headers, _) = &received[2];
    assert!(verifier.verify(b"{\"forged\":true}", headers).is_err());

    let event: Value = serde_json::from_slice(&received[2].3).unwrap();
    assert_eq!(event["type"], "message.received");
    assert_eq!(event["sender_phone"], "+447700900123");
    assert_eq!(event["recipient"], "Acme");
    assert_eq!(event["channel"], "sms");
    let uuid = event["message_uuid"].as_str().unwrap();
    let direction: String = sqlx::query_scalar("select direction from messages where id = $1")
        .bind(uuid)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(direction, "inbound");

    // The message's own progress went to the same endpoint, signed alike.
    let mut steps: Vec<(String, String)> = statuses
        .iter()
        .map(|(_, _, headers, body)| {
            verifier.verify(body, headers).unwrap();
            let event: Value = serde_json::from_slice(body).unwrap();
            assert_eq!(event["recipient_phone"], "+447700900123");
            (
                event["status"].as_str().unwrap().to_string(),
                event["message_uuid"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    // Concurrent deliveries may arrive in either order.
    steps.sort();
    let sent_uuid = &steps[0].1;
    assert_eq!(
        steps,
        [
            ("delivered".to_string(), sent_uuid.clone()),
            ("sent".to_string(), sent_uuid.clone())
        ]
    );
    // The retry waits: at least 80 % of the schedule's 50 ms.
    assert!(delivery.attempts[1].at - delivery.attempts[0].at >= 40);
}

async fn gone_switches_the_webhook_off_and_a_spent_schedule_fails(backend: Backend) {
    let app = app_with(backend, true).await;
    let (addr, received) = receiver(&[410]).await;
    let (
        TestStream {
            account,
            id: stream_id,
            ..
        },
        _,
    ) = two_way(&app, WebhookMethod::Post, format!("http://{addr}/gone")).await;
    deliveries::enqueue_test(&app.db, &account, &stream_id)
        .await
        .unwrap()
        .unwrap();
    let gone = settled(&app, &account, &stream_id).await;
    assert_eq!(gone.status, DeliveryStatus::Failed);
    assert_eq!(gone.attempts.len(), 1);
    assert!(gone.last_error.unwrap().contains("410"));
    let webhook = settings_store::webhook(&app.db, &account, &stream_id)
        .await
        .unwrap()
        .unwrap();
    assert!(!webhook.input.enabled, "410 switches the webhook off");
    // A switched-off webhook gets no more events.
    assert_eq!(
        deliveries::enqueue_test(&app.db, &account, &stream_id)
            .await
            .unwrap(),
        None
    );
    assert_eq!(received.lock().unwrap().len(), 1);

    // An endpoint that always fails is tried once plus once per scheduled wait, then failed.
    let (addr, received) = receiver(&[500, 500, 500, 500]).await;
    point_webhook(&app, &account, &stream_id, format!("http://{addr}/down")).await;
    let id = deliveries::enqueue_test(&app.db, &account, &stream_id)
        .await
        .unwrap()
        .unwrap();
    let failed = settled(&app, &account, &stream_id).await;
    assert_eq!(failed.id, id);
    assert_eq!(failed.status, DeliveryStatus::Failed);
    assert_eq!(failed.attempts.len(), 4);
    assert!(
        failed
            .last_error
            .unwrap()
            .contains("Gave up after 4 attempts")
    );
    assert_eq!(received.lock().unwrap().len(), 4);

    // *Retry* sends it again, and this time the endpoint accepts.
    deliveries::retry(&app.db, &account, &stream_id, &id)
        .await
        .unwrap();
    let retried = settled(&app, &account, &stream_id).await;
    assert_eq!(retried.status, DeliveryStatus::Delivered);
    assert_eq!(retried.attempts.len(), 5);
}

async fn get_webhooks_carry_the_event_as_query_parameters(backend: Backend) {
    let app = app_with(backend, true).await;
    let (addr, received) = receiver(&[]).await;
    let (
        TestStream {
            account,
            id: stream_id,
            ..
        },
        secret,
    ) = two_way(
        &app,
        WebhookMethod::Get,
        format!("http://{addr}/in?source=sluice"),
    )
    .await;
    deliveries::enqueue_test(&app.db, &account, &stream_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        settled(&app, &account, &stream_id).await.status,
        DeliveryStatus::Delivered
    );
    let (method, path, headers, body) = received.lock().unwrap()[0].clone();
    assert_eq!(method, "GET");
    let url = url::Url::parse(&format!("http://host{path}")).unwrap();
    let query: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    assert!(query.contains(&("source".into(), "sluice".into())));
    assert!(query.contains(&("type".into(), "webhook.test".into())));
    assert!(query.contains(&("stream_id".into(), stream_id.to_string())));
    assert!(body.is_empty());
    // A GET is signed over its (empty) body.
    standardwebhooks::Webhook::new(&secret)
        .unwrap()
        .verify(b"", &headers)
        .unwrap();
}

async fn private_addresses_are_refused_unless_the_operator_allows_them(backend: Backend) {
    let app = app_with(backend, false).await;
    let (addr, received) = receiver(&[]).await;
    let (
        TestStream {
            account,
            id: stream_id,
            ..
        },
        _,
    ) = two_way(&app, WebhookMethod::Post, format!("http://{addr}/in")).await;
    for url in [
        format!("http://{addr}/in"),
        format!("http://localhost:{}/in", addr.port()),
    ] {
        point_webhook(&app, &account, &stream_id, url).await;
        deliveries::enqueue_test(&app.db, &account, &stream_id)
            .await
            .unwrap()
            .unwrap();
        app.settle().await;
        let log = deliveries::recent(&app.db, &account, &stream_id, 1)
            .await
            .unwrap();
        let attempt = log[0].attempts.first().expect("an attempt was made");
        assert_eq!(attempt.status_code, None);
        assert!(
            attempt
                .error
                .as_deref()
                .unwrap()
                .contains("private or reserved"),
            "{attempt:?}"
        );
    }
    assert!(
        received.lock().unwrap().is_empty(),
        "nothing reached the receiver"
    );
}

async fn status_events_go_out_without_waiting_for_the_senders_poll(backend: Backend) {
    let app = TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.webhooks.allow_private = true;
        // Idle, the sender would look again only after a minute.
        config.webhooks.poll_ms = 60_000;
    })
    .await;
    let (addr, received) = receiver(&[]).await;
    let (TestStream { token, .. }, _) =
        two_way(&app, WebhookMethod::Post, format!("http://{addr}/in")).await;
    // The sender is idle before the message is sent.
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.send_sms(&token, &[("w-1", "Your table is ready")])
        .await;
    let mut statuses = Vec::new();
    for _ in 0..250 {
        statuses = received
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(_, _, _, body)| serde_json::from_slice::<serde_json::Value>(body).ok())
            .filter(|event| event["type"] == "message.status")
            .map(|event| event["status"].as_str().unwrap_or_default().to_string())
            .collect();
        if statuses.iter().any(|status| status == "delivered") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        statuses.iter().any(|status| status == "delivered"),
        "status events waited for the poll: {statuses:?}"
    );
}

async fn every_stream_type_reports_status_with_its_callback_data(backend: Backend) {
    let app = app_with(backend, true).await;
    let (addr, received) = receiver(&[]).await;
    let account = account(&app.db, "ann@acme.io").await;
    let input = StreamInput {
        name: "Notices".into(),
        default_sender: Some("Acme".into()),
        demo: true,
        ..StreamInput::default()
    };
    let post = |token: &str, path: &str, body: Value| {
        app.client
            .post(app.url(path))
            .header("authorization", token)
            .json(&body)
            .send()
    };
    let mut sent = Vec::new();
    for kind in [
        StreamKind::SmsMarketing,
        StreamKind::SmsTransactional,
        StreamKind::SmsOtp,
    ] {
        let stream = app.create_stream(&account, kind, &input).await;
        point_webhook(&app, &account, &stream.id, format!("http://{addr}/{kind}")).await;
        let data = format!("order={kind}");
        let response = if kind == StreamKind::SmsOtp {
            post(
                &stream.token,
                "/otp/auth",
                json!({ "recipient_phone": "+447700900123", "callback_data": data }),
            )
            .await
            .unwrap()
        } else {
            post(
                &stream.token,
                "/simple_send/",
                json!({ "messages": [{ "recipient_phone": "+447700900123",
                    "message_content": "Your order shipped", "callback_data": data }] }),
            )
            .await
            .unwrap()
        };
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let answer: Value = response.json().await.unwrap();
        let message = if kind == StreamKind::SmsOtp {
            &answer["message"]
        } else {
            &answer["messages"][0]
        };
        let uuid = message["message_uuid"].as_str().unwrap().to_string();

        // Too long to echo: refused, nothing queued.
        let refused = post(
            &stream.token,
            "/simple_send/",
            json!({ "messages": [{ "recipient_phone": "+447700900123",
                "message_content": "Hi", "callback_data": "x".repeat(1_001) }] }),
        )
        .await
        .unwrap();
        assert_eq!(refused.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
        let refused: Value = refused.json().await.unwrap();
        assert_eq!(
            refused["messages"][0]["error"]["code"],
            "invalid_callback_data"
        );
        let secret = settings_store::webhook_signing_secret(
            &app.db,
            &app.secret_key(),
            &account,
            &stream.id,
            false,
        )
        .await
        .unwrap();
        sent.push((kind, stream, uuid, data, secret));
    }
    app.settle().await;

    let received = received.lock().unwrap().clone();
    for (kind, stream, uuid, data, secret) in sent {
        let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
        let statuses: Vec<Value> = received
            .iter()
            .filter(|(_, path, _, _)| *path == format!("/{kind}"))
            .map(|(_, _, headers, body)| {
                verifier
                    .verify(body, headers)
                    .expect("a valid Standard Webhooks signature");
                serde_json::from_slice(body).unwrap()
            })
            .collect();
        let mut names: Vec<&str> = statuses
            .iter()
            .map(|event| event["status"].as_str().unwrap())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["delivered", "sent"], "{kind}: {statuses:?}");
        for event in &statuses {
            assert_eq!(event["type"], "message.status");
            assert_eq!(event["message_uuid"], uuid.as_str());
            assert_eq!(event["callback_data"], data.as_str(), "{kind}");
        }
        let tracked: Value = app
            .client
            .get(app.url(&format!("/status?message_uuids={uuid}")))
            .header("authorization", &stream.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(tracked["messages"][0]["callback_data"], data.as_str());
    }
}

async fn an_injected_reply_reaches_the_webhook_and_stop_refuses_the_next_send(backend: Backend) {
    let app = app_with(backend, true).await;
    let (addr, received) = receiver(&[]).await;
    let account = account(&app.db, "ann@acme.io").await;
    let demo = |name: &str| StreamInput {
        name: name.into(),
        default_sender: Some("Acme".into()),
        demo: true,
        ..StreamInput::default()
    };
    let chat = app
        .create_stream(&account, StreamKind::SmsTwoWay, &demo("Bookings"))
        .await;
    point_webhook(&app, &account, &chat.id, format!("http://{addr}/in")).await;
    let secret = settings_store::webhook_signing_secret(
        &app.db,
        &app.secret_key(),
        &account,
        &chat.id,
        false,
    )
    .await
    .unwrap();
    let inject = |token: &str, from: &str, text: &str| {
        app.client
            .post(app.url("/demo/inbound"))
            .header("authorization", token)
            .json(&json!({ "from": from, "text": text }))
            .send()
    };

    // "The customer" answers: stored and forwarded like a reply from a phone.
    let answered = inject(&chat.token, "447700900123", "Yes, please book me in.")
        .await
        .unwrap();
    assert_eq!(answered.status(), reqwest::StatusCode::OK);
    let answer: Value = answered.json().await.unwrap();
    let uuid = answer["message_uuid"].as_str().unwrap().to_string();
    app.settle().await;
    let verifier = standardwebhooks::Webhook::new(&secret).unwrap();
    let events: Vec<Value> = received
        .lock()
        .unwrap()
        .iter()
        .map(|(_, _, headers, body)| {
            verifier.verify(body, headers).expect("a valid signature");
            serde_json::from_slice(body).unwrap()
        })
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["type"], "message.received");
    assert_eq!(events[0]["message_uuid"], uuid.as_str());
    assert_eq!(events[0]["sender_phone"], "+447700900123");
    assert_eq!(events[0]["recipient"], "Acme");
    assert_eq!(events[0]["message_content"], "Yes, please book me in.");

    // STOP on a Marketing demo stream refuses the next send to that number; START lifts it.
    let news = app
        .create_stream(&account, StreamKind::SmsMarketing, &demo("News"))
        .await;
    let send = || {
        app.client
            .post(app.url("/simple_send/"))
            .header("authorization", &news.token)
            .json(&json!({ "messages": [{ "recipient_phone": "+447700900124", "message_content": "Sale!" }] }))
            .send()
    };
    assert_eq!(send().await.unwrap().status(), reqwest::StatusCode::OK);
    let stop = inject(&news.token, "+447700900124", "STOP").await.unwrap();
    assert_eq!(stop.status(), reqwest::StatusCode::OK);
    let refused = send().await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(
        refused["messages"][0]["error"]["code"],
        "recipient_opted_out"
    );
    inject(&news.token, "+447700900124", "start").await.unwrap();
    assert_eq!(send().await.unwrap().status(), reqwest::StatusCode::OK);

    // Bad input, and real streams, are refused.
    let bad = inject(&news.token, "12", "Hi").await.unwrap();
    assert_eq!(bad.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let empty = inject(&news.token, "+447700900124", "  ").await.unwrap();
    assert_eq!(empty.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let real = app
        .create_stream(
            &account,
            StreamKind::SmsTwoWay,
            &StreamInput {
                demo: false,
                ..demo("Real")
            },
        )
        .await;
    let refused = inject(&real.token, "+447700900123", "Hi").await.unwrap();
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["error"]["code"], "not_a_demo_stream");
}
