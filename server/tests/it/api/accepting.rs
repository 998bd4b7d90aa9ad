//! Accepting messages: queued, measured and delivered by the demo channel; replays answer the
//! same message; concurrent requests and a failed commit cost no other request anything.

use app::{
    ids::{AccountId, StreamId},
    messages::measure,
    phone::PhoneNumber,
    streams::{
        StreamInput, StreamKind,
        store::{self},
    },
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sluice::engine::{Channel, NewMessage, Queued, Route, accept, accept::InternalId};

use super::*;
use crate::{
    helpers::{Backend, TestApp, TestDatabase},
    on_both_backends,
};

on_both_backends!(
    sent_messages_are_queued_measured_and_delivered_by_the_demo_channel,
    a_replayed_internal_id_answers_the_same_message_and_sends_nothing,
    concurrent_requests_each_get_their_own_answer,
    a_failed_commit_costs_no_other_request_its_messages,
    each_message_of_a_batch_is_checked_on_its_own,
    numbers_written_as_textpeak_clients_write_them_are_stored_in_e164,
    a_stream_with_messages_on_their_way_is_sending_and_counts_them,
);

async fn sent_messages_are_queued_measured_and_delivered_by_the_demo_channel(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { account, token, .. } =
        stream_with(&app, StreamKind::SmsMarketing, sms("Promo")).await;
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
    let log = |account: AccountId, filter: app::messages::MessageFilter| {
        let db = app.db.clone();
        async move {
            app::messages::queries::list(&db, &account, &filter)
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
    let TestStream { token, .. } =
        stream_with(&app, StreamKind::SmsTransactional, sms("Orders")).await;
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
    let TestStream { token, .. } =
        stream_with(&app, StreamKind::SmsTransactional, sms("Rush")).await;
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
    let TestStream {
        account,
        id: stream_id,
        token,
    } = stream_with(&app, StreamKind::SmsTransactional, sms("Orders")).await;
    let text = "Your order shipped";
    let order = |n: usize| NewMessage {
        internal_id: Some(InternalId::parse(&format!("order-{n}")).unwrap()),
        sender: Some("AcmeShop".into()),
        recipient: PhoneNumber::parse(&format!("+4477009002{n:02}")).unwrap(),
        content: text.into(),
        size: measure(text),
        payload: None,
        callback_data: None,
    };
    let kept = Route {
        account_id: &account,
        stream_id: &stream_id,
        channel: Channel::Demo,
        kind: app::streams::StreamKind::SmsMarketing,
        connection_id: None,
        validity_ms: 60_000,
    };
    let deleted_id = StreamId::from("str_deleted");
    let deleted = Route {
        stream_id: &deleted_id,
        ..kept
    };
    let requests = (0..8).map(|n| {
        let route = if n == 3 { deleted } else { kept };
        accept(&app.engine, route, vec![order(n)])
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

async fn numbers_written_as_textpeak_clients_write_them_are_stored_in_e164(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { token, .. } = stream_with(&app, StreamKind::SmsMarketing, sms("Promo")).await;

    let (status, body) = call(
        &app,
        "/simple_send/",
        &token,
        json!({ "messages": [
            message("no-plus", "972524265292", "Hi"),
            message("double-zero", "0044 7700 900123", "Hi"),
            message("spaced", "+1 (415) 555-0100", "Hi"),
            message("unknown-code", "+999 1234 5678", "Hi"),
            message("too-long", "+44 7700 900123 456", "Hi"),
        ]}),
    )
    .await;

    assert_eq!(status, StatusCode::OK, "{body}");
    let answers = body["messages"].as_array().unwrap();
    for answer in &answers[..3] {
        assert_eq!(answer["status"], "queued", "{answer}");
    }
    for answer in &answers[3..] {
        assert_eq!(answer["error"]["code"], "invalid_phone", "{answer}");
    }
    let mut stored: Vec<String> =
        sqlx::query_scalar("select recipient from messages order by recipient")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    stored.sort();
    assert_eq!(stored, ["+14155550100", "+447700900123", "+972524265292"]);
}

async fn each_message_of_a_batch_is_checked_on_its_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let customized = StreamInput {
        name: "Custom".into(),
        ..StreamInput::default()
    };
    let TestStream { token, .. } = stream_with(&app, StreamKind::SmsMarketing, customized).await;
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
            "invalid_phone",
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

async fn a_stream_with_messages_on_their_way_is_sending_and_counts_them(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    // Delivery reports take a minute: sent messages stay in flight for the whole test.
    let app = TestApp::spawn_configured(database, |config| {
        config.delivery.demo_delay_ms = 60_000;
    })
    .await;
    let TestStream { account, id, token } =
        stream_with(&app, StreamKind::SmsMarketing, sms("Busy")).await;
    stream_with_account(&app, &account, StreamKind::SmsMarketing).await;
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

    let stats = app::messages::queries::stats(&app.db, &account, &id)
        .await
        .unwrap();
    assert_eq!((stats.last_24h.sent, stats.last_24h.in_flight), (2, 2));
    assert_eq!(stats.last_7d.sent, 2);
    assert_eq!(stats.days.len(), 7);
    assert_eq!(stats.days[6].1.sent, 2);
}
