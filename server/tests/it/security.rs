//! A tenant as an attacker: addresses on the operator's network, guessed codes, requests from
//! other sites, answers that never end. Each test is an attempt that must fail.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use app::ids::AccountId;
use app::{
    connections::{
        ConnectionInput, ConnectionSettings, Health, HttpSettings, SmppSettings,
        store as connections,
    },
    streams::{
        StreamInput, StreamKind,
        settings::{OtpCodeSource, OtpSettings},
        settings_store, store,
    },
};
use axum::{Router, body::Body, routing::any};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    api::{call, sms, stream_with},
    helpers::{Backend, TestApp, TestDatabase, TestStream, location},
    on_both_backends,
    streams::account,
};

on_both_backends!(
    tenant_connections_never_reach_the_operators_network,
    parallel_wrong_codes_are_compared_at_most_max_failures_times,
    parallel_code_requests_keep_to_the_per_phone_limit,
    stored_secrets_open_only_in_their_own_row,
    inbound_keys_are_random_per_stream_and_rotate,
    streams_send_only_to_their_destination_countries,
    otp_codes_are_capped_per_stream_and_per_number_range,
    codes_are_stored_masked_and_sent_whole,
);

/// A listener on loopback that counts the connections it is offered.
async fn trap() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let counted = count.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(stream);
        }
    });
    (addr, count)
}

/// A stream of `kind` that sends for real (through the account's connection), and its token.
async fn real_stream(app: &TestApp, account: &AccountId, kind: StreamKind, sender: &str) -> String {
    let input = StreamInput {
        name: "Real".into(),
        default_sender: Some(sender.into()),
        demo: false,
        ..StreamInput::default()
    };
    store::create(&app.db, &app.secret_key(), account, kind, &input, false)
        .await
        .unwrap()
        .1
}

/// A new account whose default connection is an HTTP provider at `url`.
async fn with_connection(app: &TestApp, email: &str, url: String) -> AccountId {
    let account = account(&app.db, email).await;
    connections::save(
        &app.db,
        &app.secret_key(),
        &account,
        None,
        http_connection(url),
    )
    .await
    .unwrap();
    account
}

fn http_connection(url: String) -> ConnectionInput {
    ConnectionInput {
        name: "Provider".into(),
        settings: ConnectionSettings::Http(Box::new(HttpSettings {
            url,
            ..HttpSettings::default()
        })),
        secret: Some("sk-1".into()),
        is_default: true,
    }
}

async fn tenant_connections_never_reach_the_operators_network(backend: Backend) {
    let app = TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.webhooks.allow_private = false;
        config.webhooks.timeout_ms = 500;
        config.delivery.retry_base_ms = 50;
        config.delivery.retry_max_ms = 100;
        config.delivery.max_attempts = 2;
    })
    .await;
    let (trap, reached) = trap().await;
    let port = trap.port();
    let literals = [
        format!("http://127.0.0.1:{port}/sms"),
        format!("http://2130706433:{port}/sms"),
        format!("http://0x7f000001:{port}/sms"),
        format!("http://[::ffff:127.0.0.1]:{port}/sms"),
        "http://169.254.169.254/latest/meta-data".to_string(),
    ];

    // The console refuses them when they are saved.
    app.sign_up("mallory@evil.example").await;
    for url in &literals {
        let (status, error) = app
            .server_fn_json(
                "/api/connections/save",
                &json!({ "id": null, "input": {
                    "name": "Provider", "secret": null, "is_default": true,
                    "settings": { "kind": "http", "url": url, "body_template":
                        "{\"to\":\"{to}\",\"from\":\"{from}\",\"text\":\"{text}\"}" },
                } }),
            )
            .await;
        assert!(!status.is_success(), "{url} was saved: {error}");
        assert_eq!(error["code"], "address_not_allowed", "{url}: {error}");
    }
    let (status, error) = app
        .server_fn_json(
            "/api/connections/save",
            &json!({ "id": null, "input": {
                "name": "SMSC", "secret": null, "is_default": true,
                "settings": { "kind": "smpp", "host": "127.0.0.1", "port": port,
                              "system_id": "acme" },
            } }),
        )
        .await;
    assert_eq!(
        (status.is_success(), error["code"].clone()),
        (false, json!("address_not_allowed")),
        "{error}"
    );

    // Saved anyway (before the guard, or a name that changed its address), every send is
    // refused before it connects: the literal forms, and a URL whose host is the sender.
    let key = app.secret_key();
    let mut urls: Vec<(String, &str)> = literals
        .iter()
        .map(|url| (url.clone(), "AcmeShop"))
        .collect();
    urls.push((format!("http://{{from}}:{port}/sms"), "2130706433"));
    for (n, (url, sender)) in urls.iter().enumerate() {
        let account = with_connection(&app, &format!("tenant-{n}@evil.example"), url.clone()).await;
        let token = real_stream(&app, &account, StreamKind::SmsMarketing, sender).await;
        let (status, body) = app.send_sms(&token, &[("m-1", "hello")]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let failed = app.status_becomes(&token, "m-1", "rejected").await;
        assert_eq!(
            failed["error"]["code"], "address_not_allowed",
            "{url}: {failed}"
        );
    }

    // An SMPP connection to loopback never opens a socket: its health says why.
    let account = account(&app.db, "smpp@evil.example").await;
    let smsc = ConnectionInput {
        name: "SMSC".into(),
        settings: ConnectionSettings::Smpp(SmppSettings {
            host: "127.0.0.1".into(),
            port,
            system_id: "acme".into(),
            ..SmppSettings::default()
        }),
        secret: Some("pw".into()),
        is_default: true,
    };
    connections::save(&app.db, &key, &account, None, smsc)
        .await
        .unwrap();
    let token = real_stream(&app, &account, StreamKind::SmsMarketing, "AcmeShop").await;
    app.send_sms(&token, &[("s-1", "hello")]).await;
    let mut detail = None;
    for _ in 0..200 {
        let listed = connections::list(&app.db, &account).await.unwrap();
        if listed[0].health == Health::Down {
            detail = listed[0].health_detail.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let detail = detail.expect("the SMPP connection was tried");
    assert!(detail.contains("private or reserved"), "{detail}");

    assert_eq!(
        reached.load(Ordering::SeqCst),
        0,
        "a tenant's connection reached loopback"
    );
}

/// A provider that answers 400 with more than the cap, then never finishes its body.
async fn endless_provider() -> SocketAddr {
    let router = Router::new().fallback(any(|| async {
        let head = futures_util::stream::iter(
            (0..4).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 32 * 1024])),
        );
        let stall = futures_util::stream::pending();
        (
            StatusCode::BAD_REQUEST,
            Body::from_stream(futures_util::StreamExt::chain(head, stall)),
        )
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_answer_is_read_only_up_to_the_cap() {
    let provider = endless_provider().await;
    let app = TestApp::spawn_configured(TestDatabase::new(Backend::Sqlite).await, |config| {
        config.webhooks.allow_private = true;
        config.webhooks.timeout_ms = 5_000;
        config.delivery.max_attempts = 1;
    })
    .await;
    let account = with_connection(&app, "ann@acme.io", format!("http://{provider}/sms")).await;
    let token = real_stream(&app, &account, StreamKind::SmsMarketing, "AcmeShop").await;
    app.send_sms(&token, &[("big-1", "hello")]).await;
    // Read to the cap, the refusal is final at once; read to the end, it would wait for the
    // timeout and count as the provider not answering.
    let failed = app.status_becomes(&token, "big-1", "rejected").await;
    assert_eq!(failed["error"]["code"], "provider_rejected", "{failed}");
}

async fn parallel_wrong_codes_are_compared_at_most_max_failures_times(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { account, id, token } =
        stream_with(&app, StreamKind::SmsOtp, sms("Logins")).await;
    settings_store::save_otp_settings(
        &app.db,
        &account,
        &id,
        OtpSettings {
            source: OtpCodeSource::CustomerCode,
            max_failures: 5,
            ..OtpSettings::default()
        },
    )
    .await
    .unwrap();
    let (status, issued) = call(
        &app,
        "/otp/auth",
        &token,
        json!({ "recipient_phone": "+447700900123", "template_variables": { "code": "482913" } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{issued}");

    let guesses = (0..40).map(|n| {
        let body = json!({ "otp_id": issued["otp_id"], "code": format!("{:06}", 100_000 + n) });
        call(&app, "/otp/verify", &token, body)
    });
    let answers = futures_util::future::join_all(guesses).await;
    let results: Vec<&str> = answers
        .iter()
        .map(|(_, answer)| answer["result"].as_str().unwrap_or("none"))
        .collect();
    let invalid = results.iter().filter(|r| **r == "invalid").count();
    assert!(
        invalid <= 4,
        "{invalid} guesses were answered invalid: {results:?}"
    );
    assert!(
        results
            .iter()
            .all(|r| matches!(*r, "invalid" | "max_attempts_reached"))
    );
    let compared: i64 = sqlx::query_scalar("select failures from otp_codes where id = $1")
        .bind(issued["otp_id"].as_str().unwrap())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(compared, 5, "exactly max_failures guesses were compared");

    // The right code is no use once the attempts are spent.
    let (_, late) = call(
        &app,
        "/otp/verify",
        &token,
        json!({ "otp_id": issued["otp_id"], "code": "482913" }),
    )
    .await;
    assert_eq!(late["result"], "max_attempts_reached", "{late}");
}

async fn parallel_code_requests_keep_to_the_per_phone_limit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { account, id, token } =
        stream_with(&app, StreamKind::SmsOtp, sms("Logins")).await;
    settings_store::save_otp_settings(
        &app.db,
        &account,
        &id,
        OtpSettings {
            per_phone_hour: 3,
            ..OtpSettings::default()
        },
    )
    .await
    .unwrap();
    let requests = (0..20).map(|_| {
        call(
            &app,
            "/otp/auth",
            &token,
            json!({ "recipient_phone": "+447700900123" }),
        )
    });
    let answers: Vec<(StatusCode, Value)> = futures_util::future::join_all(requests).await;
    let sent = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::OK)
        .count();
    let limited = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((sent, limited), (3, 17), "{answers:?}");
    let codes: i64 = sqlx::query_scalar("select count(*) from otp_codes")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(codes, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_from_other_sites_change_nothing() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.sign_up("ann@acme.io").await;
    let create = json!({
        "kind": "sms_marketing",
        "input": { "name": "Forged", "description": "", "demo": true, "ip_acl_enabled": false,
                   "allowed_ips": [], "tags": [], "default_sender": null },
        "draft": false,
    });
    // A page elsewhere posts a form (text/plain carries JSON) or a fetch with the cookie.
    let forged = [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "null"),
    ];
    for (name, value) in forged {
        let response = app
            .client
            .post(app.url("/api/streams/create"))
            .header("content-type", "text/plain")
            .header(name, value)
            .body(create.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "cross_site_request");
    }
    let response = app
        .client
        .post(app.url("/auth/sign-out"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let streams: i64 = sqlx::query_scalar("select count(*) from streams")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(streams, 2, "no stream was created beside the two starters");

    // The console's own pages still work.
    let own = format!("http://{}", app.addr);
    let response = app
        .client
        .post(app.url("/api/streams/create"))
        .header("origin", own)
        .header("sec-fetch-site", "same-origin")
        .json(&create)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_never_sends_the_browser_to_another_site() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.sign_up("ann@acme.io").await;
    let client = TestApp::new_client();
    for next in [
        "/\t/evil.example",
        "/\n/evil.example",
        "//evil.example",
        "https://evil.example/",
    ] {
        let response = client
            .post(app.url("/auth/sign-in"))
            .form(&[
                ("email", "ann@acme.io"),
                ("password", crate::helpers::PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&response), "/streams", "{next:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_pages_cannot_be_framed_or_sniffed() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let response = app.get("/sign-in").await;
    let headers = response.headers();
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("frame-ancestors 'self'"), "{policy}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert!(
        headers.get("strict-transport-security").is_none(),
        "not over http"
    );
    // Behind a TLS proxy the browser is told to keep to HTTPS.
    let proxied = behind_a_proxy(|_| {}).await;
    let response = proxied
        .client
        .get(proxied.url("/sign-in"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert!(
        response.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .starts_with("max-age="),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_over_its_rate_is_refused_with_the_limit_headers() {
    let app = TestApp::spawn_configured(TestDatabase::new(Backend::Sqlite).await, |config| {
        config.limits.api_per_second = 1;
        config.limits.api_burst = 3;
    })
    .await;
    let TestStream { token, .. } = stream_with(&app, StreamKind::SmsMarketing, sms("Alerts")).await;
    let status = |n: usize| {
        app.client
            .get(app.url(&format!("/status?internal_ids=x-{n}")))
            .header("authorization", &token)
            .send()
    };
    for (n, left) in [(0, "2"), (1, "1"), (2, "0")] {
        let response = status(n).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["ratelimit-limit"], "3");
        assert_eq!(response.headers()["ratelimit-remaining"], left);
    }
    let refused = status(3).await.unwrap();
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    let headers = refused.headers().clone();
    assert_eq!(headers["ratelimit-remaining"], "0");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");

    // Another stream's token has its own allowance.
    let account = crate::streams::account(&app.db, "bob@globex.io").await;
    let (_, other) = store::create(
        &app.db,
        &app.secret_key(),
        &account,
        StreamKind::SmsMarketing,
        &sms("Other"),
        false,
    )
    .await
    .unwrap();
    let response = app
        .client
        .get(app.url("/status?internal_ids=y"))
        .header("authorization", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

/// A server behind a proxy on loopback, so tests can come from any address.
async fn behind_a_proxy(configure: impl FnOnce(&mut sluice::config::Config)) -> TestApp {
    TestApp::spawn_configured(TestDatabase::new(Backend::Sqlite).await, |config| {
        config.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
        configure(config);
    })
    .await
}

async fn sign_in_from(app: &TestApp, ip: &str, email: &str, password: &str) -> String {
    let response = TestApp::new_client()
        .post(app.url("/auth/sign-in"))
        .header("x-forwarded-for", ip)
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap();
    location(&response)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn someone_elses_guesses_do_not_lock_the_owner_out() {
    let app = behind_a_proxy(|_| {}).await;
    app.sign_up("ann@acme.io").await;
    let attacker = "198.51.100.7";
    for _ in 0..5 {
        let at = sign_in_from(&app, attacker, "ann@acme.io", "wrong password!").await;
        assert!(at.contains("error=invalid_credentials"), "{at}");
    }
    // The sixth guess waits, even with the right password; the owner elsewhere does not.
    let at = sign_in_from(&app, attacker, "ann@acme.io", crate::helpers::PASSWORD).await;
    assert!(at.contains("error=too_many_attempts"), "{at}");
    let at = sign_in_from(&app, "203.0.113.9", "ann@acme.io", crate::helpers::PASSWORD).await;
    assert_eq!(at, "/streams");
    // An IPv6 attacker is one client across its /64.
    for n in 0..5 {
        let ip = format!("2001:db8:7:7::{n}");
        let at = sign_in_from(&app, &ip, "ann@acme.io", "wrong password!").await;
        assert!(at.contains("error=invalid_credentials"), "{at}");
    }
    let at = sign_in_from(
        &app,
        "2001:db8:7:7::99",
        "ann@acme.io",
        crate::helpers::PASSWORD,
    )
    .await;
    assert!(at.contains("error=too_many_attempts"), "{at}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_guesses_count_against_each_other() {
    let app = behind_a_proxy(|_| {}).await;
    app.sign_up("ann@acme.io").await;
    let guesses =
        (0..20).map(|_| sign_in_from(&app, "198.51.100.7", "ann@acme.io", "wrong password!"));
    let answers = futures_util::future::join_all(guesses).await;
    let checked = answers
        .iter()
        .filter(|at| at.contains("error=invalid_credentials"))
        .count();
    assert!(
        checked <= 5,
        "{checked} parallel guesses were checked: {answers:?}"
    );
    assert!(answers.iter().all(|at| at.contains("error=")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ups_from_one_network_are_throttled() {
    let app = behind_a_proxy(|config| config.limits.sign_ups_per_hour = 2).await;
    let sign_up = |ip: &'static str, email: String| {
        let url = app.url("/auth/sign-up");
        async move {
            let response = TestApp::new_client()
                .post(url)
                .header("x-forwarded-for", ip)
                .form(&[
                    ("email", email.as_str()),
                    ("password", crate::helpers::PASSWORD),
                ])
                .send()
                .await
                .unwrap();
            location(&response)
        }
    };
    for n in 0..2 {
        assert_eq!(
            sign_up("198.51.100.7", format!("bot{n}@evil.example")).await,
            "/streams"
        );
    }
    let third = sign_up("198.51.100.7", "bot2@evil.example".into()).await;
    assert!(third.contains("error=too_many_sign_ups"), "{third}");
    assert_eq!(
        sign_up("203.0.113.9", "ann@acme.io".into()).await,
        "/streams"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_cookie_is_secure_and_host_only_by_default() {
    let app = TestApp::spawn_configured(TestDatabase::new(Backend::Sqlite).await, |config| {
        config.http.secure_cookie = true;
    })
    .await;
    let response = app.sign_up("ann@acme.io").await;
    let cookies = crate::helpers::set_cookies(&response);
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert!(
        cookies[0].starts_with("__Host-sluice_session="),
        "{cookies:?}"
    );
    assert!(cookies[0].contains("; Secure"), "{cookies:?}");
    assert!(cookies[0].contains("; HttpOnly"), "{cookies:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_ends_and_its_live_feed_with_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.sign_up("ann@acme.io").await;
    let (status, _) = app.server_fn("/api/session").await;
    assert_eq!(status, StatusCode::OK);
    let feed = app.get("/api/realtime/events").await;
    assert_eq!(feed.status(), StatusCode::OK);
    // Twelve hours and a minute without use.
    sqlx::query("update sessions set last_seen_at = $1")
        .bind(app::db::now_ms() - 12 * 3_600_000 - 60_000)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (_, session) = app.server_fn("/api/session").await;
    assert!(
        session.is_null() || session["code"] == "session_required",
        "{session}"
    );
    let page = app.get("/streams").await;
    assert!(
        location(&page).starts_with("/sign-in"),
        "{}",
        location(&page)
    );
    // The feed that was open stops within a few snapshots.
    let ended = tokio::time::timeout(Duration::from_secs(15), feed.bytes()).await;
    assert!(
        ended.is_ok(),
        "the live feed went on after its session ended"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_keeps_only_a_few_live_feeds_open() {
    let app = TestApp::spawn_configured(TestDatabase::new(Backend::Sqlite).await, |config| {
        config.http.live_feeds_per_session = 2;
    })
    .await;
    app.sign_up("ann@acme.io").await;
    let first = app.get("/api/realtime/events").await;
    let second = app.get("/api/realtime/events").await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::OK)
    );
    let third = app.get("/api/realtime/events").await;
    assert_eq!(third.status(), StatusCode::TOO_MANY_REQUESTS);
    drop(first);
    // The closed feed's place is given back once the server notices it went.
    let mut reopened = StatusCode::TOO_MANY_REQUESTS;
    for _ in 0..50 {
        reopened = app.get("/api/realtime/events").await.status();
        if reopened == StatusCode::OK {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(reopened, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_trickles_its_headers_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn_configured(TestDatabase::new(Backend::Sqlite).await, |config| {
        config.http.header_timeout_ms = 300;
    })
    .await;
    let mut slow = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Never the blank line that ends the headers: the server closes within the deadline.
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut rest)).await;
    assert!(closed.is_ok(), "the connection was held open");
    let text = String::from_utf8_lossy(&rest);
    assert!(!text.contains("200 OK"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_and_database_files_are_the_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn(Backend::Sqlite).await;
    let TestStream { token, .. } = stream_with(&app, StreamKind::SmsMarketing, sms("Alerts")).await;
    app.send_sms(&token, &[("p-1", "hello")]).await;
    let mode = |name: &str| {
        let path = app.data_dir().join(name);
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode(""), 0o700, "the data folder");
    for file in ["secret.key", "sluice.db", "sluice.db-wal", "sluice.db-shm"] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
}

async fn stored_secrets_open_only_in_their_own_row(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = app.secret_key();
    let TestStream {
        account, id: first, ..
    } = stream_with(&app, StreamKind::SmsMarketing, sms("First")).await;
    let (second, _) = store::create(
        &app.db,
        &key,
        &account,
        StreamKind::SmsMarketing,
        &sms("Second"),
        false,
    )
    .await
    .unwrap();
    // Someone who can write to the database copies one stream's sealed token into another's
    // row, hoping the console shows it: it does not open there.
    sqlx::query(
        "update streams set token_sealed = (select token_sealed from streams where id = $1)
         where id = $2",
    )
    .bind(&first)
    .bind(&second.id)
    .execute(app.db.pool())
    .await
    .unwrap();
    assert!(
        store::reveal_token(&app.db, &key, &account, &first)
            .await
            .is_ok()
    );
    assert!(
        store::reveal_token(&app.db, &key, &account, &second.id)
            .await
            .is_err()
    );
}

async fn inbound_keys_are_random_per_stream_and_rotate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let key = app.secret_key();
    let TestStream {
        account: owner, id, ..
    } = stream_with(&app, StreamKind::SmsTwoWay, sms("Replies")).await;
    let stored = store::inbound_key(&app.db, &key, &id)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        stored,
        key.derive("inbound-sms", &id),
        "not derived from the server's key"
    );
    let post = |stream_key: String| {
        app.client
            .post(app.url(&format!("/inbound/sms/{id}")))
            .header("x-sluice-key", stream_key)
            .form(&[("from", "447700900123"), ("text", "Hello")])
            .send()
    };
    assert_eq!(post(stored.clone()).await.unwrap().status(), StatusCode::OK);
    let rotated = store::rotate_inbound_key(&app.db, &key, &owner, &id)
        .await
        .unwrap();
    assert_ne!(rotated, stored);
    assert_eq!(
        post(stored).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(post(rotated).await.unwrap().status(), StatusCode::OK);
    assert_eq!(
        post(String::new()).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // Another account cannot rotate it.
    let other = account(&app.db, "mallory@evil.example").await;
    assert!(
        store::rotate_inbound_key(&app.db, &key, &other, &id)
            .await
            .is_err()
    );
}

async fn streams_send_only_to_their_destination_countries(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let input = StreamInput {
        allowed_countries: vec!["+44".into()],
        ..sms("UK only")
    };
    let TestStream { account, id, token } =
        stream_with(&app, StreamKind::SmsMarketing, input).await;
    let (status, body) = call(
        &app,
        "/simple_send",
        &token,
        json!({ "messages": [
            { "internal_id": "uk", "recipient_phone": "+447700900123", "message_content": "Hi" },
            { "internal_id": "fr", "recipient_phone": "+33612345678", "message_content": "Hi" },
        ] }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["messages"][0]["status"], "queued", "{body}");
    assert_eq!(
        body["messages"][1]["error"]["code"], "country_not_allowed",
        "{body}"
    );
    let (status, single) = call(
        &app,
        "/simple_send",
        &token,
        json!({ "messages": [
            { "internal_id": "fr-2", "recipient_phone": "+33612345678", "message_content": "Hi" },
        ] }),
    )
    .await;
    assert!(!status.is_success(), "{single}");
    assert_eq!(
        single["messages"][0]["error"]["code"], "country_not_allowed",
        "{single}"
    );

    // Changed in the console (or the CLI), it holds at once, though the token was just used.
    store::set_countries(&app.db, &account, &id, &["+33".into()])
        .await
        .unwrap();
    let (_, now) = call(
        &app,
        "/simple_send",
        &token,
        json!({ "messages": [
            { "internal_id": "fr-3", "recipient_phone": "+33612345678", "message_content": "Hi" },
        ] }),
    )
    .await;
    assert_eq!(now["messages"][0]["status"], "queued", "{now}");

    let codes = StreamInput {
        allowed_countries: vec!["+44".into()],
        ..sms("Codes")
    };
    let TestStream {
        token: otp_token, ..
    } = app
        .create_stream(&account, StreamKind::SmsOtp, &codes)
        .await;
    let (status, refused) = call(
        &app,
        "/otp/auth",
        &otp_token,
        json!({ "recipient_phone": "+2348012345678" }),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["code"].clone()),
        (StatusCode::FORBIDDEN, json!("country_not_allowed")),
        "{refused}"
    );
}

async fn otp_codes_are_capped_per_stream_and_per_number_range(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let TestStream { account, id, token } =
        stream_with(&app, StreamKind::SmsOtp, sms("Logins")).await;
    settings_store::save_otp_settings(
        &app.db,
        &account,
        &id,
        OtpSettings {
            per_range_burst: 3,
            per_stream_hour: 5,
            ..OtpSettings::default()
        },
    )
    .await
    .unwrap();
    let ask = |phone: &'static str| {
        call(
            &app,
            "/otp/auth",
            &token,
            json!({ "recipient_phone": phone }),
        )
    };
    // A pumping run through one range: three go, the fourth pauses the range.
    for phone in ["+447700900101", "+447700900102", "+447700900103"] {
        let (status, body) = ask(phone).await;
        assert_eq!(status, StatusCode::OK, "{phone}: {body}");
    }
    let (status, paused) = ask("+447700900104").await;
    assert_eq!(
        (status, paused["error"]["code"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("range_paused")),
        "{paused}"
    );
    assert!(
        paused["error"]["message"]
            .as_str()
            .unwrap()
            .contains("+447700900"),
        "{paused}"
    );
    // Other ranges go on, until the stream's hourly cap.
    for phone in ["+447700911201", "+12025550123"] {
        let (status, body) = ask(phone).await;
        assert_eq!(status, StatusCode::OK, "{phone}: {body}");
    }
    let (status, capped) = ask("+4915112345678").await;
    assert_eq!(
        (status, capped["error"]["code"].clone()),
        (StatusCode::TOO_MANY_REQUESTS, json!("stream_limit_reached")),
        "{capped}"
    );
}

/// A provider on loopback that accepts every send and keeps its body.
async fn recording_provider() -> (SocketAddr, Arc<std::sync::Mutex<Vec<String>>>) {
    let bodies = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = bodies.clone();
    let router = Router::new().fallback(any(move |body: String| {
        let kept = kept.clone();
        async move {
            kept.lock().unwrap().push(body);
            (StatusCode::OK, r#"{"id":"prov-1"}"#)
        }
    }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, bodies)
}

async fn codes_are_stored_masked_and_sent_whole(backend: Backend) {
    let (provider, bodies) = recording_provider().await;
    let app = TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.webhooks.allow_private = true;
    })
    .await;
    let account = with_connection(&app, "ann@acme.io", format!("http://{provider}/sms")).await;
    let token = real_stream(&app, &account, StreamKind::SmsOtp, "AcmeShop").await;
    let (_, stream) = store::find_by_token(&app.db, &token)
        .await
        .unwrap()
        .unwrap();
    settings_store::save_otp_settings(
        &app.db,
        &account,
        &stream.id,
        OtpSettings {
            source: OtpCodeSource::CustomerCode,
            ..OtpSettings::default()
        },
    )
    .await
    .unwrap();
    let (status, issued) = call(
        &app,
        "/otp/auth",
        &token,
        json!({ "recipient_phone": "+447700900123", "template_variables": { "code": "604213" } }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{issued}");
    let uuid = issued["message"]["message_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    for _ in 0..200 {
        if !bodies.lock().unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let sent = bodies.lock().unwrap().clone();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("Your verification code is 604213"),
        "{sent:?}"
    );
    let content: String = sqlx::query_scalar("select content from messages where id = $1")
        .bind(&uuid)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(content, "Your verification code is ******");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_that_guesses_tokens_is_paused_but_working_tokens_go_through() {
    let app = behind_a_proxy(|config| config.limits.unknown_tokens_per_minute = 3).await;
    let TestStream { account, token, .. } =
        stream_with(&app, StreamKind::SmsMarketing, sms("Alerts")).await;
    let (_, untried) = store::create(
        &app.db,
        &app.secret_key(),
        &account,
        StreamKind::SmsMarketing,
        &sms("Untried"),
        false,
    )
    .await
    .unwrap();
    let status = |from: &'static str, token: String| {
        app.client
            .get(app.url("/status?internal_ids=x"))
            .header("x-forwarded-for", from)
            .header("authorization", token)
            .send()
    };
    let guesser = "198.51.100.7";
    assert_eq!(
        status("203.0.113.9", token.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    for n in 0..4 {
        let refused = status(guesser, format!("guess-{n}")).await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "guess {n}");
    }
    let paused = status(guesser, "guess-5".into()).await.unwrap();
    assert_eq!(paused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(paused.headers().contains_key("retry-after"));
    let body: Value = paused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_unknown_tokens");
    // A token that worked still goes through; one that never did waits with the guesser.
    assert_eq!(
        status(guesser, token).await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        status(guesser, untried).await.unwrap().status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    // Other networks are not paused.
    assert_eq!(
        status("203.0.113.50", "guess-6".into())
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
