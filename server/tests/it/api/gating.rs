//! What a token's stream lets through: the token, the IP allow-list, the stream's status and,
//! while restricted, only its test recipients.

use app::streams::{
    StreamKind, settings_store,
    store::{self},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
};

on_both_backends!(
    tokens_ip_lists_and_stream_status_gate_every_request,
    a_restricted_stream_sends_only_to_its_test_recipients,
);

async fn tokens_ip_lists_and_stream_status_gate_every_request(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { account, id, token } =
        stream_with(&app, StreamKind::SmsMarketing, sms("Gated")).await;
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

async fn a_restricted_stream_sends_only_to_its_test_recipients(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { account, id, token } =
        stream_with(&app, StreamKind::SmsMarketing, sms("Staging")).await;
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
