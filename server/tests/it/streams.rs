use app::{
    auth::store::{SignUp, sign_up},
    crypto::SecretKey,
    db::Db,
    streams::{
        StreamFilter, StreamInput, StreamKind, StreamStatus, settings_store,
        store::{self, StreamError},
    },
};

use crate::{
    helpers::{Backend, PASSWORD, TestApp, TestDatabase},
    on_both_backends,
};

on_both_backends!(
    a_created_stream_lists_with_normalised_ips_tags_and_sender,
    filters_and_pages_select_the_right_streams,
    tokens_are_revealed_reset_and_revoked,
    drafts_only_allow_edit_and_delete,
    one_account_never_reaches_another_accounts_streams,
    invalid_input_is_refused_and_writes_nothing,
    sender_ids_are_unique_and_deleting_one_makes_streams_customized,
    whatsapp_streams_follow_the_operators_feature_setting,
);

pub async fn account(db: &Db, email: &str) -> app::ids::AccountId {
    sign_up(db, SignUp::parse("", email, PASSWORD).unwrap(), None)
        .await
        .unwrap()
        .account_id
}

fn input(name: &str) -> StreamInput {
    StreamInput {
        name: name.into(),
        ..StreamInput::default()
    }
}

async fn a_created_stream_lists_with_normalised_ips_tags_and_sender(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let details = StreamInput {
        name: "  Login codes ".into(),
        description: "OTP for the web app".into(),
        demo: true,
        demo_predictable: true,
        ip_acl_enabled: true,
        allowed_ips: vec![
            "10.1.2.3/8".into(),
            "203.0.113.7".into(),
            "10.0.0.0/8".into(),
        ],
        tags: vec!["auth".into(), "web".into(), "auth".into()],
        default_sender: Some("AcmeShop".into()),
        max_rate: Some(50),
        allowed_countries: vec![" +44".into(), "1".into(), "+44".into()],
    };

    let (created, token) = store::create(&app.db, &key, &acme, StreamKind::SmsOtp, &details, false)
        .await
        .unwrap();
    let page = store::list(&app.db, &acme, &StreamFilter::default())
        .await
        .unwrap();

    assert_eq!(page.total, 1);
    assert_eq!(page.streams, vec![created.clone()]);
    assert_eq!(created.name, "Login codes");
    assert_eq!(created.kind, StreamKind::SmsOtp);
    assert_eq!(created.status, StreamStatus::Ready);
    assert!(created.demo && created.demo_predictable);
    assert!(created.ip_acl_enabled && !created.restricted);
    assert_eq!(created.allowed_ips, vec!["10.0.0.0/8", "203.0.113.7/32"]);
    assert_eq!(created.tags, vec!["auth", "web"]);
    assert_eq!(created.default_sender.as_deref(), Some("AcmeShop"));
    assert_eq!(created.max_rate, Some(50));
    assert_eq!(created.allowed_countries, vec!["+44", "+1"]);
    assert_eq!(
        store::sender_ids(&app.db, &acme).await.unwrap(),
        vec!["AcmeShop"]
    );
    assert_eq!(
        store::tags(&app.db, &acme).await.unwrap(),
        vec!["auth", "web"]
    );
    assert_eq!(token.len(), 43);
}

async fn filters_and_pages_select_the_right_streams(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    for n in 1..=65 {
        let mut details = input(&format!("Stream {n:02}"));
        details.tags = vec![if n % 2 == 0 { "even" } else { "odd" }.into()];
        let (stream, _) = store::create(
            &app.db,
            &key,
            &acme,
            StreamKind::SmsMarketing,
            &details,
            n % 10 == 0,
        )
        .await
        .unwrap();
        if n % 13 == 0 {
            store::set_enabled(&app.db, &acme, &stream.id, false)
                .await
                .unwrap();
        }
    }
    store::create(
        &app.db,
        &key,
        &acme,
        StreamKind::Whatsapp,
        &input("100%_done"),
        false,
    )
    .await
    .unwrap();
    let filter = |f: fn(&mut StreamFilter)| {
        let mut filter = StreamFilter::default();
        f(&mut filter);
        filter
    };

    let first = store::list(&app.db, &acme, &filter(|f| f.per_page = 50))
        .await
        .unwrap();
    let second = store::list(
        &app.db,
        &acme,
        &filter(|f| {
            f.per_page = 50;
            f.page = 2
        }),
    )
    .await
    .unwrap();
    let named = store::list(&app.db, &acme, &filter(|f| f.name = "STREAM 0".into()))
        .await
        .unwrap();
    let literal = store::list(&app.db, &acme, &filter(|f| f.name = "%_".into()))
        .await
        .unwrap();
    let drafts = store::list(
        &app.db,
        &acme,
        &filter(|f| f.status = Some(StreamStatus::Draft)),
    )
    .await
    .unwrap();
    let disabled = store::list(
        &app.db,
        &acme,
        &filter(|f| f.status = Some(StreamStatus::Disabled)),
    )
    .await
    .unwrap();
    let even = store::list(
        &app.db,
        &acme,
        &filter(|f| {
            f.tag = "even".into();
            f.per_page = 100
        }),
    )
    .await
    .unwrap();

    assert_eq!((first.total, first.streams.len()), (66, 50));
    assert_eq!(first.streams[0].name, "100%_done", "newest first");
    assert_eq!(second.streams.len(), 16);
    assert_eq!(named.total, 9);
    assert_eq!(literal.streams.len(), 1);
    assert_eq!(drafts.total, 6);
    assert_eq!(disabled.total, 5);
    assert_eq!(even.total, 32);
    assert!(even.streams.iter().all(|s| s.tags == vec!["even"]));
}

async fn tokens_are_revealed_reset_and_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let (stream, token) = store::create(
        &app.db,
        &key,
        &acme,
        StreamKind::SmsTransactional,
        &input("Receipts"),
        false,
    )
    .await
    .unwrap();

    assert_eq!(
        store::reveal_token(&app.db, &key, &acme, &stream.id)
            .await
            .unwrap(),
        token
    );
    assert_eq!(
        store::find_by_token(&app.db, &token)
            .await
            .unwrap()
            .unwrap()
            .1
            .id,
        stream.id
    );
    let fresh = store::reset_token(&app.db, &key, &acme, &stream.id)
        .await
        .unwrap();
    assert_ne!(fresh, token);
    assert!(
        store::find_by_token(&app.db, &token)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store::reveal_token(&app.db, &key, &acme, &stream.id)
            .await
            .unwrap(),
        fresh
    );
    assert!(matches!(
        store::reveal_token(&app.db, &SecretKey::generate(), &acme, &stream.id).await,
        Err(StreamError::Crypto(_))
    ));
    store::delete(&app.db, &acme, &stream.id).await.unwrap();
    assert!(
        store::find_by_token(&app.db, &fresh)
            .await
            .unwrap()
            .is_none()
    );
}

async fn drafts_only_allow_edit_and_delete(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let (draft, _) = store::create(
        &app.db,
        &key,
        &acme,
        StreamKind::SmsTwoWay,
        &input("Half done"),
        true,
    )
    .await
    .unwrap();

    assert_eq!(draft.status, StreamStatus::Draft);
    assert!(matches!(
        store::set_enabled(&app.db, &acme, &draft.id, false).await,
        Err(StreamError::Draft(_))
    ));
    assert!(matches!(
        store::set_restricted(&app.db, &acme, &draft.id, true).await,
        Err(StreamError::Draft(_))
    ));
    let edited = store::update(&app.db, &acme, &draft.id, &input("Nearly done"))
        .await
        .unwrap();
    assert_eq!(
        (edited.name.as_str(), edited.status, edited.max_rate),
        ("Nearly done", StreamStatus::Draft, None)
    );
    store::delete(&app.db, &acme, &draft.id).await.unwrap();

    let (ready, _) = store::create(
        &app.db,
        &key,
        &acme,
        StreamKind::SmsTwoWay,
        &input("Live"),
        false,
    )
    .await
    .unwrap();
    let disabled = store::set_enabled(&app.db, &acme, &ready.id, false)
        .await
        .unwrap();
    let refused = store::set_restricted(&app.db, &acme, &ready.id, true).await;
    assert!(
        matches!(refused, Err(StreamError::Invalid(ref e)) if e.code == "test_recipients_required")
    );
    settings_store::add_test_recipient(&app.db, &acme, &ready.id, "+447700900123")
        .await
        .unwrap();
    let restricted = store::set_restricted(&app.db, &acme, &ready.id, true)
        .await
        .unwrap();
    let enabled = store::set_enabled(&app.db, &acme, &ready.id, true)
        .await
        .unwrap();
    assert_eq!(disabled.status, StreamStatus::Disabled);
    assert!(restricted.restricted);
    assert_eq!(enabled.status, StreamStatus::Ready);
    assert!(enabled.restricted);
}

async fn one_account_never_reaches_another_accounts_streams(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let globex = account(&app.db, "bob@globex.io").await;
    let mut details = input("Acme only");
    details.tags = vec!["secret".into()];
    let (stream, _) = store::create(
        &app.db,
        &key,
        &acme,
        StreamKind::SmsMarketing,
        &details,
        false,
    )
    .await
    .unwrap();

    let db = &app.db;
    let id = &stream.id;
    assert!(store::get(db, &globex, id).await.unwrap().is_none());
    assert_eq!(
        store::list(db, &globex, &StreamFilter::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(store::tags(db, &globex).await.unwrap().is_empty());
    assert!(matches!(
        store::reveal_token(db, &key, &globex, id).await,
        Err(StreamError::NotFound)
    ));
    assert!(matches!(
        store::reset_token(db, &key, &globex, id).await,
        Err(StreamError::NotFound)
    ));
    assert!(matches!(
        store::set_enabled(db, &globex, id, false).await,
        Err(StreamError::NotFound)
    ));
    assert!(matches!(
        store::set_restricted(db, &globex, id, true).await,
        Err(StreamError::NotFound)
    ));
    assert!(matches!(
        store::update(db, &globex, id, &input("Mine now")).await,
        Err(StreamError::NotFound)
    ));
    assert!(matches!(
        store::delete(db, &globex, id).await,
        Err(StreamError::NotFound)
    ));
    assert_eq!(store::get(db, &acme, id).await.unwrap().unwrap(), stream);
}

/// Breaks one field of a valid input.
type Spoil = fn(&mut StreamInput);

async fn invalid_input_is_refused_and_writes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;
    let cases: [(Spoil, &str); 7] = [
        (|i| i.name = " ".into(), "name_required"),
        (|i| i.allowed_ips = vec!["10.0.0.300".into()], "invalid_ip"),
        (|i| i.ip_acl_enabled = true, "ip_required"),
        (
            |i| i.default_sender = Some("Way too long sender".into()),
            "invalid_sender_id",
        ),
        (|i| i.tags = vec!["a,b".into()], "invalid_tag"),
        (|i| i.max_rate = Some(0), "invalid_max_rate"),
        (|i| i.max_rate = Some(10_001), "invalid_max_rate"),
    ];

    for (spoil, code) in cases {
        let mut details = input("Valid name");
        details.tags = vec!["kept-out".into()];
        spoil(&mut details);
        match store::create(
            &app.db,
            &key,
            &acme,
            StreamKind::SmsMarketing,
            &details,
            false,
        )
        .await
        {
            Err(StreamError::Invalid(error)) => assert_eq!(error.code, code),
            other => panic!("{code}: {other:?}"),
        }
    }
    assert_eq!(
        store::list(&app.db, &acme, &StreamFilter::default())
            .await
            .unwrap()
            .total,
        0
    );
    assert!(store::tags(&app.db, &acme).await.unwrap().is_empty());
    assert!(store::sender_ids(&app.db, &acme).await.unwrap().is_empty());
}

async fn sender_ids_are_unique_and_deleting_one_makes_streams_customized(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = SecretKey::generate();
    let acme = account(&app.db, "ann@acme.io").await;

    assert_eq!(
        store::add_sender_id(&app.db, &acme, " Acme ")
            .await
            .unwrap(),
        "Acme"
    );
    match store::add_sender_id(&app.db, &acme, "Acme").await {
        Err(StreamError::Invalid(error)) => assert_eq!(error.code, "sender_id_exists"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store::add_sender_id(&app.db, &acme, "no!").await,
        Err(StreamError::Invalid(_))
    ));
    let mut details = input("Promos");
    details.default_sender = Some("Acme".into());
    let (stream, _) = store::create(
        &app.db,
        &key,
        &acme,
        StreamKind::SmsMarketing,
        &details,
        false,
    )
    .await
    .unwrap();
    store::delete_sender_id(&app.db, &acme, "Acme")
        .await
        .unwrap();

    let stream = store::get(&app.db, &acme, &stream.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stream.default_sender, None);
    assert!(matches!(
        store::delete_sender_id(&app.db, &acme, "Acme").await,
        Err(StreamError::NotFound)
    ));
}

async fn whatsapp_streams_follow_the_operators_feature_setting(backend: Backend) {
    use app::streams::access::{self, WhatsAppAccess, WhatsAppFeature};
    use serde_json::json;

    let app = TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.features.whatsapp = WhatsAppFeature::Request;
    })
    .await;
    app.sign_up("ann@acme.io").await;
    let create = json!({
        "kind": "whatsapp",
        "input": { "name": "Chat", "description": "", "demo": true, "ip_acl_enabled": false,
            "allowed_ips": [], "tags": [], "default_sender": null },
        "draft": false,
    });
    let access =
        |answer: serde_json::Value| serde_json::from_value::<WhatsAppAccess>(answer).unwrap();

    let (_, state) = app
        .server_fn_json("/api/streams/whatsapp-access", &json!({}))
        .await;
    assert_eq!(access(state), WhatsAppAccess::Requestable);
    let (status, refused) = app.server_fn_json("/api/streams/create", &create).await;
    assert_ne!(status, reqwest::StatusCode::OK);
    assert_eq!(refused["code"], "whatsapp_not_available", "{refused}");

    let (_, state) = app
        .server_fn_json("/api/streams/whatsapp-access/request", &json!({}))
        .await;
    assert_eq!(access(state), WhatsAppAccess::Requested);
    let requests = access::store::requests(&app.db).await.unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].email, "ann@acme.io");
    assert_eq!(requests[0].granted_at, None);
    let (_, still) = app.server_fn_json("/api/streams/create", &create).await;
    assert_eq!(still["code"], "whatsapp_not_available");

    // Granted: the stream is made, and SMS streams never needed asking.
    let account = app::auth::store::account_of(&app.db, "ann@acme.io")
        .await
        .unwrap()
        .unwrap();
    access::store::grant(&app.db, &account).await.unwrap();
    let (status, created) = app.server_fn_json("/api/streams/create", &create).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{created}");
    assert_eq!(created["stream"]["kind"], "whatsapp");
    assert!(
        access::store::requests(&app.db).await.unwrap()[0]
            .granted_at
            .is_some()
    );

    // Off: nobody may, granted or not.
    let closed = WhatsAppAccess::of(WhatsAppFeature::Off, true, true);
    assert_eq!(closed, WhatsAppAccess::Closed);
    assert_eq!(
        access::store::access(&app.db, WhatsAppFeature::Off, &account)
            .await
            .unwrap(),
        WhatsAppAccess::Closed
    );
}
