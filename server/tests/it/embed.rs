//! Embed keys and the widgets they open: keys stored hashed, revoked at once (live feeds
//! included), one stream only, framed only by the key's origins, and test sends through the
//! stream's own rules for keys that may send.

use std::time::Duration;

use app::{
    embed::{
        EmbedKey, EmbedKeyInput,
        store::{self as keys, KeyRef},
    },
    ids::AccountId,
    streams::{StreamInput, StreamKind},
};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Backend, TestApp, TestDatabase, TestStream, create_operator, next_event, sluice_on},
    on_both_backends,
    streams::account,
};

on_both_backends!(
    keys_are_stored_hashed_listed_and_revoked_at_once,
    a_key_shows_its_stream_only,
    widgets_are_framed_only_by_their_keys_origins,
    a_live_feed_ends_when_its_key_is_revoked,
    the_send_widget_sends_through_the_streams_rules_only_with_send,
    the_cli_makes_and_revokes_keys,
);

fn demo(name: &str) -> StreamInput {
    StreamInput {
        name: name.into(),
        default_sender: Some("AcmeShop".into()),
        demo: true,
        ..StreamInput::default()
    }
}

fn input(origins: &[&str], can_send: bool) -> EmbedKeyInput {
    EmbedKeyInput {
        name: "Support tool".into(),
        origins: origins.iter().map(|o| o.to_string()).collect(),
        can_send,
        ..EmbedKeyInput::default()
    }
}

async fn send(app: &TestApp, token: &str, phone: &str) {
    let response = app
        .client
        .post(app.url("/simple_send/"))
        .header("authorization", token)
        .json(&json!({ "messages": [{ "recipient_phone": phone, "message_content": "Hello" }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// A key for the account's stream.
async fn make_key(
    app: &TestApp,
    account: &AccountId,
    stream_id: &app::ids::StreamId,
    input: EmbedKeyInput,
) -> (EmbedKey, String) {
    keys::create(&app.db, account, stream_id, input)
        .await
        .unwrap()
}

/// Ann's demo Marketing stream "News" and a key for it.
async fn news_with_key(
    app: &TestApp,
    origins: &[&str],
    can_send: bool,
) -> (AccountId, TestStream, (EmbedKey, String)) {
    let account = account(&app.db, "ann@acme.io").await;
    let stream = app
        .create_stream(&account, StreamKind::SmsMarketing, &demo("News"))
        .await;
    let key = make_key(app, &account, &stream.id, input(origins, can_send)).await;
    (account, stream, key)
}

async fn page(app: &TestApp, path: &str) -> (StatusCode, reqwest::header::HeaderMap, String) {
    let response = app.get(path).await;
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

async fn keys_are_stored_hashed_listed_and_revoked_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (account, stream, (info, key)) =
        news_with_key(&app, &["https://tools.acme.io/"], false).await;
    assert!(key.starts_with("ek_") && key.len() > 40);
    assert_eq!(info.origins, ["https://tools.acme.io"]);
    assert!(key.starts_with(&info.hint));
    // Only the key's hash is stored.
    let stored: Vec<String> = sqlx::query_scalar("select key_hash from embed_keys")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], key);
    assert!(!stored[0].contains(&key[3..]));

    let (_, second) = make_key(
        &app,
        &account,
        &stream.id,
        input(&["https://a.acme.io"], true),
    )
    .await;
    let listed = keys::list(&app.db, &account, &stream.id).await.unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|k| k.revoked_at.is_none()));

    // Another account cannot revoke it, by id or by key.
    let mallory = crate::streams::account(&app.db, "mallory@evil.example").await;
    assert!(
        keys::revoke(&app.db, &mallory, KeyRef::Id(&info.id))
            .await
            .is_err()
    );
    assert!(
        keys::revoke(&app.db, &mallory, KeyRef::Key(&key))
            .await
            .is_err()
    );
    assert!(keys::open(&app.db, &key).await.unwrap().is_ok());

    keys::revoke(&app.db, &account, KeyRef::Id(&info.id))
        .await
        .unwrap();
    keys::revoke(&app.db, &account, KeyRef::Key(&second))
        .await
        .unwrap();
    assert_eq!(
        keys::open(&app.db, &key).await.unwrap(),
        Err(app::embed::Closed::Revoked)
    );
    let (status, _, body) = page(&app, &format!("/embed/stats?key={key}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(body.contains("revoked"), "{body}");

    // A key past its expiry opens nothing.
    let (_, expiring) = keys::create(
        &app.db,
        &account,
        &stream.id,
        EmbedKeyInput {
            expires_in_days: Some(1),
            ..input(&["https://a.acme.io"], false)
        },
    )
    .await
    .unwrap();
    sqlx::query("update embed_keys set expires_at = 1 where revoked_at is null")
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        keys::open(&app.db, &expiring).await.unwrap(),
        Err(app::embed::Closed::Expired)
    );
    // Someone else's stream takes no key.
    let refused = keys::create(
        &app.db,
        &mallory,
        &stream.id,
        input(&["https://e.example"], true),
    )
    .await;
    assert!(refused.is_err());
}

async fn a_key_shows_its_stream_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = account(&app.db, "ann@acme.io").await;
    let news = app
        .create_stream(&account, StreamKind::SmsMarketing, &demo("News"))
        .await;
    let billing = app
        .create_stream(&account, StreamKind::SmsTransactional, &demo("Billing"))
        .await;
    let other = account_stream(&app, "bob@other.example").await;
    send(&app, &news.token, "+447700900111").await;
    send(&app, &billing.token, "+447700900222").await;
    send(&app, &other.token, "+447700900333").await;
    app.settle().await;

    let (_, key) = make_key(
        &app,
        &account,
        &news.id,
        input(&["https://tools.acme.io"], false),
    )
    .await;
    let (status, _, html) = page(&app, &format!("/embed/messages?key={key}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("News"), "{html}");
    // Masked by default: the last digits only.
    assert!(html.contains("+•••••••••111"), "{html}");
    assert!(!html.contains("900111"));
    for elsewhere in ["Billing", "Secret", "•••222", "•••333", "900222", "900333"] {
        assert!(!html.contains(elsewhere), "{elsewhere} leaked: {html}");
    }
    let (status, _, stats) = page(&app, &format!("/embed/stats?key={key}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        stats.contains(r#"data-testid="stat-sent" class="text-lg font-semibold tabular-nums">1<"#),
        "{stats}"
    );

    // Unknown keys, keys of another shape and unknown widgets are all the same 404.
    for path in [
        "/embed/stats?key=ek_nope".to_string(),
        "/embed/stats?key=str_1".to_string(),
        "/embed/stats".to_string(),
        format!("/embed/settings?key={key}"),
    ] {
        let (status, _, body) = page(&app, &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert!(!body.contains("News"), "{path}");
    }
    // The snapshot's server function answers the same for a key of nothing.
    let snapshot = app
        .client
        .post(app.url("/api/embed/snapshot"))
        .json(&json!({ "key": "ek_nope" }))
        .send()
        .await
        .unwrap();
    let body: Value = snapshot.json().await.unwrap();
    assert_eq!(body, json!({ "Err": "NotFound" }));
}

async fn account_stream(app: &TestApp, email: &str) -> TestStream {
    let account = account(&app.db, email).await;
    app.create_stream(&account, StreamKind::SmsMarketing, &demo("Secret"))
        .await
}

async fn widgets_are_framed_only_by_their_keys_origins(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (_, _, (_, key)) = news_with_key(
        &app,
        &["https://tools.acme.io", "http://localhost:8080"],
        false,
    )
    .await;
    let (status, headers, _) = page(&app, &format!("/embed/stats?key={key}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        headers["content-security-policy"],
        "frame-ancestors https://tools.acme.io http://localhost:8080; base-uri 'self'; form-action 'self'; object-src 'none'"
    );
    assert!(headers.get("x-frame-options").is_none());
    // The console keeps its own policy.
    let (_, console, _) = page(&app, "/sign-in").await;
    assert!(
        console["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("frame-ancestors 'self'")
    );
    assert_eq!(console["x-frame-options"], "SAMEORIGIN");
    // No such key: framed by no one.
    let (_, unknown, _) = page(&app, "/embed/stats?key=ek_nope").await;
    assert!(
        unknown["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("frame-ancestors 'none'")
    );

    // A browser framing it from a site the key does not list gets nothing.
    let framed = |referer: &'static str| {
        app.client
            .get(app.url(&format!("/embed/stats?key={key}")))
            .header("sec-fetch-dest", "iframe")
            .header("referer", referer)
            .send()
    };
    let evil = framed("https://evil.example/page").await.unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    let body = evil.text().await.unwrap();
    assert!(!body.contains("News"));
    let listed = framed("https://tools.acme.io/dashboard").await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
}

async fn a_live_feed_ends_when_its_key_is_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (account, stream, (info, key)) =
        news_with_key(&app, &["https://tools.acme.io"], false).await;
    let response = app.get(&format!("/api/embed/events?key={key}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut events = response;
    let mut buffer = String::new();
    let (name, data) = next_event(&mut events, &mut buffer).await.unwrap();
    assert_eq!(name, "snapshot");
    let first: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(first["hour"]["sent"], 0);

    // A message sent through the API shows in the next snapshots.
    send(&app, &stream.token, "+447700900123").await;
    let mut moved = false;
    for _ in 0..5 {
        let (name, data) = next_event(&mut events, &mut buffer).await.unwrap();
        assert_eq!(name, "snapshot");
        let snapshot: Value = serde_json::from_str(&data).unwrap();
        if snapshot["hour"]["sent"] == 1 {
            moved = true;
            break;
        }
    }
    assert!(moved, "the stats did not move");

    keys::revoke(&app.db, &account, KeyRef::Id(&info.id))
        .await
        .unwrap();
    let mut closed = None;
    while let Some((name, data)) = next_event(&mut events, &mut buffer).await {
        if name == "closed" {
            closed = Some(data);
            break;
        }
    }
    assert_eq!(closed.as_deref(), Some("\"Revoked\""));
    // The feed ends after saying so.
    let after = tokio::time::timeout(Duration::from_secs(5), events.chunk())
        .await
        .expect("the feed stayed open");
    assert!(
        after.is_ok_and(|chunk| chunk.is_none()),
        "the feed sent more"
    );
    // And will not open again.
    let again = app.get(&format!("/api/embed/events?key={key}")).await;
    assert_eq!(again.status(), StatusCode::GONE);
}

async fn post_send(app: &TestApp, key: &str, phone: &str, json_answer: bool) -> reqwest::Response {
    let mut request = app.client.post(app.url("/api/embed/send")).form(&[
        ("key", key),
        ("recipient_phone", phone),
        ("message_content", "Test from the widget"),
        ("back", "theme=dark&accent=0f766e&evil=1"),
    ]);
    if json_answer {
        request = request.header("accept", "application/json");
    }
    request.send().await.unwrap()
}

async fn the_send_widget_sends_through_the_streams_rules_only_with_send(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let account = account(&app.db, "ann@acme.io").await;
    let stream = app
        .create_stream(
            &account,
            StreamKind::SmsMarketing,
            &StreamInput {
                allowed_countries: vec!["+44".into()],
                ..demo("News")
            },
        )
        .await;
    let (_, reader) = make_key(
        &app,
        &account,
        &stream.id,
        input(&["https://t.acme.io"], false),
    )
    .await;
    let (_, sender) = make_key(
        &app,
        &account,
        &stream.id,
        input(&["https://t.acme.io"], true),
    )
    .await;

    let refused = post_send(&app, &reader, "+447700900123", true).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let (_, _, html) = page(&app, &format!("/embed/send?key={reader}")).await;
    assert!(html.contains("may not send"), "{html}");
    assert!(!html.contains("<form"));

    let sent = post_send(&app, &sender, "+447700900123", true).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let body: Value = sent.json().await.unwrap();
    assert_eq!(body["status"], true, "{body}");
    let uuid = body["message_uuid"].as_str().unwrap().to_string();
    let stored: String = sqlx::query_scalar("select stream_id from messages where id = $1")
        .bind(&uuid)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, stream.id.as_str());

    // The stream's own rules: another country is refused, as the API would.
    let abroad = post_send(&app, &sender, "+14155550123", true).await;
    assert_eq!(abroad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = abroad.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("+44"), "{body}");

    // Without JavaScript the form posts and comes back to the widget, its look kept.
    let plain = post_send(&app, &sender, "+447700900124", false).await;
    assert_eq!(plain.status(), StatusCode::SEE_OTHER);
    let location = plain.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/embed/send?key="), "{location}");
    assert!(
        location.contains("sent=") && location.contains("theme=dark"),
        "{location}"
    );
    assert!(!location.contains("evil"), "{location}");
    let (_, _, html) = page(&app, &location).await;
    assert!(html.contains("Queued as"), "{html}");

    // A few a minute, per key.
    let mut limited = false;
    for _ in 0..12 {
        if post_send(&app, &sender, "+447700900125", true)
            .await
            .status()
            == StatusCode::TOO_MANY_REQUESTS
        {
            limited = true;
            break;
        }
    }
    assert!(limited, "the send widget was not limited");
}

async fn the_cli_makes_and_revokes_keys(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    create_operator(&database);
    let created = sluice_on(
        &database,
        &[
            "stream",
            "create",
            "--email",
            "ops@example.com",
            "--name",
            "News",
            "--type",
            "sms_marketing",
            "--demo",
            "--json",
        ],
    );
    let stream: Value = serde_json::from_slice(&created.stdout).unwrap();
    let stream_id = stream["id"].as_str().unwrap();
    let create = |origin: &str, extra: &[&str]| {
        let args = [
            &[
                "embed",
                "create",
                "--email",
                "ops@example.com",
                "--stream",
                stream_id,
                "--origin",
                origin,
            ][..],
            extra,
        ]
        .concat();
        sluice_on(&database, &args)
    };
    let made = create(
        "https://tools.acme.io",
        &["--allow-send", "--name", "Ops board", "--json"],
    );
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let printed: Value = serde_json::from_slice(&made.stdout).unwrap();
    let key = printed["key"].as_str().unwrap();
    assert!(key.starts_with("ek_"));
    assert_eq!(
        printed["url"],
        format!("http://127.0.0.1:3000/embed/stats?key={key}")
    );
    let snippet = printed["snippet"].as_str().unwrap();
    assert!(snippet.contains("<script src=\"http://127.0.0.1:3000/embed.js\" async></script>"));
    assert!(snippet.contains(&format!(r#"data-sluice-widget="send" data-key="{key}""#)));

    let bad_origin = create("https://tools.acme.io/path", &[]);
    assert!(!bad_origin.status.success());
    assert!(String::from_utf8_lossy(&bad_origin.stderr).contains("is not an origin"));

    let revoked = sluice_on(
        &database,
        &[
            "embed",
            "revoke",
            "--email",
            "ops@example.com",
            "--key",
            key,
        ],
    );
    assert!(
        revoked.status.success(),
        "{}",
        String::from_utf8_lossy(&revoked.stderr)
    );
    let unknown = sluice_on(
        &database,
        &[
            "embed",
            "revoke",
            "--email",
            "ops@example.com",
            "--key",
            "ek_nope",
        ],
    );
    assert!(!unknown.status.success());
    let app = TestApp::spawn_on(database).await;
    assert_eq!(
        keys::open(&app.db, key).await.unwrap(),
        Err(app::embed::Closed::Revoked)
    );
}
