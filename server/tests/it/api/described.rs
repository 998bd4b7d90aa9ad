//! The API as described: the console's request previews are accepted as they are, and the
//! OpenAPI document names every endpoint.

use app::streams::{
    StreamKind,
    settings::{EventInput, WhatsAppInput, WhatsAppTemplate},
    settings_store,
    store::{self},
};
use reqwest::StatusCode;
use serde_json::Value;

use super::*;
use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
    streams::account,
};

on_both_backends!(
    the_console_request_previews_are_accepted_by_the_api,
    the_openapi_document_describes_every_endpoint,
);

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
                // No customer wrote to the demo number yet: free-form messages wait.
                "/whatsapp/reply/" | "/whatsapp/media/" => StatusCode::FORBIDDEN,
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
        "/demo/inbound",
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
        "callback_data",
    ] {
        assert!(message[field].is_object(), "SimpleMessage lacks {field}");
    }
    // Every POST that takes a token takes an Idempotency-Key.
    let key = &paths["/simple_send/"]["post"]["parameters"][0];
    assert_eq!(key["name"], "Idempotency-Key");
    assert_eq!(key["in"], "header");
    assert_eq!(
        document["components"]["securitySchemes"]["token"]["name"],
        "Authorization"
    );
}
