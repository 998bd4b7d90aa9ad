//! Opt-outs: a reply of STOP stops the stream's sends to the number until START, and wins over
//! a code being issued at the same moment.

use app::{messages::measure, phone::PhoneNumber, streams::StreamKind};
use reqwest::StatusCode;
use serde_json::json;
use sluice::engine::{
    Channel, Inbound, NewMessage, Route,
    otp::{self, NewOtp},
    receive,
};

use super::*;
use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
};

on_both_backends!(
    a_reply_of_stop_opts_the_number_out_until_start,
    a_stop_that_commits_while_a_code_is_issued_wins,
);

async fn a_reply_of_stop_opts_the_number_out_until_start(backend: Backend) {
    use sluice::engine::opt_keyword;

    assert_eq!(opt_keyword(" stop "), Some(true));
    assert_eq!(opt_keyword("Unsubscribe."), Some(true));
    assert_eq!(opt_keyword("START"), Some(false));
    assert_eq!(opt_keyword("Please stop by tomorrow"), None);

    let app = TestApp::spawn(backend).await;
    let TestStream {
        account,
        id: stream_id,
        token,
    } = stream_with(&app, StreamKind::SmsTwoWay, sms("Chat")).await;
    let reply = |content: &'static str| Inbound {
        account_id: &account,
        stream_id: &stream_id,
        channel: Channel::Demo,
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
    let TestStream { token: other, .. } =
        stream_with_account(&app, &account, StreamKind::SmsMarketing).await;
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
    let TestStream {
        account,
        id: stream_id,
        ..
    } = stream_with(&app, StreamKind::SmsOtp, sms("Logins")).await;
    let phone = "+447700900123";
    receive(
        &app.db,
        Inbound {
            account_id: &account,
            stream_id: &stream_id,
            channel: Channel::Demo,
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
        recipient: PhoneNumber::parse(phone).unwrap(),
        content: text.into(),
        size: measure(text),
        payload: None,
        callback_data: None,
    };
    let route = Route {
        account_id: &account,
        stream_id: &stream_id,
        channel: Channel::Demo,
        kind: app::streams::StreamKind::SmsOtp,
        connection_id: None,
        validity_ms: 60_000,
    };
    let code = NewOtp {
        code: "12345".into(),
        max_failures: 3,
        ttl_ms: 60_000,
    };

    let issued = otp::issue(&app.engine, &app.secret_key(), route, &message, &code, &[])
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
