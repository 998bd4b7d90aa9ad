use app::streams::settings_store;

use crate::{
    helpers::{
        Backend, PASSWORD, TestApp, TestDatabase, create_operator, location, sluice, sluice_on,
    },
    on_both_backends,
};

on_both_backends!(
    user_create_makes_an_owner_who_can_sign_in,
    stream_create_prints_a_token_that_finds_the_stream,
    connection_add_configures_an_upstream_for_an_account,
    stream_countries_set_where_a_stream_sends,
    whatsapp_requests_are_listed_and_granted,
);

async fn user_create_makes_an_owner_who_can_sign_in(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let create = |email: &str, password: &str| {
        sluice_on(
            &database,
            &["user", "create", "--email", email, "--password", password],
        )
    };

    let created = create("ops@example.com", PASSWORD);
    let duplicate = create("ops@example.com", PASSWORD);
    let weak = create("x@example.com", "short");

    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(String::from_utf8_lossy(&created.stdout).contains("created user ops@example.com"));
    assert!(!duplicate.status.success());
    assert!(String::from_utf8_lossy(&duplicate.stderr).contains("already exists"));
    assert!(!weak.status.success());
    assert!(String::from_utf8_lossy(&weak.stderr).contains("10 to 128 characters"));
    let app = TestApp::spawn_on(database).await;
    let response = app.sign_in("ops@example.com", PASSWORD).await;
    assert_eq!(location(&response), "/streams");

    // The account starts with two ready demo streams whose tokens send.
    let account = app::auth::store::account_of(&app.db, "ops@example.com")
        .await
        .unwrap()
        .unwrap();
    let starters = app::streams::store::list(&app.db, &account, &Default::default())
        .await
        .unwrap()
        .streams;
    let names: Vec<&str> = starters.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Default Marketing", "Default Transactional"]);
    for stream in &starters {
        assert!(stream.demo, "{}", stream.name);
        assert_eq!(stream.status, app::streams::StreamStatus::Ready);
        let token =
            app::streams::store::reveal_token(&app.db, &app.secret_key(), &account, &stream.id)
                .await
                .unwrap();
        let sent = app
            .client
            .post(app.url("/simple_send/"))
            .header("authorization", token)
            .json(&serde_json::json!({ "messages": [{ "sender": "Acme", "recipient_phone": "+447700900123", "message_content": "Hi" }] }))
            .send()
            .await
            .unwrap();
        assert_eq!(sent.status(), reqwest::StatusCode::OK, "{}", stream.name);
    }
}

#[test]
fn help_describes_every_command_and_flag() {
    let help = String::from_utf8(sluice(&["--help"]).stdout).unwrap();
    for expected in [
        "serve",
        "migrate",
        "user",
        "--addr",
        "--database-url",
        "--data-dir",
        "--log-level",
        "--log-format",
        "--config",
        "SLUICE_ADDR",
    ] {
        assert!(help.contains(expected), "--help lacks {expected}:\n{help}");
    }
    let user_help = String::from_utf8(sluice(&["user", "create", "--help"]).stdout).unwrap();
    for expected in ["--email", "--password", "--account-name"] {
        assert!(user_help.contains(expected), "{expected}:\n{user_help}");
    }
}

#[test]
fn bad_configuration_is_reported_with_a_failing_exit() {
    let output = sluice(&["--config", "/nonexistent/sluice.toml", "migrate"]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
}

async fn stream_create_prints_a_token_that_finds_the_stream(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let run = |args: &[&str]| sluice_on(&database, args);
    create_operator(&database);

    let created = run(&[
        "stream",
        "create",
        "--email",
        "OPS@example.com",
        "--name",
        "Alerts",
        "--type",
        "sms_two_way",
        "--demo",
        "--predictable",
        "--allow-ip",
        "10.1.2.3/8",
        "--allow-ip",
        "::1",
        "--tag",
        "ops",
        "--max-rate",
        "40",
        "--json",
    ]);
    let unknown_owner = run(&[
        "stream",
        "create",
        "--email",
        "who@example.com",
        "--name",
        "X",
        "--type",
        "whatsapp",
    ]);
    let bad_type = run(&[
        "stream",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "X",
        "--type",
        "fax",
    ]);
    // Predictable outcomes belong to demo streams only.
    let predictable_real = run(&[
        "stream",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "X",
        "--type",
        "sms_otp",
        "--predictable",
    ]);
    let bad_ip = run(&[
        "stream",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "X",
        "--type",
        "sms_otp",
        "--allow-ip",
        "nope",
    ]);

    // A webhook set at creation: the JSON carries its signing secret.
    let webhook = |url: &str| {
        sluice_on(
            &database,
            &[
                "stream",
                "create",
                "--email",
                "ops@example.com",
                "--name",
                "Receipts",
                "--type",
                "sms_transactional",
                "--webhook-url",
                url,
                "--json",
            ],
        )
    };
    let hooked = webhook("https://hooks.example.com/sluice");
    // The operator's own network is refused, and no stream is left behind.
    let private = webhook("http://127.0.0.1:9/hook");

    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let token = printed["token"].as_str().unwrap();
    let app = TestApp::spawn_on(database).await;
    let (account_id, found) = app::streams::store::find_by_token(&app.db, token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.allowed_ips, vec!["10.0.0.0/8", "::1/128"]);
    let stream = app::streams::store::get(&app.db, &account_id, &found.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stream.id, printed["id"].as_str().unwrap());
    assert_eq!(stream.kind, app::streams::StreamKind::SmsTwoWay);
    assert!(stream.demo && stream.demo_predictable && stream.ip_acl_enabled);
    assert_eq!(stream.allowed_ips, vec!["10.0.0.0/8", "::1/128"]);
    assert_eq!(stream.tags, vec!["ops"]);
    assert_eq!(stream.max_rate, Some(40));
    assert!(String::from_utf8_lossy(&unknown_owner.stderr).contains("no user with the email"));
    assert!(String::from_utf8_lossy(&bad_type.stderr).contains("is not a stream type"));
    assert!(String::from_utf8_lossy(&bad_ip.stderr).contains("is not an IPv4 or IPv6 address"));
    assert!(String::from_utf8_lossy(&predictable_real.stderr).contains("--demo"));
    assert!(
        !unknown_owner.status.success()
            && !bad_type.status.success()
            && !bad_ip.status.success()
            && !predictable_real.status.success()
    );

    assert!(
        hooked.status.success(),
        "{}",
        String::from_utf8_lossy(&hooked.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&hooked.stdout).unwrap();
    let id = app::ids::StreamId::from(printed["id"].as_str().unwrap().to_string());
    let saved = settings_store::webhook(&app.db, &account_id, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(saved.input.url, "https://hooks.example.com/sluice");
    let secret =
        settings_store::webhook_signing_secret(&app.db, &app.secret_key(), &account_id, &id, false)
            .await
            .unwrap();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(printed["webhook_secret"], secret.as_str());
    assert!(!private.status.success());
    assert!(String::from_utf8_lossy(&private.stderr).contains("--webhook-url is refused"));
    let streams = app::streams::store::list(&app.db, &account_id, &Default::default())
        .await
        .unwrap();
    assert_eq!(
        streams.total, 4,
        "the two starters, Alerts and Receipts only"
    );
}

async fn connection_add_configures_an_upstream_for_an_account(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let run = |args: &[&str]| sluice_on(&database, args);
    create_operator(&database);
    let add = |name: &str, settings: &str, extra: &[&str]| {
        let args = [
            &[
                "connection",
                "add",
                "--email",
                "ops@example.com",
                "--name",
                name,
                "--settings",
                settings,
            ][..],
            extra,
        ]
        .concat();
        run(&args)
    };

    let smpp = add(
        "Carrier",
        r#"{"kind":"smpp","host":"smsc.example.com","port":2775,"system_id":"acme"}"#,
        &["--secret", "s3cret", "--json"],
    );
    assert!(
        smpp.status.success(),
        "{}",
        String::from_utf8_lossy(&smpp.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&smpp.stdout).unwrap();
    let http = add(
        "Backup",
        r#"{"kind":"http","url":"https://api.example.com/sms"}"#,
        &["--default"],
    );
    let stdout = String::from_utf8_lossy(&http.stdout);
    assert!(stdout.starts_with("added connection Backup ("), "{stdout}");
    assert!(
        stdout.contains(", the default): POST https://api.example.com/sms"),
        "{stdout}"
    );
    let bad_json = add("X", "{not json", &[]);
    let bad_host = add("X", r#"{"kind":"smpp","host":"","system_id":"acme"}"#, &[]);
    let long_password = add(
        "X",
        r#"{"kind":"smpp","host":"h.example","system_id":"acme"}"#,
        &["--secret", "far-too-long"],
    );

    assert!(
        String::from_utf8_lossy(&bad_json.stderr)
            .contains("--settings is not a connection's settings")
    );
    assert!(!bad_host.status.success());
    assert!(String::from_utf8_lossy(&bad_host.stderr).contains("host name or IP address"));
    assert!(String::from_utf8_lossy(&long_password.stderr).contains("at most 8 ASCII characters"));

    let app = TestApp::spawn_on(database).await;
    let account: app::ids::AccountId =
        sqlx::query_scalar("select account_id from users where email = $1")
            .bind("ops@example.com")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let listed = app::connections::store::list(&app.db, &account)
        .await
        .unwrap();
    let names: Vec<(&str, bool, bool)> = listed
        .iter()
        .map(|c| (c.name.as_str(), c.is_default, c.has_secret))
        .collect();
    assert_eq!(names, [("Backup", true, false), ("Carrier", false, true)]);
    assert_eq!(listed[1].id, printed["id"].as_str().unwrap());
}

async fn stream_countries_set_where_a_stream_sends(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let run = |args: &[&str]| sluice_on(&database, args);
    create_operator(&database);
    let created = run(&[
        "stream",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "Codes",
        "--type",
        "sms_otp",
        "--country",
        "+44",
        "--json",
    ]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let id = app::ids::StreamId::from(printed["id"].as_str().unwrap());
    let set = |extra: &[&str]| {
        let args = [
            &[
                "stream",
                "countries",
                "--email",
                "ops@example.com",
                "--stream",
                id.as_str(),
            ][..],
            extra,
        ]
        .concat();
        run(&args)
    };

    let every = set(&["--all"]);
    assert_eq!(
        String::from_utf8_lossy(&every.stdout).trim(),
        format!("stream {id} sends to every country")
    );
    let both = set(&["--country", "44", "--country", "+1"]);
    assert!(
        both.status.success(),
        "{}",
        String::from_utf8_lossy(&both.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&both.stdout).trim(),
        format!("stream {id} sends only to +44, +1")
    );
    let bad = set(&["--country", "UK"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a calling code"));
    // A private address is refused for a connection, as in the console.
    let private = run(&[
        "connection",
        "add",
        "--email",
        "ops@example.com",
        "--name",
        "Local",
        "--settings",
        r#"{"kind":"http","url":"http://127.0.0.1:9/sms"}"#,
    ]);
    assert!(!private.status.success());
    assert!(String::from_utf8_lossy(&private.stderr).contains("private or reserved"));

    let app = TestApp::spawn_on(database).await;
    let account: app::ids::AccountId =
        sqlx::query_scalar("select account_id from users where email = $1")
            .bind("ops@example.com")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let stream = app::streams::store::get(&app.db, &account, &id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stream.allowed_countries, vec!["+44", "+1"]);
}

async fn whatsapp_requests_are_listed_and_granted(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    create_operator(&database);
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args(args)
            .args(["--database-url", database.url.as_str(), "--data-dir"])
            .arg(&database.data_dir)
            .env("SLUICE_FEATURES__WHATSAPP", "request")
            .output()
            .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let create = [
        "stream",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "Chat",
        "--type",
        "whatsapp",
    ];
    let (made, _, refused) = run(&create);
    assert!(!made);
    assert!(refused.contains("sluice whatsapp grant"), "{refused}");
    let (_, listed, _) = run(&["whatsapp", "requests"]);
    assert!(listed.contains("no account asked"), "{listed}");

    let (granted, _, error) = run(&["whatsapp", "grant", "--email", "ops@example.com"]);
    assert!(granted, "{error}");
    let (_, listed, _) = run(&["whatsapp", "requests", "--json"]);
    let requests: serde_json::Value = serde_json::from_str(&listed).unwrap();
    assert_eq!(requests[0]["email"], "ops@example.com");
    assert!(requests[0]["granted_at"].is_i64());
    let (made, out, error) = run(&create);
    assert!(made, "{error}");
    assert!(out.contains("created stream Chat"), "{out}");
}
