//! WhatsApp requests: Cloud API bodies queued as they are, free-form messages (replies,
//! media) only within the window.

use app::{
    db::Db,
    streams::{
        StreamInput, StreamKind,
        settings::{WhatsAppInput, WhatsAppTemplate},
        settings_store,
    },
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::*;
use crate::{
    helpers::{Backend, TestApp, TestDatabase},
    on_both_backends,
};

on_both_backends!(whatsapp_requests_queue_cloud_api_bodies_and_replies_keep_to_the_window,);

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
    let TestStream { account, id, token } = stream_with(&app, StreamKind::Whatsapp, input).await;
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

    // Media is free-form too: not before the customer wrote.
    let document = json!({
        "recipient_phone": "+447700900123", "media_type": "document",
        "media_url": "https://cdn.acme.io/invoice.pdf", "caption": "Your invoice", "filename": "invoice.pdf",
        "callback_data": "invoice=77",
    });
    let (status, body) = call(&app, "/whatsapp/media/", &token, document.clone()).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "outside_service_window".into())
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

    // The demo recipient answers the delivered template (just after its step commits); the
    // window opens.
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
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let inbound = inbound.expect("the demo recipient replied");
    let mut answer = reply.clone();
    answer["reply_to"] = json!(inbound);
    let (status, body) = call(&app, "/whatsapp/reply/", &token, answer).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let payload = payload_of(&app.db, &body["messages"][0]["message_uuid"]).await;
    assert_eq!(payload["text"]["body"], "Hello!");
    assert_eq!(payload["context"]["message_id"], json!(inbound));
    let (status, body) = call(&app, "/whatsapp/media/", &token, document).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let media_uuid = body["messages"][0]["message_uuid"].clone();
    let media = payload_of(&app.db, &media_uuid).await;
    assert_eq!(
        media["document"],
        json!({ "link": "https://cdn.acme.io/invoice.pdf", "caption": "Your invoice", "filename": "invoice.pdf" })
    );
    let (_, tracked) = call(
        &app,
        "/status/",
        &token,
        json!({ "message_uuids": [media_uuid] }),
    )
    .await;
    assert_eq!(
        tracked["messages"][0]["callback_data"], "invoice=77",
        "{tracked}"
    );
    let mut wrong = reply;
    wrong["reply_to"] = json!("not-a-message");
    let (status, body) = call(&app, "/whatsapp/reply/", &token, wrong).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_reply_to".into())
    );

    let TestStream {
        token: sms_token, ..
    } = stream_with_account(&app, &account, StreamKind::SmsTwoWay).await;
    let (status, body) = call(&app, "/whatsapp/media/", &sms_token, json!({})).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::FORBIDDEN, "wrong_stream_type".into())
    );
}
