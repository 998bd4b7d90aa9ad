//! The public Streams API against a real server: sending, idempotency, the rules a token's
//! stream imposes, and delivery through the demo channel — on both backends.

use std::time::Duration;

use app::{
    db::Db,
    messages::{
        measure,
        otp::{self, NewOtp},
        store::{Inbound, NewMessage, Queued, Route, accept, receive},
    },
    streams::{
        StreamInput, StreamKind,
        settings::{EventInput, OtpCodeSource, OtpSettings, WhatsAppInput, WhatsAppTemplate},
        settings_store,
        store::{self},
    },
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, TestDatabase},
    on_both_backends,
    streams::account,
};

on_both_backends!(
    sent_messages_are_queued_measured_and_delivered_by_the_demo_channel,
    a_replayed_internal_id_answers_the_same_message_and_sends_nothing,
    concurrent_requests_each_get_their_own_answer,
    a_failed_commit_costs_no_other_request_its_messages,
    tokens_ip_lists_and_stream_status_gate_every_request,
    each_message_of_a_batch_is_checked_on_its_own,
    a_restricted_stream_sends_only_to_its_test_recipients,
    events_render_their_templates_per_recipient,
    the_demo_channel_reports_failures_and_stale_messages_expire,
    transient_failures_retry_with_growing_waits_then_fail,
    a_stream_never_sends_faster_than_its_throughput_limit,
    a_reply_of_stop_opts_the_number_out_until_start,
    otp_codes_are_sent_checked_once_and_limited,
    a_stop_that_commits_while_a_code_is_issued_wins,
    a_stream_with_messages_on_their_way_is_sending_and_counts_them,
    whatsapp_requests_queue_cloud_api_bodies_and_replies_keep_to_the_window,
    the_console_request_previews_are_accepted_by_the_api,
    the_openapi_document_describes_every_endpoint,
);

/// A stream of `kind` with `input`, and its token.
pub async fn stream_with(
    app: &TestApp,
    kind: StreamKind,
    input: StreamInput,
) -> (String, String, String) {
    let key = app.secret_key();
    let account = account(&app.db, "ann@acme.io").await;
    let (stream, token) = store::create(&app.db, &key, &account, kind, &input, false)
        .await
        .unwrap();
    (account, stream.id, token)
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

/// Polls `/status/` until every asked message is final, for at most five seconds.
async fn settled(app: &TestApp, token: &str, internal_ids: &[&str]) -> Vec<Value> {
    for _ in 0..100 {
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
        let final_status = |m: &Value| !matches!(m["status"].as_str(), Some("queued" | "sent"));
        if messages.len() == internal_ids.len() && messages.iter().all(final_status) {
            return messages;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("messages {internal_ids:?} did not settle");
}

async fn count_messages(db: &Db) -> i64 {
    sqlx::query_scalar("select count(*) from messages")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn sent_messages_are_queued_measured_and_delivered_by_the_demo_channel(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (account, _, token) = stream_with(&app, StreamKind::SmsMarketing, sms("Promo")).await;
    let other = crate::streams::account(&app.db, "bob@globex.io").await;
    let long = "a".repeat(200);

    let (status, body) = call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [
            message("m-1", "+447700900123", "Hello from Sluice!"),
            message("m-2", "+447700900124", "Привет"),
            message("m-3", "+447700900125", &long),
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], true);
    let answers = body["messages"].as_array().unwrap();
    let summary: Vec<_> = answers
        .iter()
        .map(|m| {
            (
                m["internal_id"].clone(),
                m["status"].clone(),
                m["encoding"].clone(),
                m["segments"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!("m-1"), json!("queued"), json!("GSM-7"), json!(1)),
            (json!("m-2"), json!("queued"), json!("UCS-2"), json!(1)),
            (json!("m-3"), json!("queued"), json!("GSM-7"), json!(2)),
        ]
    );
    assert!(
        answers
            .iter()
            .all(|m| m["message_uuid"].as_str().unwrap().len() == 36)
    );

    let delivered = settled(&app, &token, &["m-1", "m-2", "m-3"]).await;
    let log = |account: String, filter: app::messages::MessageFilter| {
        let db = app.db.clone();
        async move {
            app::messages::store::list(&db, &account, &filter)
                .await
                .unwrap()
                .total
        }
    };
    assert_eq!(log(account.clone(), Default::default()).await, 3);
    assert_eq!(log(other, Default::default()).await, 0);
    let by_phone = app::messages::MessageFilter {
        phone: "900124".into(),
        ..Default::default()
    };
    assert_eq!(log(account.clone(), by_phone).await, 1);
    let inbound = app::messages::MessageFilter {
        direction: "inbound".into(),
        ..Default::default()
    };
    assert_eq!(log(account, inbound).await, 0);
    for message in &delivered {
        assert_eq!(message["status"], "delivered", "{message}");
        let steps: Vec<_> = message["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["status"].clone())
            .collect();
        assert_eq!(
            steps,
            vec![json!("queued"), json!("sent"), json!("delivered")]
        );
    }
    // Without a trailing slash, and by uuid through POST.
    let uuid = answers[0]["message_uuid"].as_str().unwrap();
    let (status, body) = call(
        &app,
        "/status",
        &token,
        json!({ "message_uuids": [uuid, "nope"] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["messages"][0]["recipient_phone"], "+447700900123");
    assert_eq!(body["not_found"], json!(["nope"]));
}

async fn a_replayed_internal_id_answers_the_same_message_and_sends_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, _, token) = stream_with(&app, StreamKind::SmsTransactional, sms("Orders")).await;
    let send = json!({ "messages": [message("order-7", "+447700900123", "Shipped")] });

    let (_, first) = call(&app, "/simple_send", &token, send.clone()).await;
    let (status, again) = call(&app, "/simple_send/", &token, send).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        first["messages"][0]["message_uuid"],
        again["messages"][0]["message_uuid"]
    );
    assert_eq!(count_messages(&app.db).await, 1);

    let (status, conflict) = call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [message("order-7", "+447700900123", "Different text")] }),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{conflict}");
    assert_eq!(
        conflict["messages"][0]["error"]["code"],
        "idempotency_conflict"
    );
    assert_eq!(count_messages(&app.db).await, 1);
}

/// Requests that arrive together share commits; each still gets its own messages' answers, and
/// two of them with the same `internal_id` queue it once.
async fn concurrent_requests_each_get_their_own_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, _, token) = stream_with(&app, StreamKind::SmsTransactional, sms("Rush")).await;
    let mut requests = tokio::task::JoinSet::new();
    for n in 0..42 {
        // The last two repeat the first message.
        let id = if n >= 40 { 0 } else { n };
        let send = json!({ "messages": [message(&format!("rush-{id}"), &format!("+4477009001{id:02}"), "Your table is ready")] });
        let (client, url, token) = (app.client.clone(), app.url("/simple_send/"), token.clone());
        requests.spawn(async move {
            let response = client
                .post(url)
                .header("authorization", token)
                .json(&send)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            let body: Value = response.json().await.unwrap();
            let answer = body["messages"][0].clone();
            (
                id,
                answer["internal_id"].clone(),
                answer["message_uuid"].clone(),
            )
        });
    }
    let mut uuids = std::collections::HashMap::new();
    while let Some(answer) = requests.join_next().await {
        let (id, internal_id, uuid) = answer.unwrap();
        assert_eq!(internal_id, format!("rush-{id}"));
        let first = uuids.entry(id).or_insert_with(|| uuid.clone());
        assert_eq!(*first, uuid, "rush-{id} answered two uuids");
    }
    let distinct: std::collections::HashSet<_> = uuids.values().collect();
    assert_eq!(distinct.len(), 40);
    assert_eq!(count_messages(&app.db).await, 40);
    let queued_steps: i64 =
        sqlx::query_scalar("select count(*) from message_history where status = 'queued'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(queued_steps, 40);
}

/// Requests committed together, one of which fails (its stream was deleted meanwhile): that one
/// gets an error, the others keep their messages, and the writer goes on to the next request.
async fn a_failed_commit_costs_no_other_request_its_messages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (account, stream_id, token) =
        stream_with(&app, StreamKind::SmsTransactional, sms("Orders")).await;
    let text = "Your order shipped";
    let order = |n: usize| NewMessage {
        internal_id: Some(format!("order-{n}")),
        sender: Some("AcmeShop".into()),
        recipient: format!("+4477009002{n:02}"),
        content: text.into(),
        size: measure(text),
        payload: None,
    };
    let kept = Route {
        account_id: &account,
        stream_id: &stream_id,
        channel: "demo",
        connection_id: None,
        validity_ms: 60_000,
    };
    let deleted = Route {
        stream_id: "str_deleted",
        ..kept
    };
    let requests = (0..8).map(|n| {
        let route = if n == 3 { deleted } else { kept };
        accept(&app.db, route, vec![order(n)])
    });
    let answers = futures_util::future::join_all(requests).await;
    for (n, answer) in answers.into_iter().enumerate() {
        match answer {
            Err(_) => assert_eq!(n, 3, "order-{n} was refused"),
            Ok(queued) => {
                assert_ne!(n, 3, "a message of a deleted stream was queued");
                assert!(matches!(queued[..], [Queued::New(_)]), "{queued:?}");
            }
        }
    }

    let after = json!({ "messages": [message("after", "+447700900299", text)] });
    let (status, body) = call(&app, "/simple_send/", &token, after).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let ids = [
        "order-0", "order-1", "order-2", "order-4", "order-5", "order-6", "order-7", "after",
    ];
    assert_eq!(settled(&app, &token, &ids).await.len(), ids.len());
    assert_eq!(count_messages(&app.db).await, 8);
}

async fn tokens_ip_lists_and_stream_status_gate_every_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (account, id, token) = stream_with(&app, StreamKind::SmsMarketing, sms("Gated")).await;
    let send = json!({ "messages": [message("g-1", "+447700900123", "Hi")] });
    let code = |body: &Value| {
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    let response = app
        .client
        .post(app.url("/simple_send/"))
        .json(&send)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&response.json().await.unwrap()), "token_missing");
    let (status, body) = call(&app, "/simple_send/", "not-a-token", send.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_token".into())
    );

    store::set_enabled(&app.db, &account, &id, false)
        .await
        .unwrap();
    let (status, body) = call(&app, "/simple_send/", &token, send.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "stream_disabled".into())
    );
    store::set_enabled(&app.db, &account, &id, true)
        .await
        .unwrap();

    let mut acl = sms("Gated");
    acl.ip_acl_enabled = true;
    acl.allowed_ips = vec!["10.0.0.0/8".into()];
    store::update(&app.db, &account, &id, &acl).await.unwrap();
    let (status, body) = call(&app, "/simple_send/", &token, send.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "ip_not_allowed".into())
    );
    acl.allowed_ips = vec!["127.0.0.1".into(), "::1".into()];
    store::update(&app.db, &account, &id, &acl).await.unwrap();
    let (status, _) = call(&app, "/simple_send/", &token, send.clone()).await;
    assert_eq!(status, StatusCode::OK);

    let key = app.secret_key();
    let new_token = store::reset_token(&app.db, &key, &account, &id)
        .await
        .unwrap();
    let (status, body) = call(&app, "/simple_send/", &token, send.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, "invalid_token".into())
    );
    let response = app
        .client
        .post(app.url("/status/"))
        .header("authorization", &new_token)
        .json(&json!({ "internal_ids": ["g-1"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let (draft, draft_token) = store::create(
        &app.db,
        &key,
        &account,
        StreamKind::SmsMarketing,
        &sms("Draft"),
        true,
    )
    .await
    .unwrap();
    let (status, body) = call(&app, "/simple_send/", &draft_token, send.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "stream_draft".into())
    );
    store::delete(&app.db, &account, &draft.id).await.unwrap();
    let (status, _) = call(&app, "/simple_send/", &draft_token, send.clone()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    let (_, whatsapp_token) = store::create(
        &app.db,
        &key,
        &account,
        StreamKind::Whatsapp,
        &sms("Chat"),
        false,
    )
    .await
    .unwrap();
    let (status, body) = call(&app, "/simple_send/", &whatsapp_token, send.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "wrong_stream_type".into())
    );
    let (status, body) = call(
        &app,
        "/event_send/",
        &new_token,
        json!({ "event": "x", "recipients": [] }),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "wrong_stream_type".into())
    );
}

async fn each_message_of_a_batch_is_checked_on_its_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let customized = StreamInput {
        name: "Custom".into(),
        ..StreamInput::default()
    };
    let (_, _, token) = stream_with(&app, StreamKind::SmsMarketing, customized).await;
    let with_sender = |id: &str, phone: &str| json!({ "internal_id": id, "recipient_phone": phone, "message_content": "Hi", "sender": "Acme" });

    let (status, body) = call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [
            with_sender("ok", "+447700900123"),
            with_sender("bad-phone", "07700 900123"),
            message("no-sender", "+447700900123", "Hi"),
            json!({ "internal_id": "bad-sender", "recipient_phone": "+447700900123", "message_content": "Hi", "sender": "Far too long a name" }),
            json!({ "internal_id": "empty", "recipient_phone": "+447700900123", "message_content": " ", "sender": "Acme" }),
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let codes: Vec<_> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            m["error"]["code"]
                .as_str()
                .or_else(|| m["status"].as_str())
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(
        codes,
        [
            "queued",
            "invalid_recipient",
            "sender_required",
            "invalid_sender",
            "content_required"
        ]
    );
    assert_eq!(count_messages(&app.db).await, 1);

    let (status, body) = call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [message("x", "+1", "Hi")] }),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("no_message_accepted")
        )
    );
    let (status, body) = call(&app, "/simple_send/", &token, json!({ "messages": [] })).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("messages_required"))
    );
    let (status, body) = call(&app, "/simple_send/", &token, json!({ "texts": [] })).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_json"))
    );
    let many: Vec<Value> = (0..1001)
        .map(|n| with_sender(&format!("n{n}"), "+447700900123"))
        .collect();
    let (status, body) = call(&app, "/simple_send/", &token, json!({ "messages": many })).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::PAYLOAD_TOO_LARGE, json!("batch_too_large"))
    );
    let huge = "x".repeat(5 * 1024 * 1024);
    let (status, body) = call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [message("h", "+447700900123", &huge)] }),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::PAYLOAD_TOO_LARGE, json!("body_too_large"))
    );
    assert_eq!(count_messages(&app.db).await, 1);
}

async fn a_restricted_stream_sends_only_to_its_test_recipients(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (account, id, token) = stream_with(&app, StreamKind::SmsMarketing, sms("Staging")).await;
    settings_store::add_test_recipient(&app.db, &account, &id, "+447700900123")
        .await
        .unwrap();
    store::set_restricted(&app.db, &account, &id, true)
        .await
        .unwrap();

    let (status, body) = call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [
            message("tester", "+44 7700 900123", "Hi"),
            message("stranger", "+447700900999", "Hi"),
        ]}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["messages"][0]["status"], "queued");
    assert_eq!(
        body["messages"][1]["error"]["code"],
        "recipient_not_allowed"
    );
    let (status, body) = call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [message("s2", "+447700900999", "Hi")] }),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::FORBIDDEN, json!("no_message_accepted"))
    );
}

async fn events_render_their_templates_per_recipient(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (account, id, token) = stream_with(&app, StreamKind::SmsTransactional, sms("Orders")).await;
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

async fn the_demo_channel_reports_failures_and_stale_messages_expire(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let app = TestApp::spawn_configured(database, |config| {
        config.delivery.demo_failure_ratio = 1.0;
    })
    .await;
    let (_, _, token) = stream_with(&app, StreamKind::SmsMarketing, sms("Flaky")).await;
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
    let (_, _, token) = stream_with(&app, StreamKind::SmsMarketing, sms("Stale")).await;
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
async fn steps_at(db: &Db, stream_id: &str, status: &str) -> Vec<i64> {
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
    let (_, stream_id, token) = stream_with(&app, StreamKind::SmsMarketing, sms("Busy")).await;
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
    let (account, stream_id, token) = stream_with(&app, StreamKind::SmsMarketing, input).await;
    let ids: Vec<String> = (0..40).map(|n| format!("p-{n}")).collect();
    let batch: Vec<Value> = ids
        .iter()
        .map(|id| message(id, "+447700900123", "Paced"))
        .collect();
    let (status, _) = call(&app, "/simple_send/", &token, json!({ "messages": batch })).await;
    assert_eq!(status, StatusCode::OK);
    // Another stream without a limit is not held back by this one's.
    let (_, _, free) = stream_with_account(&app, &account, StreamKind::SmsMarketing).await;
    call(
        &app,
        "/simple_send/",
        &free,
        json!({ "messages": [message("free-1", "+447700900123", "Now")] }),
    )
    .await;
    settled(&app, &free, &["free-1"]).await;

    let mut sent = Vec::new();
    for _ in 0..100 {
        sent = steps_at(&app.db, &stream_id, "sent").await;
        if sent.len() == ids.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

async fn a_reply_of_stop_opts_the_number_out_until_start(backend: Backend) {
    use app::messages::store::opt_keyword;

    assert_eq!(opt_keyword(" stop "), Some(true));
    assert_eq!(opt_keyword("Unsubscribe."), Some(true));
    assert_eq!(opt_keyword("START"), Some(false));
    assert_eq!(opt_keyword("Please stop by tomorrow"), None);

    let app = TestApp::spawn(backend).await;
    let (account, stream_id, token) = stream_with(&app, StreamKind::SmsTwoWay, sms("Chat")).await;
    let reply = |content: &'static str| Inbound {
        account_id: &account,
        stream_id: &stream_id,
        channel: "demo",
        from: "+447700900123",
        to: Some("AcmeShop"),
        content,
        provider_id: None,
    };
    receive(&app.db, reply("STOP")).await.unwrap();

    let batch = json!({ "messages": [
        message("o-1", "+447700900123", "Offer"),
        message("o-2", "+447700900124", "Offer"),
    ] });
    let (status, body) = call(&app, "/simple_send/", &token, batch).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["messages"][0]["error"]["code"], "recipient_opted_out");
    assert_eq!(body["messages"][1]["status"], "queued");
    let (status, body) = call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [message("o-3", "+447700900123", "Offer")] }),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["messages"][0]["error"]["code"], "recipient_opted_out");

    // Another stream of the account is not affected; START opts back in.
    let (_, _, other) = stream_with_account(&app, &account, StreamKind::SmsMarketing).await;
    let (status, _) = call(
        &app,
        "/simple_send/",
        &other,
        json!({ "messages": [message("o-4", "+447700900123", "Hi")] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    receive(&app.db, reply("start")).await.unwrap();
    let (status, _) = call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [message("o-5", "+447700900123", "Welcome back")] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

/// The API checks opt-outs before it issues a code; a STOP that commits in between is seen
/// by the queueing transaction itself, which then queues neither the message nor the code.
async fn a_stop_that_commits_while_a_code_is_issued_wins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (account, stream_id, _) = stream_with(&app, StreamKind::SmsOtp, sms("Logins")).await;
    let phone = "+447700900123";
    receive(
        &app.db,
        Inbound {
            account_id: &account,
            stream_id: &stream_id,
            channel: "demo",
            from: phone,
            to: None,
            content: "STOP",
            provider_id: None,
        },
    )
    .await
    .unwrap();
    let text = "Your code is 12345";
    let message = NewMessage {
        internal_id: None,
        sender: Some("AcmeShop".into()),
        recipient: phone.into(),
        content: text.into(),
        size: measure(text),
        payload: None,
    };
    let route = Route {
        account_id: &account,
        stream_id: &stream_id,
        channel: "demo",
        connection_id: None,
        validity_ms: 60_000,
    };
    let code = NewOtp {
        code: "12345".into(),
        max_failures: 3,
        ttl_ms: 60_000,
    };

    let issued = otp::issue(&app.db, &app.secret_key(), route, &message, &code, &[])
        .await
        .unwrap();

    assert_eq!(issued, otp::Issued::OptedOut);
    let codes: i64 = sqlx::query_scalar("select count(*) from otp_codes")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let outbound: i64 =
        sqlx::query_scalar("select count(*) from messages where direction = 'outbound'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((codes, outbound), (0, 0));
}

async fn otp_codes_are_sent_checked_once_and_limited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (account, id, token) = stream_with(&app, StreamKind::SmsOtp, sms("Logins")).await;
    let save =
        |settings: OtpSettings| settings_store::save_otp_settings(&app.db, &account, &id, settings);

    // Sluice generates the code: read it back from the message it queued.
    let (status, issued) = call(
        &app,
        "/otp/auth",
        &token,
        json!({ "recipient_phone": "+447700900123" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    assert_eq!(issued["message"]["status"], "queued");
    // Stored with the code masked; the channel's text is sealed beside it.
    let uuid = issued["message"]["message_uuid"].as_str().unwrap();
    let (content, payload): (String, String) =
        sqlx::query_as("select content, payload from messages where id = $1")
            .bind(uuid)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(content, "Your verification code is *****");
    let text = app
        .secret_key()
        .open(&payload, otp::text_place(uuid))
        .unwrap();
    let code = String::from_utf8(text)
        .unwrap()
        .trim_start_matches("Your verification code is ")
        .to_string();
    assert!(
        code.len() == 5 && code.chars().all(|c| c.is_ascii_digit()),
        "{content}"
    );
    let stored: String = sqlx::query_scalar("select code_hash from otp_codes")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(!stored.contains(&code));
    let verify = |reference: Value, code: &str| {
        let mut body = reference;
        body["code"] = json!(code);
        call(&app, "/otp/verify/", &token, body)
    };
    let (_, wrong) = verify(json!({ "recipient_phone": "+447700900123" }), "00000").await;
    assert_eq!(
        (wrong["result"].clone(), wrong["attempts_left"].clone()),
        (json!("invalid"), json!(4))
    );
    let (status, right) = verify(json!({ "recipient_phone": "+447700900123" }), &code).await;
    assert_eq!(
        (status, right["result"].clone(), right["status"].clone()),
        (StatusCode::OK, json!("verified"), json!(true))
    );
    let (status, again) = verify(json!({ "otp_id": issued["otp_id"] }), &code).await;
    assert_eq!(
        (status, again["error"]["code"].clone()),
        (StatusCode::NOT_FOUND, json!("otp_not_found"))
    );

    // The caller's own code, two failures allowed, then the code is void.
    save(OtpSettings {
        source: OtpCodeSource::CustomerCode,
        max_failures: 2,
        per_phone_hour: 3,
        ..OtpSettings::default()
    })
    .await
    .unwrap();
    let (_, issued) = call(
        &app,
        "/otp/auth",
        &token,
        json!({ "recipient_phone": "+447700900124", "template_variables": { "code": 482913 } }),
    )
    .await;
    let by_id = json!({ "otp_id": issued["otp_id"] });
    let (_, first) = verify(by_id.clone(), "111111").await;
    assert_eq!(first["result"], "invalid");
    let (_, second) = verify(by_id.clone(), "111111").await;
    assert_eq!(second["result"], "max_attempts_reached");
    let (_, late) = verify(by_id.clone(), "482913").await;
    assert_eq!(late["result"], "max_attempts_reached");
    let (status, missing) = call(
        &app,
        "/otp/auth",
        &token,
        json!({ "recipient_phone": "+447700900124" }),
    )
    .await;
    assert_eq!(
        (status, missing["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_code"))
    );

    // An expired code says so.
    let (_, issued) = call(
        &app,
        "/otp/auth",
        &token,
        json!({ "recipient_phone": "+447700900125", "template_variables": { "code": "5555" } }),
    )
    .await;
    sqlx::query("update otp_codes set expires_at = 0 where id = $1")
        .bind(issued["otp_id"].as_str().unwrap())
        .execute(app.db.pool())
        .await
        .unwrap();
    let (_, expired) = verify(json!({ "otp_id": issued["otp_id"] }), "5555").await;
    assert_eq!(expired["result"], "expired");

    // Three codes an hour to one number, then 429 with Retry-After.
    for _ in 0..2 {
        let (status, _) = call(
            &app,
            "/otp/auth",
            &token,
            json!({ "recipient_phone": "+447700900124", "template_variables": { "code": "1234" } }),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let response = app
        .client
        .post(app.url("/otp/auth"))
        .header("authorization", &token)
        .json(&json!({ "recipient_phone": "+447700900124", "template_variables": { "code": "1234" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&wait), "{wait}");

    let (_, _, marketing) = stream_with_account(&app, &account, StreamKind::SmsMarketing).await;
    let (status, body) = call(
        &app,
        "/otp/auth",
        &marketing,
        json!({ "recipient_phone": "+447700900124" }),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::FORBIDDEN, json!("wrong_stream_type"))
    );
}

/// Another stream of the same account.
async fn stream_with_account(
    app: &TestApp,
    account: &str,
    kind: StreamKind,
) -> (String, String, String) {
    let (stream, token) = store::create(
        &app.db,
        &app.secret_key(),
        account,
        kind,
        &sms("Another"),
        false,
    )
    .await
    .unwrap();
    (account.to_string(), stream.id, token)
}

async fn a_stream_with_messages_on_their_way_is_sending_and_counts_them(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    // Delivery reports take a minute: sent messages stay in flight for the whole test.
    let app = TestApp::spawn_configured(database, |config| {
        config.delivery.demo_delay_ms = 60_000;
    })
    .await;
    let (account, id, token) = stream_with(&app, StreamKind::SmsMarketing, sms("Busy")).await;
    let (_, _, _) = stream_with_account(&app, &account, StreamKind::SmsMarketing).await;
    call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [message("b-1", "+447700900123", "Hi"), message("b-2", "+447700900124", "Hi")] }),
    )
    .await;

    let stream = store::get(&app.db, &account, &id).await.unwrap().unwrap();
    assert_eq!(stream.status, app::streams::StreamStatus::Sending);
    assert!(stream.last_activity_at.is_some());
    let sending = store::list(
        &app.db,
        &account,
        &app::streams::StreamFilter {
            status: Some(app::streams::StreamStatus::Sending),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(sending.total, 1);

    let stats = app::messages::store::stats(&app.db, &account, &id)
        .await
        .unwrap();
    assert_eq!((stats.last_24h.sent, stats.last_24h.in_flight), (2, 2));
    assert_eq!(stats.last_7d.sent, 2);
    assert_eq!(stats.days.len(), 7);
    assert_eq!(stats.days[6].1.sent, 2);
}

async fn payload_of(db: &Db, uuid: &Value) -> Value {
    let payload: String = sqlx::query_scalar("select payload from messages where id = $1")
        .bind(uuid.as_str().unwrap())
        .fetch_one(db.pool())
        .await
        .unwrap();
    serde_json::from_str(&payload).unwrap()
}

async fn whatsapp_requests_queue_cloud_api_bodies_and_replies_keep_to_the_window(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let app = TestApp::spawn_configured(database, |config| {
        config.delivery.demo_reply_ratio = 1.0;
    })
    .await;
    // A demo stream: the demo channel answers, and simulates the customer's replies.
    let input = StreamInput {
        demo: true,
        ..sms("Chat")
    };
    let (account, id, token) = stream_with(&app, StreamKind::Whatsapp, input).await;
    let key = app.secret_key();
    settings_store::save_whatsapp_settings(
        &app.db,
        &key,
        &account,
        &id,
        WhatsAppInput {
            business_account_id: "102290129340398".into(),
            phone_number_ids: vec!["106540352242922".into()],
            access_token: Some("EAAG-token".into()),
            app_secret: None,
        },
    )
    .await
    .unwrap();
    settings_store::add_whatsapp_template(
        &app.db,
        &account,
        &id,
        WhatsAppTemplate {
            name: "order_update".into(),
            language: "en_US".into(),
            body: "Order {{1}} ships {{2}}".into(),
        },
    )
    .await
    .unwrap();
    let code = |body: &Value| {
        body["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };

    // A free-form reply before the customer ever wrote is refused.
    let reply = json!({ "recipient_phone": "+447700900123", "message_content": "Hello!" });
    let (status, body) = call(&app, "/whatsapp/reply/", &token, reply.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "outside_service_window".into())
    );

    let (status, body) = call(&app, "/whatsapp/template/", &token, json!({
        "recipient_phone": "+447700900123", "template_name": "order_update", "template_variables": ["1001"],
    }))
    .await;
    assert_eq!(
        (status, code(&body)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "template_variables_mismatch".into()
        )
    );
    let (status, body) = call(
        &app,
        "/whatsapp/template",
        &token,
        json!({
            "recipient_phone": "+447700900123", "template_name": "welcome",
        }),
    )
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, "template_not_found".into())
    );
    let (status, body) = call(&app, "/whatsapp/template/", &token, json!({
        "internal_id": "t-1", "recipient_phone": "+447700900123", "template_name": "order_update",
        "language": "en_US", "template_variables": { "1": "1001", "2": "tomorrow" },
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        payload_of(&app.db, &body["messages"][0]["message_uuid"]).await,
        json!({
            "messaging_product": "whatsapp", "recipient_type": "individual", "to": "447700900123",
            "type": "template",
            "template": { "name": "order_update", "language": { "code": "en_US" }, "components": [
                { "type": "body", "parameters": [
                    { "type": "text", "text": "1001" }, { "type": "text", "text": "tomorrow" },
                ] },
            ] },
        })
    );

    let (status, body) = call(&app, "/whatsapp/media/", &token, json!({
        "recipient_phone": "+447700900123", "media_type": "document",
        "media_url": "https://cdn.acme.io/invoice.pdf", "caption": "Your invoice", "filename": "invoice.pdf",
    }))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let media = payload_of(&app.db, &body["messages"][0]["message_uuid"]).await;
    assert_eq!(
        media["document"],
        json!({ "link": "https://cdn.acme.io/invoice.pdf", "caption": "Your invoice", "filename": "invoice.pdf" })
    );
    let (status, body) = call(&app, "/whatsapp/media/", &token, json!({
        "recipient_phone": "+447700900123", "media_type": "audio", "media_url": "https://cdn.acme.io/a.ogg", "caption": "x",
    }))
    .await;
    assert_eq!(
        (status, code(&body)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "caption_not_allowed".into()
        )
    );
    let (status, body) = call(&app, "/whatsapp/media/", &token, json!({
        "recipient_phone": "+447700900123", "media_type": "image", "media_url": "file:///etc/passwd",
    }))
    .await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_media_url".into())
    );

    // The demo recipient answers the delivered template; the window opens.
    settled(&app, &token, &["t-1"]).await;
    let mut inbound = None;
    for _ in 0..100 {
        inbound = sqlx::query_scalar::<_, String>(
            "select id from messages where direction = 'inbound' and sender = '+447700900123'",
        )
        .fetch_optional(app.db.pool())
        .await
        .unwrap();
        if inbound.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let inbound = inbound.expect("the demo recipient replied");
    let mut answer = reply.clone();
    answer["reply_to"] = json!(inbound);
    let (status, body) = call(&app, "/whatsapp/reply/", &token, answer).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let payload = payload_of(&app.db, &body["messages"][0]["message_uuid"]).await;
    assert_eq!(payload["text"]["body"], "Hello!");
    assert_eq!(payload["context"]["message_id"], json!(inbound));
    let mut wrong = reply;
    wrong["reply_to"] = json!("not-a-message");
    let (status, body) = call(&app, "/whatsapp/reply/", &token, wrong).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_reply_to".into())
    );

    let (_, _, sms_token) = stream_with_account(&app, &account, StreamKind::SmsTwoWay).await;
    let (status, body) = call(&app, "/whatsapp/media/", &sms_token, json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "wrong_stream_type".into())
    );
}

/// What the console shows customers to copy must work as shown.
async fn the_console_request_previews_are_accepted_by_the_api(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = app.secret_key();
    let account = account(&app.db, "ann@acme.io").await;
    for kind in StreamKind::ALL {
        let (stream, token) = store::create(&app.db, &key, &account, kind, &sms("Preview"), false)
            .await
            .unwrap();
        match kind {
            StreamKind::Whatsapp => {
                settings_store::save_whatsapp_settings(
                    &app.db,
                    &key,
                    &account,
                    &stream.id,
                    WhatsAppInput {
                        business_account_id: "102290129340398".into(),
                        phone_number_ids: vec!["106540352242922".into()],
                        access_token: None,
                        app_secret: None,
                    },
                )
                .await
                .unwrap();
                settings_store::add_whatsapp_template(
                    &app.db,
                    &account,
                    &stream.id,
                    WhatsAppTemplate {
                        name: "welcome".into(),
                        language: "en_US".into(),
                        body: "Welcome, {{1}}!".into(),
                    },
                )
                .await
                .unwrap();
            }
            StreamKind::SmsTransactional => {
                settings_store::save_event(
                    &app.db,
                    &account,
                    &stream.id,
                    None,
                    EventInput {
                        key: "order_shipped".into(),
                        body: "Order {{order}} shipped.".into(),
                        sender: None,
                        active: true,
                    },
                )
                .await
                .unwrap();
            }
            _ => {}
        }
        for preview in app::streams::request_previews(kind, Some("AcmeShop")) {
            let body: Value = serde_json::from_str(&preview.body).unwrap();
            let (status, answer) = call(&app, preview.path, &token, body).await;
            let expected = match preview.path {
                // No customer wrote to the demo number yet.
                "/whatsapp/reply/" => StatusCode::FORBIDDEN,
                _ => StatusCode::OK,
            };
            assert_eq!(status, expected, "{kind} {}: {answer}", preview.path);
        }
    }
}

async fn the_openapi_document_describes_every_endpoint(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/simple_send/",
        "/event_send/",
        "/otp/auth",
        "/otp/verify",
        "/status/",
        "/whatsapp/template/",
        "/whatsapp/media/",
        "/whatsapp/reply/",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    assert!(paths["/status/"]["get"].is_object() && paths["/status/"]["post"].is_object());
    let schemas = document["components"]["schemas"].as_object().unwrap();
    let message = &schemas["SimpleMessage"]["properties"];
    for field in [
        "internal_id",
        "sender",
        "recipient_phone",
        "message_content",
    ] {
        assert!(message[field].is_object(), "SimpleMessage lacks {field}");
    }
    assert_eq!(
        document["components"]["securitySchemes"]["token"]["name"],
        "Authorization"
    );
}
