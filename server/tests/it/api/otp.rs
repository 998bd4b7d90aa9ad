//! One-time passwords: generated or given codes, checked once, within their limits.

use app::messages::inbox::text_place;
use app::streams::{
    StreamKind,
    settings::{OtpCodeSource, OtpSettings},
    settings_store,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
};

on_both_backends!(otp_codes_are_sent_checked_once_and_limited,);

async fn otp_codes_are_sent_checked_once_and_limited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { account, id, token } =
        stream_with(&app, StreamKind::SmsOtp, sms("Logins")).await;
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
    let text = app.secret_key().open(&payload, text_place(uuid)).unwrap();
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
    // Only a digest of it: 64 hex digits, never the code.
    assert!(
        stored.len() == 64 && stored.chars().all(|c| c.is_ascii_hexdigit()),
        "{stored}"
    );
    assert_ne!(stored, code);
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

    let TestStream {
        token: marketing, ..
    } = stream_with_account(&app, &account, StreamKind::SmsMarketing).await;
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
