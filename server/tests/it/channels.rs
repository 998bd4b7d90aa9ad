//! Upstream channels against real HTTP servers on port 0: an SMS provider (sends, its errors,
//! timeouts, delivery reports and inbound messages at `/inbound/sms/`) and a Graph-API-compatible
//! server that checks the exact WhatsApp Cloud API shapes (sends, rate limits, signed status and
//! message notifications at `/inbound/whatsapp/`, template sync).

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::ids::{AccountId, StreamId};
use app::{
    connections::{
        ConnectionInput, ConnectionSettings, Health, HttpSettings, api::ssr::verify_token,
        store as connections,
    },
    crypto::hmac_sha256,
    db::now_ms,
    messages::MessageStatus,
    streams::{
        StreamInput, StreamKind,
        settings::{WebhookMethod, WhatsAppInput},
        settings_store, store,
    },
};
use axum::http::StatusCode;
use serde_json::{Value, json};
use sluice::engine::{Outcome, reports};

use crate::{
    helpers::{
        Backend, Seen, TestApp, TestDatabase, TestStream, history_steps, peer, provider_connection,
    },
    on_both_backends,
    streams::account,
};

on_both_backends!(
    an_http_provider_sends_retries_and_reports_delivery,
    a_report_that_comes_before_its_send_is_recorded_is_applied_once_it_is,
    reports_held_for_one_message_apply_in_the_order_they_happen,
    a_provider_refusal_or_silence_fails_or_retries_the_message,
    a_slow_provider_gets_each_message_once,
    inbound_sms_are_stored_once_reassembled_and_opt_out,
    whatsapp_messages_use_the_cloud_api_shapes_and_follow_its_notifications,
    whatsapp_templates_sync_from_the_business_account,
    connections_belong_to_one_account,
    a_silent_graph_api_is_retried_then_fails_the_message,
    a_message_nothing_can_carry_ends_in_no_routes,
);

async fn app_with(backend: Backend, graph: Option<SocketAddr>) -> TestApp {
    TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.webhooks.allow_private = true;
        // Long enough that a loaded machine's stall does not time out a 300 ms answer;
        // a silent provider (2 s) still times out.
        config.webhooks.timeout_ms = 1_000;
        config.delivery.retry_base_ms = 50;
        config.delivery.retry_max_ms = 100;
        config.delivery.max_attempts = 3;
        if let Some(graph) = graph {
            config.whatsapp.base_url = format!("http://{graph}");
        }
    })
    .await
}

/// An account with an HTTP connection to `provider` and a non-demo stream of `kind`.
async fn sms_stream(app: &TestApp, provider: SocketAddr, kind: StreamKind) -> TestStream {
    let key = app.secret_key();
    let account = account(&app.db, "ann@acme.io").await;
    let saved = provider_connection(&app.db, &key, &account, provider).await;
    assert!(saved.is_default, "the first connection is the default");
    let input = StreamInput {
        name: "Alerts".into(),
        default_sender: Some("AcmeShop".into()),
        demo: false,
        ..StreamInput::default()
    };
    app.create_stream(&account, kind, &input).await
}

async fn inbound(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

async fn an_http_provider_sends_retries_and_reports_delivery(backend: Backend) {
    // The provider is busy once, then accepts each message with an id of its own.
    let (provider, seen) = peer(|_, n| match n {
        0 => (503, json!({ "error": "busy" }), 0),
        n => (
            200,
            json!({ "id": format!("prov-{n}"), "accepted": true }),
            0,
        ),
    })
    .await;
    let app = app_with(backend, None).await;
    let TestStream {
        account,
        id: stream_id,
        token,
    } = sms_stream(&app, provider, StreamKind::SmsTwoWay).await;

    app.send_sms(&token, &[("a-1", "Your table is ready \"now\"")])
        .await;
    let sent = app.status_becomes(&token, "a-1", "sent").await;
    let requests = seen.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "one busy answer, one retry");
    let request = &requests[1];
    assert_eq!(request.method, "POST");
    assert_eq!(request.uri, "/v1/sms");
    assert_eq!(request.headers["authorization"], "Bearer sk-live-1");
    assert_eq!(request.headers["content-type"], "application/json");
    assert_eq!(
        request.json(),
        json!({
            "to": "+447700900123",
            "from": "AcmeShop",
            "text": "Your table is ready \"now\"",
            "reference": sent["message_uuid"],
        })
    );
    let steps = history_steps(&sent);
    assert_eq!(
        steps,
        ["queued", "queued", "sent"],
        "the busy answer is a retry step"
    );

    // Its delivery report comes back with the stream's key.
    let key = store::inbound_key(&app.db, &app.secret_key(), &stream_id)
        .await
        .unwrap()
        .unwrap();
    let path = format!("/inbound/sms/{stream_id}?key={key}");
    let (status, body) = inbound(&app, &path, json!({ "id": "prov-1", "status": "DELIVRD" })).await;
    assert_eq!(
        (status, body["recorded"].clone()),
        (StatusCode::OK, json!(true))
    );
    app.status_becomes(&token, "a-1", "delivered").await;

    // Interim words are accepted and change nothing; a report never moves a status back.
    let (status, body) = inbound(&app, &path, json!({ "id": "prov-1", "status": "ENROUTE" })).await;
    assert_eq!(
        (status, body["recorded"].clone()),
        (StatusCode::OK, json!(false))
    );
    let (_, body) = inbound(&app, &path, json!({ "id": "prov-1", "status": "UNDELIV" })).await;
    assert_eq!(body["recorded"], false);

    // An id no message has (yet) is held, and dropped after an hour if no send records it;
    // a wrong key is refused.
    let (status, body) =
        inbound(&app, &path, json!({ "id": "prov-99", "status": "DELIVRD" })).await;
    assert_eq!(
        (status, body["held"].clone()),
        (StatusCode::ACCEPTED, json!(true))
    );
    assert_eq!(reports::apply_held(&app.engine, now_ms()).await.unwrap(), 0);
    assert_eq!(held_reports(&app).await, 1);
    reports::apply_held(&app.engine, now_ms() + reports::HOLD_MS + 1_000)
        .await
        .unwrap();
    assert_eq!(held_reports(&app).await, 0);
    let wrong = format!("/inbound/sms/{stream_id}?key=not-the-key");
    let (status, body) =
        inbound(&app, &wrong, json!({ "id": "prov-1", "status": "DELIVRD" })).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_key"))
    );

    // A second message, reported undelivered through the header key and a form body.
    app.send_sms(&token, &[("a-2", "Second")]).await;
    app.status_becomes(&token, "a-2", "sent").await;
    let response = app
        .client
        .post(app.url(&format!("/inbound/sms/{stream_id}")))
        .header("x-sluice-key", &key)
        .form(&[("id", "prov-2"), ("status", "failed")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let failed = app.status_becomes(&token, "a-2", "undelivered").await;
    assert_eq!(
        failed["error"]["message"],
        "The provider reported the message failed."
    );

    let health = &connections::list(&app.db, &account).await.unwrap()[0];
    assert_eq!(health.health, Health::Up);
}

async fn held_reports(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from early_reports")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn a_report_that_comes_before_its_send_is_recorded_is_applied_once_it_is(backend: Backend) {
    // The provider reports the message delivered before it answers the send, as a fast
    // network may: the report reaches Sluice while the worker still waits for the answer.
    let report_to: Arc<Mutex<Option<String>>> = Arc::default();
    let report_answer: Arc<Mutex<Option<(StatusCode, Value)>>> = Arc::default();
    let (provider, _) = peer({
        let (report_to, report_answer) = (report_to.clone(), report_answer.clone());
        move |_, _| {
            let url = report_to.lock().unwrap().clone().unwrap();
            let report_answer = report_answer.clone();
            tokio::spawn(async move {
                let response = reqwest::Client::new()
                    .post(url)
                    .json(&json!({ "id": "prov-early", "status": "DELIVRD" }))
                    .send()
                    .await
                    .unwrap();
                let answer = (response.status(), response.json().await.unwrap());
                *report_answer.lock().unwrap() = Some(answer);
            });
            (200, json!({ "id": "prov-early" }), 300)
        }
    })
    .await;
    let app = app_with(backend, None).await;
    let TestStream {
        id: stream_id,
        token,
        ..
    } = sms_stream(&app, provider, StreamKind::SmsTransactional).await;
    let key = store::inbound_key(&app.db, &app.secret_key(), &stream_id)
        .await
        .unwrap()
        .unwrap();
    *report_to.lock().unwrap() = Some(app.url(&format!("/inbound/sms/{stream_id}?key={key}")));

    app.send_sms(&token, &[("e-1", "Your code is on its way")])
        .await;

    let delivered = app.status_becomes(&token, "e-1", "delivered").await;
    // The report is applied before its answer reaches the provider's task: wait for it.
    let mut answer = None;
    for _ in 0..100 {
        answer = report_answer.lock().unwrap().clone();
        if answer.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, body) = answer.expect("the provider's report was answered");
    assert_eq!(
        (status, body["held"].clone()),
        (StatusCode::ACCEPTED, json!(true))
    );
    let steps = history_steps(&delivered);
    assert_eq!(steps, ["queued", "sent", "delivered"]);
    assert_eq!(held_reports(&app).await, 0);
}

/// Meta may report a message sent and then delivered before its send is recorded: both are
/// held, and applied in that order once it is, whatever order they were stored in.
async fn reports_held_for_one_message_apply_in_the_order_they_happen(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream {
        account,
        id: stream_id,
        token,
    } = whatsapp_stream(&app).await;
    let scope = reports::Scope::Stream(&stream_id);
    for status in [
        MessageStatus::Delivered,
        MessageStatus::Sent,
        MessageStatus::Delivered,
    ] {
        let held = reports::report(
            &app.engine,
            scope,
            "wamid.early",
            Outcome::report(status, None),
        )
        .await
        .unwrap();
        assert_eq!(held, reports::Reported::Held);
    }
    assert_eq!(
        held_reports(&app).await,
        2,
        "a repeated report is held once"
    );

    // The send is recorded (as a worker would after Meta answered it).
    let now = now_ms();
    sqlx::query(
        "insert into messages (id, account_id, stream_id, internal_id, direction, channel,
             recipient, content, encoding, segments, status, attempts, expires_at, created_at,
             updated_at, provider_id)
         values ('m-early', $1, $2, 'w-1', 'outbound', 'whatsapp', '+447700900123', 'Hi',
             'gsm7', 1, 'queued', 0, $3, $4, $4, 'wamid.early')",
    )
    .bind(&account)
    .bind(&stream_id)
    .bind(now + 60_000)
    .bind(now)
    .execute(app.db.pool())
    .await
    .unwrap();
    assert_eq!(reports::apply_held(&app.engine, now_ms()).await.unwrap(), 2);

    let delivered = app.status_becomes(&token, "w-1", "delivered").await;
    let steps = history_steps(&delivered);
    assert_eq!(steps, ["sent", "delivered"]);
    assert_eq!(held_reports(&app).await, 0);
}

async fn a_provider_refusal_or_silence_fails_or_retries_the_message(backend: Backend) {
    // GET with the message in the query; the provider refuses "bad", and never answers "slow"
    // within the timeout.
    let (provider, seen) = peer(|request, _| {
        if request.uri.contains("text=bad") {
            (400, json!({ "error": "invalid sender" }), 0)
        } else {
            (200, json!({ "messages": [{ "id": 42 }] }), 2_000)
        }
    })
    .await;
    let app = app_with(backend, None).await;
    let TestStream { account, token, .. } =
        sms_stream(&app, provider, StreamKind::SmsMarketing).await;
    let get = ConnectionInput {
        name: "Provider".into(),
        settings: ConnectionSettings::Http(Box::new(HttpSettings {
            url: format!("http://{provider}/send?to={{to}}&from={{from}}&text={{text}}"),
            method: WebhookMethod::Get,
            id_pointer: "/messages/0/id".into(),
            ..HttpSettings::default()
        })),
        secret: None,
        is_default: true,
    };
    let id = connections::list(&app.db, &account).await.unwrap()[0]
        .id
        .clone();
    connections::save(&app.db, &app.secret_key(), &account, Some(&id), get)
        .await
        .unwrap();

    app.send_sms(&token, &[("r-1", "bad"), ("r-2", "slow")])
        .await;
    let refused = app.status_becomes(&token, "r-1", "rejected").await;
    assert_eq!(refused["error"]["code"], "provider_rejected");
    assert!(
        refused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 400: {\"error\":\"invalid sender\"}"),
        "{refused}"
    );
    let silent = app.status_becomes(&token, "r-2", "sent_failed").await;
    assert_eq!(silent["error"]["code"], "provider_unreachable");
    assert_eq!(
        silent["error"]["message"],
        "The SMS provider did not answer in time."
    );
    let tries = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.uri.contains("text=slow"))
        .count();
    assert_eq!(tries, 3, "max_attempts tries in all");
    assert!(
        seen.lock().unwrap()[0]
            .uri
            .starts_with("/send?to=%2B447700900123&from=AcmeShop&text=")
    );
    let health = &connections::list(&app.db, &account).await.unwrap()[0];
    assert_eq!(health.health, Health::Down);
    assert_eq!(
        health.health_detail.as_deref(),
        Some("The SMS provider did not answer in time.")
    );
}

async fn a_slow_provider_gets_each_message_once(backend: Backend) {
    // The provider answers after 800 ms. A worker claims 150 messages for 6 s and sends 64 at
    // a time; a send must end by three quarters of the lease (4.5 s) and may take up to the
    // 3 s timeout, so no round may start after 1.5 s: the third is handed back, and a second
    // worker waits to claim whatever the first hands back or its lease frees. Each send has
    // at least 2.2 s to spare, so a loaded machine's stall does not time one out.
    let (provider, seen) = peer(|_, n| (200, json!({ "id": format!("prov-{n}") }), 800)).await;
    let app = TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.webhooks.allow_private = true;
        config.webhooks.timeout_ms = 3_000;
        config.delivery.lease_ms = 6_000;
        config.delivery.batch_size = 150;
        config.delivery.workers = Some(2);
    })
    .await;
    let TestStream { token, .. } = sms_stream(&app, provider, StreamKind::SmsMarketing).await;
    let messages: Vec<(String, String)> = (0..150)
        .map(|n| (format!("s-{n}"), format!("Order n-{n}.")))
        .collect();
    let pairs: Vec<(&str, &str)> = messages
        .iter()
        .map(|(id, text)| (id.as_str(), text.as_str()))
        .collect();
    let (status, _) = app.send_sms(&token, &pairs).await;
    assert_eq!(status, StatusCode::OK);
    for (id, _) in &messages {
        app.status_becomes(&token, id, "sent").await;
    }
    // A lease more, for a second send of any of them to arrive.
    tokio::time::sleep(Duration::from_millis(6_400)).await;
    let seen = seen.lock().unwrap();
    let twice: Vec<&str> = messages
        .iter()
        .map(|(_, text)| text.as_str())
        .filter(|text| {
            let sends = seen
                .iter()
                .filter(|s| String::from_utf8_lossy(&s.body).contains(text))
                .count();
            sends != 1
        })
        .collect();
    assert!(twice.is_empty(), "not sent exactly once: {twice:?}");
    assert_eq!(seen.len(), 150);
}

async fn inbound_sms_are_stored_once_reassembled_and_opt_out(backend: Backend) {
    let (provider, _) = peer(|_, n| (200, json!({ "id": format!("prov-{n}") }), 0)).await;
    let app = app_with(backend, None).await;
    let TestStream {
        id: stream_id,
        token,
        ..
    } = sms_stream(&app, provider, StreamKind::SmsTwoWay).await;
    let key = store::inbound_key(&app.db, &app.secret_key(), &stream_id)
        .await
        .unwrap()
        .unwrap();
    let path = format!("/inbound/sms/{stream_id}?key={key}");
    let texts = || async {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "select sender, content from messages where direction = 'inbound' order by created_at",
        )
        .fetch_all(app.db.pool())
        .await
        .unwrap();
        rows
    };

    // A reply without the +, sent twice by the provider: stored once.
    let reply = json!({ "from": "447700900123", "to": "AcmeShop", "text": "Yes please", "message_id": "mo-1" });
    let (status, first) = inbound(&app, &path, reply.clone()).await;
    assert_eq!(status, StatusCode::OK);
    let (_, again) = inbound(&app, &path, reply).await;
    assert_eq!(first["message_uuid"], again["message_uuid"]);

    // A long message in three parts, out of order and one repeated: stored once, whole.
    let part = |n: u32, text: &str| json!({ "from": "+447700900124", "text": text, "concat_ref": "r7", "concat_total": 3, "concat_part": n });
    let (_, body) = inbound(&app, &path, part(2, "the middle, ")).await;
    assert_eq!(body["complete"], false);
    inbound(&app, &path, part(1, "This is the start, ")).await;
    inbound(&app, &path, part(2, "the middle, ")).await;
    let (_, body) = inbound(&app, &path, part(3, "and the end.")).await;
    assert_eq!(body["complete"], true);
    assert_eq!(
        texts().await,
        [
            ("+447700900123".to_string(), "Yes please".to_string()),
            (
                "+447700900124".to_string(),
                "This is the start, the middle, and the end.".to_string()
            ),
        ]
    );

    // STOP opts the number out of the stream: sends to it are refused.
    let (status, _) = inbound(
        &app,
        &path,
        json!({ "from": "+447700900123", "text": "STOP" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let account = account_of(&app, &stream_id).await;
    let stats = app::messages::queries::stats(&app.db, &account, &stream_id)
        .await
        .unwrap();
    assert_eq!(stats.opt_out_count, 1);
    assert_eq!(stats.opt_outs[0].0, "+447700900123");
    let (status, answer) = app.send_sms(&token, &[("after-stop", "Offer")]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer["messages"][0]["error"]["code"],
        "recipient_opted_out"
    );

    // Neither a report nor a message: a clear error.
    let (status, body) = inbound(&app, &path, json!({ "hello": "world" })).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!("unrecognised_callback")
        )
    );
}

/// A Graph-API-compatible server: checks the path, token and body of each call and answers
/// as Meta does. The first send is rate limited (130429).
async fn graph() -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    peer(|request, n| {
        if request.headers["authorization"] != "Bearer EAAG-token" {
            return (401, json!({ "error": { "message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190 } }), 0);
        }
        if request.uri.starts_with("/v21.0/1234567890/message_templates") {
            let page = if request.uri.contains("after=c1") {
                json!({ "data": [
                    { "name": "order_update", "language": "en_US", "status": "APPROVED",
                      "components": [{ "type": "BODY", "text": "Order {{1}} is {{2}}." }] },
                    { "name": "draft_promo", "language": "en_US", "status": "PENDING",
                      "components": [{ "type": "BODY", "text": "Soon" }] },
                ], "paging": { "cursors": { "before": "c1", "after": "c2" } } })
            } else {
                json!({ "data": [
                    { "name": "welcome", "language": "en", "status": "APPROVED",
                      "components": [{ "type": "HEADER", "format": "TEXT", "text": "Hi" },
                                     { "type": "BODY", "text": "Welcome, {{1}}!" }] },
                ], "paging": { "cursors": { "before": "c0", "after": "c1" }, "next": "https://graph.example/next" } })
            };
            return (200, page, 0);
        }
        if request.method != "POST" || request.uri != "/v21.0/10987654321/messages" {
            return (404, json!({ "error": { "message": "Unknown path", "code": 100 } }), 0);
        }
        if n == 0 {
            return (400, json!({ "error": { "message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429 } }), 0);
        }
        let body = request.json();
        if body["messaging_product"] != "whatsapp" || body["to"] != "447700900123" {
            return (400, json!({ "error": { "message": "bad shape", "code": 100 } }), 0);
        }
        (200, json!({
            "messaging_product": "whatsapp",
            "contacts": [{ "input": "447700900123", "wa_id": "447700900123" }],
            "messages": [{ "id": format!("wamid.out{n}") }],
        }), 0)
    })
    .await
}

/// A non-demo WhatsApp stream with its settings, token and app secret.
async fn whatsapp_stream(app: &TestApp) -> TestStream {
    let key = app.secret_key();
    let account = account(&app.db, "ann@acme.io").await;
    let input = StreamInput {
        name: "Support".into(),
        ..StreamInput::default()
    };
    let (stream, token) =
        store::create(&app.db, &key, &account, StreamKind::Whatsapp, &input, false)
            .await
            .unwrap();
    let settings = WhatsAppInput {
        business_account_id: "1234567890".into(),
        phone_number_ids: vec!["10987654321".into()],
        access_token: Some("EAAG-token".into()),
        app_secret: Some("app-secret-1".into()),
    };
    settings_store::save_whatsapp_settings(&app.db, &key, &account, &stream.id, settings)
        .await
        .unwrap();
    TestStream {
        account,
        id: stream.id,
        token,
    }
}

/// Posts a notification to the stream's WhatsApp callback, signed with `secret`.
async fn notify(
    app: &TestApp,
    stream_id: &StreamId,
    secret: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let body = body.to_string();
    let signature = hex::encode(hmac_sha256(secret.as_bytes(), body.as_bytes()));
    let response = app
        .client
        .post(app.url(&format!("/inbound/whatsapp/{stream_id}")))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", format!("sha256={signature}"))
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// Sends the `welcome` template to +447700900123 with `variables`; answers the HTTP status.
async fn send_welcome(
    app: &TestApp,
    token: &str,
    internal_id: &str,
    variables: Value,
) -> StatusCode {
    app.client
        .post(app.url("/whatsapp/template/"))
        .header("authorization", token)
        .json(&json!({ "internal_id": internal_id, "recipient_phone": "+447700900123", "template_name": "welcome", "language": "en", "template_variables": variables }))
        .send()
        .await
        .unwrap()
        .status()
}

/// Lists the `welcome` template on the stream.
async fn add_welcome(app: &TestApp, account: &AccountId, stream_id: &StreamId, body: &str) {
    let template = app::streams::settings::WhatsAppTemplate {
        name: "welcome".into(),
        language: "en".into(),
        body: body.into(),
    };
    settings_store::add_whatsapp_template(&app.db, account, stream_id, template)
        .await
        .unwrap();
}

fn change(value: Value) -> Value {
    json!({ "object": "whatsapp_business_account", "entry": [{ "id": "1234567890", "changes": [{ "field": "messages", "value": value }] }] })
}

async fn whatsapp_messages_use_the_cloud_api_shapes_and_follow_its_notifications(backend: Backend) {
    let (graph, seen) = graph().await;
    let app = app_with(backend, Some(graph)).await;
    let TestStream {
        id: stream_id,
        token,
        ..
    } = whatsapp_stream(&app).await;

    // Meta's handshake: the challenge comes back only with the stream's verify token.
    let verify = verify_token(&app.secret_key(), &stream_id);
    let response = app
        .get(&format!("/inbound/whatsapp/{stream_id}?hub.mode=subscribe&hub.verify_token={verify}&hub.challenge=1158201444"))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.text().await.unwrap(), "1158201444");
    let response = app
        .get(&format!("/inbound/whatsapp/{stream_id}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1"))
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    // The customer writes first: a signed message notification; a bad signature is refused.
    let inbound = change(json!({
        "messaging_product": "whatsapp",
        "metadata": { "display_phone_number": "15550001111", "phone_number_id": "10987654321" },
        "contacts": [{ "profile": { "name": "Kim" }, "wa_id": "447700900123" }],
        "messages": [{ "from": "447700900123", "id": "wamid.in1", "timestamp": "1763900000", "type": "text", "text": { "body": "Is my order shipped?" } }],
    }));
    let (status, body) = notify(&app, &stream_id, "wrong-secret", &inbound).await;
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (StatusCode::UNAUTHORIZED, json!("invalid_signature"))
    );
    let (status, body) = notify(&app, &stream_id, "app-secret-1", &inbound).await;
    assert_eq!(
        (status, body["messages"].clone()),
        (StatusCode::OK, json!(1))
    );
    let (_, body) = notify(&app, &stream_id, "app-secret-1", &inbound).await;
    assert_eq!(
        body["messages"], 1,
        "a repeated notification is answered alike"
    );
    let (inbound_id, content): (String, String) =
        sqlx::query_as("select id, content from messages where direction = 'inbound'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(content, "Is my order shipped?");

    // A reply to it: rate limited once (130429), then sent with Meta's id of the inbound message.
    let response = app
        .client
        .post(app.url("/whatsapp/reply/"))
        .header("authorization", &token)
        .json(&json!({ "internal_id": "w-1", "recipient_phone": "+447700900123", "message_content": "Yes, today.", "reply_to": inbound_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let sent = app.status_becomes(&token, "w-1", "sent").await;
    let sends: Vec<Seen> = seen.lock().unwrap().clone();
    assert_eq!(sends.len(), 2, "a rate-limited try and the send");
    assert_eq!(
        sends[1].json(),
        json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": "447700900123",
            "type": "text",
            "text": { "preview_url": false, "body": "Yes, today." },
            "context": { "message_id": "wamid.in1" },
        })
    );
    assert_eq!(
        sent["history"][1]["detail"],
        "(#130429) Rate limit hit (Meta error 130429)"
    );

    // Meta's status notifications move it on: delivered, then read (still delivered).
    let status_of = |state: &str| {
        change(json!({
            "messaging_product": "whatsapp",
            "metadata": { "phone_number_id": "10987654321" },
            "statuses": [{ "id": "wamid.out1", "status": state, "timestamp": "1763900100", "recipient_id": "447700900123" }],
        }))
    };
    let (_, body) = notify(&app, &stream_id, "app-secret-1", &status_of("delivered")).await;
    assert_eq!(body["statuses"], 1);
    app.status_becomes(&token, "w-1", "delivered").await;
    let (_, body) = notify(&app, &stream_id, "app-secret-1", &status_of("read")).await;
    assert_eq!(body["statuses"], 0);

    // A template message that Meta later fails; the stream must list the template first.
    assert_eq!(
        send_welcome(&app, &token, "w-2", json!(["Kim"])).await,
        StatusCode::NOT_FOUND
    );
    add_welcome(
        &app,
        &account_of(&app, &stream_id).await,
        &stream_id,
        "Welcome, {{1}}!",
    )
    .await;
    assert_eq!(
        send_welcome(&app, &token, "w-2", json!(["Kim"])).await,
        StatusCode::OK
    );
    app.status_becomes(&token, "w-2", "sent").await;
    let template = seen.lock().unwrap()[2].json();
    assert_eq!(template["type"], "template");
    assert_eq!(
        template["template"],
        json!({ "name": "welcome", "language": { "code": "en" }, "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "Kim" }] }] })
    );
    let failed = change(json!({
        "statuses": [{ "id": "wamid.out2", "status": "failed", "timestamp": "1763900200", "recipient_id": "447700900123",
                       "errors": [{ "code": 131026, "title": "Message undeliverable", "message": "Message undeliverable" }] }],
    }));
    notify(&app, &stream_id, "app-secret-1", &failed).await;
    let undelivered = app.status_becomes(&token, "w-2", "undelivered").await;
    assert_eq!(
        undelivered["error"]["message"],
        "WhatsApp could not deliver it: Message undeliverable (Meta error 131026)."
    );
}

async fn account_of(app: &TestApp, stream_id: &StreamId) -> AccountId {
    sqlx::query_scalar("select account_id from streams where id = $1")
        .bind(stream_id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn whatsapp_templates_sync_from_the_business_account(backend: Backend) {
    let (graph, seen) = graph().await;
    let app = app_with(backend, Some(graph)).await;
    let TestStream { id: stream_id, .. } = whatsapp_stream(&app).await;
    app.sign_in("ann@acme.io", crate::helpers::PASSWORD).await;

    let (status, body) = app
        .server_fn_json(
            "/api/streams/whatsapp/templates/sync",
            &json!({ "id": stream_id }),
        )
        .await;
    assert_eq!((status, body.clone()), (StatusCode::OK, json!(2)), "{body}");
    let (_, settings) = app
        .server_fn_json("/api/streams/whatsapp", &json!({ "id": stream_id }))
        .await;
    assert_eq!(
        settings["templates"],
        json!([
            { "name": "order_update", "language": "en_US", "body": "Order {{1}} is {{2}}." },
            { "name": "welcome", "language": "en", "body": "Welcome, {{1}}!" },
        ])
    );
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls.len(), 2, "two pages");
    assert!(
        calls[0]
            .uri
            .contains("fields=name%2Clanguage%2Cstatus%2Ccomponents"),
        "{}",
        calls[0].uri
    );
    assert!(calls[1].uri.contains("after=c1"));

    // Syncing again changes nothing.
    let (_, body) = app
        .server_fn_json(
            "/api/streams/whatsapp/templates/sync",
            &json!({ "id": stream_id }),
        )
        .await;
    assert_eq!(body, json!(0));
}

async fn connections_belong_to_one_account(backend: Backend) {
    let app = app_with(backend, None).await;
    let key = app.secret_key();
    let ann = account(&app.db, "ann@acme.io").await;
    let bob = account(&app.db, "bob@globex.io").await;
    let input = |name: &str| ConnectionInput {
        name: name.into(),
        settings: ConnectionSettings::Http(Box::new(HttpSettings {
            url: "https://sms.example.com/v1".into(),
            ..HttpSettings::default()
        })),
        secret: None,
        is_default: false,
    };
    let anns = connections::save(&app.db, &key, &ann, None, input("Ann's"))
        .await
        .unwrap();
    connections::save(&app.db, &key, &bob, None, input("Bob's"))
        .await
        .unwrap();
    let (bobs_stream, _) = store::create(
        &app.db,
        &key,
        &bob,
        StreamKind::SmsMarketing,
        &StreamInput {
            name: "Bob's promo".into(),
            ..StreamInput::default()
        },
        false,
    )
    .await
    .unwrap();

    // Bob sees only his own, cannot change or delete Ann's, nor route through it.
    let listed = connections::list(&app.db, &bob).await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["Bob's"]
    );
    let changed = connections::save(&app.db, &key, &bob, Some(&anns.id), input("Mine now")).await;
    assert!(
        matches!(changed, Err(store::StreamError::NotFound)),
        "{changed:?}"
    );
    let deleted = connections::delete(&app.db, &bob, &anns.id).await;
    assert!(matches!(deleted, Err(store::StreamError::NotFound)));
    let routed =
        connections::set_stream_connection(&app.db, &bob, &bobs_stream.id, Some(&anns.id)).await;
    assert!(
        matches!(&routed, Err(store::StreamError::Invalid(e)) if e.code == "unknown_connection"),
        "{routed:?}"
    );
    // Nor can Ann route Bob's stream.
    let foreign = connections::set_stream_connection(&app.db, &ann, &bobs_stream.id, None).await;
    assert!(matches!(foreign, Err(store::StreamError::NotFound)));
    // Names are unique per account only.
    let again = connections::save(&app.db, &key, &bob, None, input("Ann's")).await;
    assert!(again.is_ok());
    let twice = connections::save(&app.db, &key, &bob, None, input("Ann's")).await;
    assert!(matches!(&twice, Err(store::StreamError::Invalid(e)) if e.code == "name_taken"));
    assert_eq!(
        connections::list(&app.db, &ann).await.unwrap()[0].name,
        "Ann's"
    );
}

async fn a_silent_graph_api_is_retried_then_fails_the_message(backend: Backend) {
    // Meta answers nothing within the timeout, every time.
    let (graph, seen) =
        peer(|_, _| (200, json!({ "messages": [{ "id": "wamid.late" }] }), 2_000)).await;
    let app = TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.whatsapp.base_url = format!("http://{graph}");
        config.whatsapp.timeout_ms = 300;
        config.delivery.retry_base_ms = 50;
        config.delivery.retry_max_ms = 100;
        config.delivery.max_attempts = 2;
    })
    .await;
    let TestStream {
        account,
        id: stream_id,
        token,
    } = whatsapp_stream(&app).await;
    add_welcome(&app, &account, &stream_id, "Welcome!").await;
    assert_eq!(
        send_welcome(&app, &token, "t-1", json!([])).await,
        StatusCode::OK
    );
    let failed = app.status_becomes(&token, "t-1", "sent_failed").await;
    assert_eq!(failed["error"]["code"], "provider_busy");
    assert_eq!(failed["error"]["message"], "Meta did not answer in time.");
    assert_eq!(seen.lock().unwrap().len(), 2, "max_attempts calls");
}

async fn a_message_nothing_can_carry_ends_in_no_routes(backend: Backend) {
    let app = app_with(backend, None).await;
    let key = app.secret_key();
    let account = account(&app.db, "ann@acme.io").await;
    let input = StreamInput {
        name: "Support".into(),
        ..StreamInput::default()
    };
    let stream = app
        .create_stream(&account, StreamKind::Whatsapp, &input)
        .await;
    // A phone-number id but no access token: Meta cannot be called for this stream.
    let settings = WhatsAppInput {
        business_account_id: "1234567890".into(),
        phone_number_ids: vec!["10987654321".into()],
        access_token: None,
        app_secret: None,
    };
    settings_store::save_whatsapp_settings(&app.db, &key, &account, &stream.id, settings)
        .await
        .unwrap();
    add_welcome(&app, &account, &stream.id, "Welcome!").await;
    assert_eq!(
        send_welcome(&app, &stream.token, "n-1", json!([])).await,
        StatusCode::OK
    );
    let stuck = app.status_becomes(&stream.token, "n-1", "no_routes").await;
    assert_eq!(stuck["error"]["code"], "whatsapp_not_configured", "{stuck}");
}
