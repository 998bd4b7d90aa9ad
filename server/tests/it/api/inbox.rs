//! The test inbox of demo streams: what a stream sent as its recipients' phones show it (whole
//! OTP texts and their codes), filtered, waiting for the next message when asked, never another
//! stream's, never a real stream's.

use std::time::{Duration, Instant};

use app::streams::{StreamInput, StreamKind, settings::EventInput, settings_store};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::{
    helpers::{Backend, PASSWORD, TestApp, TestDatabase, TestStream},
    on_both_backends,
};

on_both_backends!(
    the_inbox_shows_a_demo_streams_messages_and_their_codes,
    a_waiting_look_answers_as_soon_as_a_message_is_queued,
    a_wait_is_held_at_most_as_long_as_the_operator_allows,
    the_consoles_inbox_reads_only_the_accounts_demo_streams,
);

fn demo(name: &str) -> StreamInput {
    StreamInput {
        demo: true,
        ..sms(name)
    }
}

async fn look(app: &TestApp, token: &str, query: &str) -> (StatusCode, Value) {
    let response = app
        .client
        .get(app.url(&format!("/demo/messages{query}")))
        .header("authorization", token)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

fn send(phone: &str, text: &str) -> Value {
    json!({ "messages": [{ "recipient_phone": phone, "message_content": text }] })
}

async fn the_inbox_shows_a_demo_streams_messages_and_their_codes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { account, token, .. } =
        stream_with(&app, StreamKind::SmsMarketing, demo("News")).await;
    let other = app
        .create_stream(&account, StreamKind::SmsMarketing, &demo("Other"))
        .await;
    let elsewhere = crate::streams::account(&app.db, "bob@globex.io").await;
    let theirs = app
        .create_stream(&elsewhere, StreamKind::SmsMarketing, &demo("Theirs"))
        .await;
    call(
        &app,
        "/simple_send/",
        &token,
        send("+447700900123", "First"),
    )
    .await;
    call(
        &app,
        "/simple_send/",
        &token,
        send("+447700900124", "Second"),
    )
    .await;
    call(
        &app,
        "/simple_send/",
        &other.token,
        send("+447700900123", "Not yours"),
    )
    .await;
    call(
        &app,
        "/simple_send/",
        &theirs.token,
        send("+447700900123", "Not yours either"),
    )
    .await;

    let (status, all) = look(&app, &token, "").await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let texts: Vec<&str> = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Second", "First"]);
    assert_eq!(all["messages"][0]["sender"], "AcmeShop");
    let (_, one) = look(&app, &token, "?recipient=447700900123").await;
    assert_eq!(one["messages"].as_array().unwrap().len(), 1);
    assert_eq!(one["messages"][0]["recipient_phone"], "+447700900123");
    let (_, later) = look(&app, &token, "?since=2999-01-01T00:00:00Z").await;
    assert_eq!(later["messages"], json!([]));

    // An OTP stream's message shows whole, with its code, which then verifies.
    let otp = app
        .create_stream(&account, StreamKind::SmsOtp, &demo("Logins"))
        .await;
    let (status, issued) = call(
        &app,
        "/otp/auth",
        &otp.token,
        json!({ "recipient_phone": "+447700900125" }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let (_, codes) = look(&app, &otp.token, "?recipient=%2B447700900125").await;
    let code = codes["messages"][0]["code"].as_str().unwrap().to_string();
    assert!(
        codes["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains(&code)
    );
    assert!(
        !codes["messages"][0]["content"]
            .as_str()
            .unwrap()
            .contains('*')
    );
    let (_, verified) = call(
        &app,
        "/otp/verify",
        &otp.token,
        json!({ "otp_id": issued["otp_id"], "code": code }),
    )
    .await;
    assert_eq!(verified["result"], "verified", "{verified}");

    // An event template's code, read from a text that speaks of one.
    let receipts = app
        .create_stream(&account, StreamKind::SmsTransactional, &demo("Receipts"))
        .await;
    settings_store::save_event(
        &app.db,
        &account,
        &receipts.id,
        None,
        EventInput {
            key: "login".into(),
            body: "Your Acme code is {{code}}.".into(),
            sender: None,
            active: true,
        },
    )
    .await
    .unwrap();
    call(
        &app,
        "/event_send/",
        &receipts.token,
        json!({ "event": "login", "recipients": [{ "recipient_phone": "+447700900126", "template_variables": { "code": "4821" } }] }),
    )
    .await;
    let (_, event) = look(&app, &receipts.token, "").await;
    assert_eq!(event["messages"][0]["code"], "4821");

    // Refusals: a real stream, a bad time, too long a wait.
    let real = app
        .create_stream(&account, StreamKind::SmsMarketing, &sms("Real"))
        .await;
    let (status, refused) = look(&app, &real.token, "").await;
    assert_eq!(
        (status, refused["error"]["code"].clone()),
        (StatusCode::FORBIDDEN, json!("not_a_demo_stream"))
    );
    let (status, bad) = look(&app, &token, "?since=yesterday").await;
    assert_eq!(
        (status, bad["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_since"))
    );
    let (status, long) = look(&app, &token, "?wait=31").await;
    assert_eq!(
        (status, long["error"]["code"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("invalid_wait"))
    );
}

async fn a_waiting_look_answers_as_soon_as_a_message_is_queued(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { token, .. } = stream_with(&app, StreamKind::SmsMarketing, demo("News")).await;
    let started = Instant::now();
    let waiting = {
        let client = app.client.clone();
        let url = app.url("/demo/messages?recipient=%2B447700900123&wait=20");
        let token = token.clone();
        tokio::spawn(async move {
            let response = client
                .get(url)
                .header("authorization", token)
                .send()
                .await
                .unwrap();
            (Instant::now(), response.json::<Value>().await.unwrap())
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    // Another recipient's message does not end the wait.
    call(
        &app,
        "/simple_send/",
        &token,
        send("+447700900999", "Not this one"),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    call(
        &app,
        "/simple_send/",
        &token,
        send("+447700900123", "Your code is 123456"),
    )
    .await;
    let sent = Instant::now();
    let (answered, body) = waiting.await.unwrap();
    assert_eq!(body["messages"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["messages"][0]["code"], "123456");
    assert!(answered >= sent.checked_sub(Duration::from_millis(50)).unwrap_or(sent));
    assert!(
        answered.duration_since(started) < Duration::from_secs(10),
        "the look waited for its whole wait"
    );
}

async fn a_wait_is_held_at_most_as_long_as_the_operator_allows(backend: Backend) {
    let app = TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.limits.inbox_wait_secs = 1;
    })
    .await;
    let TestStream { token, .. } = stream_with(&app, StreamKind::SmsMarketing, demo("News")).await;
    let started = Instant::now();
    let (status, body) = look(&app, &token, "?wait=30").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["messages"], json!([]));
    let held = started.elapsed();
    assert!(held >= Duration::from_millis(900), "{held:?}");
    assert!(held < Duration::from_secs(10), "{held:?}");
}

async fn the_consoles_inbox_reads_only_the_accounts_demo_streams(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let otp = stream_with(&app, StreamKind::SmsOtp, demo("Logins")).await;
    let real = app
        .create_stream(&otp.account, StreamKind::SmsMarketing, &sms("Real"))
        .await;
    let elsewhere = crate::streams::account(&app.db, "bob@globex.io").await;
    let theirs = app
        .create_stream(&elsewhere, StreamKind::SmsOtp, &demo("Theirs"))
        .await;
    for (token, phone) in [(&otp.token, "+447700900123"), (&otp.token, "+447700900124")] {
        let (status, body) = call(
            &app,
            "/otp/auth",
            token,
            json!({ "recipient_phone": phone }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    call(
        &app,
        "/otp/auth",
        &theirs.token,
        json!({ "recipient_phone": "+447700900123" }),
    )
    .await;
    app.sign_in("ann@acme.io", PASSWORD).await;
    let inbox = |id: &app::ids::StreamId, recipient: &str, since: Option<u32>| json!({ "id": id, "recipient": recipient, "since_minutes": since });

    let (status, all) = app
        .server_fn_json("/api/messages/inbox", &inbox(&otp.id, "", None))
        .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["recipient"], "+447700900124");
    let code = all[0]["code"].as_str().unwrap();
    assert!(all[0]["content"].as_str().unwrap().contains(code));
    let (_, one) = app
        .server_fn_json(
            "/api/messages/inbox",
            &inbox(&otp.id, "+44 7700 900123", Some(5)),
        )
        .await;
    assert_eq!(one.as_array().unwrap().len(), 1, "{one}");
    assert_eq!(one[0]["recipient"], "+447700900123");

    // Another account's stream is as missing as a deleted one; a real stream has no inbox.
    for (id, code) in [
        (&theirs.id, "stream_not_found"),
        (&real.id, "not_a_demo_stream"),
    ] {
        let (status, refused) = app
            .server_fn_json("/api/messages/inbox", &inbox(id, "", None))
            .await;
        assert!(!status.is_success(), "{refused}");
        assert_eq!(refused["code"], code, "{refused}");
    }
    let (_, bad) = app
        .server_fn_json("/api/messages/inbox", &inbox(&otp.id, "call me", None))
        .await;
    assert_eq!(bad["code"], "invalid_phone", "{bad}");
}
