//! Type-specific stream settings and test recipients, stored on both backends.

use app::ids::{AccountId, StreamId};
use app::{
    crypto::SecretKey,
    db::Db,
    streams::{
        StreamInput, StreamKind,
        settings::{
            EventInput, OtpCodeSource, OtpSettings, WebhookHeader, WebhookInput, WebhookMethod,
            WhatsAppInput, WhatsAppTemplate,
        },
        settings_store as settings,
        store::{self, StreamError},
    },
};

use serde_json::json;

use crate::{
    helpers::{Backend, TestApp},
    on_both_backends,
    streams::account,
};

on_both_backends!(
    otp_settings_default_then_save_and_validate,
    events_are_created_edited_unique_and_deleted,
    webhooks_keep_headers_and_a_sealed_rotating_secret,
    whatsapp_secrets_are_sealed_and_kept_when_left_empty,
    test_recipients_are_e164_and_unique,
    settings_only_exist_for_the_types_that_have_them,
    one_account_never_reaches_another_accounts_settings,
    no_server_function_reaches_another_accounts_stream,
);

async fn stream(db: &Db, key: &SecretKey, account: &AccountId, kind: StreamKind) -> StreamId {
    let input = StreamInput {
        name: format!("{kind} stream"),
        ..StreamInput::default()
    };
    store::create(db, key, account, kind, &input, false)
        .await
        .unwrap()
        .0
        .id
}

fn code(error: StreamError) -> &'static str {
    match error {
        StreamError::Invalid(field) => field.code,
        other => panic!("expected a field error, got {other:?}"),
    }
}

async fn otp_settings_default_then_save_and_validate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let id = stream(&app.db, &key, &acme, StreamKind::SmsOtp).await;

    let defaults = settings::otp_settings(&app.db, &acme, &id).await.unwrap();
    assert_eq!(defaults, OtpSettings::default());

    let wanted = OtpSettings {
        source: OtpCodeSource::CustomerCode,
        code_length: 8,
        ttl_seconds: 600,
        max_failures: 3,
        per_phone_hour: 4,
        per_phone_day: 12,
        per_stream_hour: 300,
        per_range_burst: 7,
        template: "  Acme code: [code] ".into(),
    };
    let saved = settings::save_otp_settings(&app.db, &acme, &id, wanted.clone())
        .await
        .unwrap();
    assert_eq!(saved.template, "Acme code: [code]");
    assert_eq!(
        settings::otp_settings(&app.db, &acme, &id).await.unwrap(),
        saved
    );

    let too_short = OtpSettings {
        code_length: 2,
        ..wanted
    };
    let refused = settings::save_otp_settings(&app.db, &acme, &id, too_short).await;
    assert_eq!(code(refused.unwrap_err()), "out_of_range");
    assert_eq!(
        settings::otp_settings(&app.db, &acme, &id).await.unwrap(),
        saved
    );
}

async fn events_are_created_edited_unique_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let id = stream(&app.db, &key, &acme, StreamKind::SmsTransactional).await;
    let event = |key: &str, body: &str| EventInput {
        key: key.into(),
        body: body.into(),
        sender: None,
        active: true,
    };

    let shipped = settings::save_event(
        &app.db,
        &acme,
        &id,
        None,
        event("order_shipped", "Order {{order}} shipped"),
    )
    .await
    .unwrap();
    settings::save_event(
        &app.db,
        &acme,
        &id,
        None,
        event("login_otp", "Code {{code}}"),
    )
    .await
    .unwrap();
    let duplicate = settings::save_event(&app.db, &acme, &id, None, event("login_otp", "Again"));
    assert_eq!(code(duplicate.await.unwrap_err()), "event_exists");
    let broken = settings::save_event(&app.db, &acme, &id, None, event("broken", "Hi {{name"));
    assert_eq!(code(broken.await.unwrap_err()), "invalid_template");

    let mut edited = event("order_shipped", "Order {{order}} is on its way");
    edited.active = false;
    edited.sender = Some("AcmeShop".into());
    settings::save_event(&app.db, &acme, &id, Some(&shipped.id), edited)
        .await
        .unwrap();
    let listed = settings::events(&app.db, &acme, &id).await.unwrap();
    let keys: Vec<_> = listed.iter().map(|e| e.input.key.as_str()).collect();
    assert_eq!(keys, ["login_otp", "order_shipped"]);
    assert_eq!(listed[1].input.body, "Order {{order}} is on its way");
    assert_eq!(listed[1].input.sender.as_deref(), Some("AcmeShop"));
    assert!(!listed[1].input.active);

    settings::delete_event(&app.db, &acme, &id, &shipped.id)
        .await
        .unwrap();
    assert!(matches!(
        settings::delete_event(&app.db, &acme, &id, &shipped.id).await,
        Err(StreamError::NotFound)
    ));
    assert_eq!(
        settings::events(&app.db, &acme, &id).await.unwrap().len(),
        1
    );
}

async fn webhooks_keep_headers_and_a_sealed_rotating_secret(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let id = stream(&app.db, &key, &acme, StreamKind::SmsTwoWay).await;
    assert!(
        settings::webhook(&app.db, &acme, &id)
            .await
            .unwrap()
            .is_none()
    );

    let input = WebhookInput {
        method: WebhookMethod::Get,
        url: "https://hooks.acme.io/sms".into(),
        headers: vec![WebhookHeader {
            name: "X-Api-Key".into(),
            value: "k-123".into(),
        }],
        enabled: true,
    };
    settings::save_webhook(&app.db, &key, &acme, &id, input.clone())
        .await
        .unwrap();
    let stored = settings::webhook(&app.db, &acme, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.input, input);

    let secret = settings::webhook_signing_secret(&app.db, &key, &acme, &id, false)
        .await
        .unwrap();
    assert!(secret.starts_with("whsec_"));
    let sealed: String =
        sqlx::query_scalar("select secret_sealed from webhooks where stream_id = $1")
            .bind(&id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(
        !sealed.contains(&secret[6..]),
        "the secret is stored sealed"
    );

    // Saving again keeps the secret; rotating replaces it.
    settings::save_webhook(&app.db, &key, &acme, &id, input.clone())
        .await
        .unwrap();
    let kept = settings::webhook_signing_secret(&app.db, &key, &acme, &id, false)
        .await
        .unwrap();
    assert_eq!(kept, secret);
    let rotated = settings::webhook_signing_secret(&app.db, &key, &acme, &id, true)
        .await
        .unwrap();
    assert_ne!(rotated, secret);

    let bad = WebhookInput {
        url: "ftp://hooks.acme.io".into(),
        ..input
    };
    let refused = settings::save_webhook(&app.db, &key, &acme, &id, bad).await;
    assert_eq!(code(refused.unwrap_err()), "invalid_url");
    settings::delete_webhook(&app.db, &acme, &id).await.unwrap();
    assert!(
        settings::webhook(&app.db, &acme, &id)
            .await
            .unwrap()
            .is_none()
    );
}

async fn whatsapp_secrets_are_sealed_and_kept_when_left_empty(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let id = stream(&app.db, &key, &acme, StreamKind::Whatsapp).await;
    let input = WhatsAppInput {
        business_account_id: "102290129340398".into(),
        phone_number_ids: vec!["106540352242922".into()],
        access_token: Some("EAAG-first-token".into()),
        app_secret: Some("app-secret-1".into()),
    };

    let saved = settings::save_whatsapp_settings(&app.db, &key, &acme, &id, input.clone())
        .await
        .unwrap();
    assert!(saved.has_access_token && saved.has_app_secret);
    let columns: (String, String) = sqlx::query_as(
        "select access_token_sealed, app_secret_sealed from whatsapp_settings where stream_id = $1",
    )
    .bind(&id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(!columns.0.contains("first-token") && !columns.1.contains("secret-1"));

    let without_secrets = WhatsAppInput {
        phone_number_ids: vec!["106540352242922".into(), "106540352242923".into()],
        access_token: None,
        app_secret: None,
        ..input.clone()
    };
    let updated = settings::save_whatsapp_settings(&app.db, &key, &acme, &id, without_secrets)
        .await
        .unwrap();
    assert_eq!(updated.phone_number_ids.len(), 2);
    assert_eq!(
        settings::whatsapp_secrets(&app.db, &key, &acme, &id)
            .await
            .unwrap(),
        (Some("EAAG-first-token".into()), Some("app-secret-1".into()))
    );
    let new_token = WhatsAppInput {
        access_token: Some("EAAG-second-token".into()),
        app_secret: None,
        ..input
    };
    settings::save_whatsapp_settings(&app.db, &key, &acme, &id, new_token)
        .await
        .unwrap();
    assert_eq!(
        settings::whatsapp_secrets(&app.db, &key, &acme, &id)
            .await
            .unwrap()
            .0
            .as_deref(),
        Some("EAAG-second-token")
    );

    let template = WhatsAppTemplate {
        name: "order_update".into(),
        language: "en_US".into(),
        body: "Order {{1}} ships {{2}}".into(),
    };
    settings::add_whatsapp_template(&app.db, &acme, &id, template.clone())
        .await
        .unwrap();
    let again = settings::add_whatsapp_template(&app.db, &acme, &id, template.clone()).await;
    assert_eq!(code(again.unwrap_err()), "template_exists");
    let listed = settings::whatsapp_settings(&app.db, &acme, &id)
        .await
        .unwrap();
    assert_eq!(listed.templates, vec![template]);
    settings::delete_whatsapp_template(&app.db, &acme, &id, "order_update", "en_US")
        .await
        .unwrap();
    assert!(
        settings::whatsapp_settings(&app.db, &acme, &id)
            .await
            .unwrap()
            .templates
            .is_empty()
    );
}

async fn test_recipients_are_e164_and_unique(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let id = stream(&app.db, &key, &acme, StreamKind::SmsMarketing).await;

    let added = settings::add_test_recipient(&app.db, &acme, &id, "+44 7700 900123")
        .await
        .unwrap();
    assert_eq!(added, "+447700900123");
    let again = settings::add_test_recipient(&app.db, &acme, &id, "+447700900123").await;
    assert_eq!(code(again.unwrap_err()), "recipient_exists");
    let bad = settings::add_test_recipient(&app.db, &acme, &id, "07700 900123").await;
    assert_eq!(code(bad.unwrap_err()), "invalid_phone");
    settings::add_test_recipient(&app.db, &acme, &id, "+14155550100")
        .await
        .unwrap();
    assert_eq!(
        settings::test_recipients(&app.db, &acme, &id)
            .await
            .unwrap(),
        ["+447700900123", "+14155550100"]
    );
    let restricted = store::set_restricted(&app.db, &acme, &id, true)
        .await
        .unwrap();
    assert!(restricted.restricted);
    settings::remove_test_recipient(&app.db, &acme, &id, "+447700900123")
        .await
        .unwrap();
    assert_eq!(
        settings::test_recipients(&app.db, &acme, &id)
            .await
            .unwrap(),
        ["+14155550100"]
    );
}

async fn settings_only_exist_for_the_types_that_have_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let marketing = stream(&app.db, &key, &acme, StreamKind::SmsMarketing).await;
    let db = &app.db;
    let wrong = |result: Result<(), StreamError>| {
        assert!(
            matches!(result, Err(StreamError::WrongKind(_))),
            "{result:?}"
        );
    };
    wrong(
        settings::otp_settings(db, &acme, &marketing)
            .await
            .map(drop),
    );
    wrong(settings::events(db, &acme, &marketing).await.map(drop));
    wrong(
        settings::whatsapp_settings(db, &acme, &marketing)
            .await
            .map(drop),
    );
    // Every type has a webhook (status callbacks) and can be restricted to test recipients.
    assert_eq!(
        settings::webhook(db, &acme, &marketing).await.unwrap(),
        None
    );
    assert!(
        settings::test_recipients(db, &acme, &marketing)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn one_account_never_reaches_another_accounts_settings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let globex = account(&app.db, "bob@globex.io").await;
    let db = &app.db;
    let otp = stream(db, &key, &acme, StreamKind::SmsOtp).await;
    let whatsapp = stream(db, &key, &acme, StreamKind::Whatsapp).await;
    let event = settings::save_event(
        db,
        &acme,
        &otp,
        None,
        EventInput {
            key: "login".into(),
            body: "Code {{code}}".into(),
            sender: None,
            active: true,
        },
    )
    .await
    .unwrap();
    let webhook = WebhookInput {
        url: "https://hooks.acme.io".into(),
        ..WebhookInput::default()
    };
    settings::save_webhook(db, &key, &acme, &whatsapp, webhook.clone())
        .await
        .unwrap();

    let not_found = |result: Result<(), StreamError>| {
        assert!(matches!(result, Err(StreamError::NotFound)), "{result:?}");
    };
    not_found(settings::otp_settings(db, &globex, &otp).await.map(drop));
    not_found(
        settings::save_otp_settings(db, &globex, &otp, OtpSettings::default())
            .await
            .map(drop),
    );
    not_found(settings::events(db, &globex, &otp).await.map(drop));
    not_found(settings::delete_event(db, &globex, &otp, &event.id).await);
    not_found(
        settings::save_event(db, &globex, &otp, Some(&event.id), event.input.clone())
            .await
            .map(drop),
    );
    not_found(settings::webhook(db, &globex, &whatsapp).await.map(drop));
    not_found(
        settings::save_webhook(db, &key, &globex, &whatsapp, webhook)
            .await
            .map(drop),
    );
    not_found(
        settings::webhook_signing_secret(db, &key, &globex, &whatsapp, true)
            .await
            .map(drop),
    );
    not_found(settings::delete_webhook(db, &globex, &whatsapp).await);
    not_found(
        settings::whatsapp_settings(db, &globex, &whatsapp)
            .await
            .map(drop),
    );
    not_found(
        settings::whatsapp_secrets(db, &key, &globex, &whatsapp)
            .await
            .map(drop),
    );
    not_found(settings::test_recipients(db, &globex, &otp).await.map(drop));
    not_found(
        settings::add_test_recipient(db, &globex, &otp, "+447700900123")
            .await
            .map(drop),
    );

    assert_eq!(
        settings::events(db, &acme, &otp).await.unwrap(),
        vec![event]
    );
    assert!(
        settings::webhook(db, &acme, &whatsapp)
            .await
            .unwrap()
            .is_some()
    );
}

async fn no_server_function_reaches_another_accounts_stream(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    app.sign_up("ann@acme.io").await;
    let (status, created) = app
        .server_fn_json(
            "/api/streams/create",
            &json!({
                "kind": "whatsapp",
                "input": { "name": "Acme chat", "description": "", "demo": true,
                           "ip_acl_enabled": false, "allowed_ips": [], "tags": [],
                           "default_sender": null },
                "draft": false,
            }),
        )
        .await;
    assert!(status.is_success(), "{created}");
    let id = StreamId::from(created["stream"]["id"].as_str().unwrap());

    app.client = TestApp::new_client();
    app.sign_up("bob@globex.io").await;
    let calls = [
        ("/api/streams/get", json!({ "id": id })),
        (
            "/api/streams/update",
            json!({ "id": id, "input": { "name": "Mine", "description": "",
            "demo": false, "ip_acl_enabled": false, "allowed_ips": [], "tags": [],
            "default_sender": null } }),
        ),
        ("/api/streams/token", json!({ "id": id })),
        ("/api/streams/reset-token", json!({ "id": id })),
        (
            "/api/streams/action",
            json!({ "id": id, "action": "delete" }),
        ),
        ("/api/streams/step", json!({ "id": id, "step": "summary" })),
        ("/api/streams/whatsapp", json!({ "id": id })),
        (
            "/api/streams/whatsapp/save",
            json!({ "id": id, "input": {
            "business_account_id": "102290129340398", "phone_number_ids": ["106540352242922"],
            "access_token": "stolen", "app_secret": null } }),
        ),
        (
            "/api/streams/whatsapp/templates/add",
            json!({ "id": id, "template": {
            "name": "x", "language": "en", "body": "x" } }),
        ),
        ("/api/streams/webhook", json!({ "id": id })),
        (
            "/api/streams/webhook/save",
            json!({ "id": id, "input": { "method": "POST",
            "url": "https://evil.example", "headers": [], "enabled": true } }),
        ),
        (
            "/api/streams/webhook/secret",
            json!({ "id": id, "rotate": false }),
        ),
        ("/api/streams/webhook/delete", json!({ "id": id })),
        ("/api/streams/recipients", json!({ "id": id })),
        (
            "/api/streams/recipients/add",
            json!({ "id": id, "phone": "+447700900123" }),
        ),
        ("/api/streams/events", json!({ "id": id })),
        ("/api/streams/otp", json!({ "id": id })),
    ];
    for (path, arguments) in calls {
        let (status, error) = app.server_fn_json(path, &arguments).await;
        assert!(!status.is_success(), "{path} answered {status}: {error}");
        assert_eq!(error["code"], "stream_not_found", "{path}: {error}");
    }

    let stream = store::get(&app.db, &account_id(&app.db, "ann@acme.io").await, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stream.name, "Acme chat");
    assert!(
        sqlx::query_scalar::<_, String>("select stream_id from webhooks")
            .fetch_optional(app.db.pool())
            .await
            .unwrap()
            .is_none()
    );
}

async fn account_id(db: &Db, email: &str) -> AccountId {
    sqlx::query_scalar("select account_id from users where email = $1")
        .bind(email)
        .fetch_one(db.pool())
        .await
        .unwrap()
}
