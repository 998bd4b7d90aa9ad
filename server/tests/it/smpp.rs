//! The SMPP channel against an SMSC we did not write: the npm `smpp` package in server mode
//! (`server/tests/smsc/smsc.js`), started per test. Binding, GSM-7 and UCS-2 submit_sm, UDH
//! concatenation, throttling, a dropped session, delivery receipts and replies (one of them in
//! parts), a refused bind, and a connection's throughput limit.

use std::{
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{
    connections::{
        ConnectionInput, ConnectionSettings, Health, SmppSettings, store as connections,
    },
    streams::{StreamInput, StreamKind},
};
use reqwest::StatusCode;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::{
    helpers::{Backend, TestApp, TestDatabase, TestStream, history_steps},
    on_both_backends,
    streams::account,
};

on_both_backends!(
    messages_reach_an_smsc_and_its_receipts_and_replies_come_back,
    a_refused_bind_fails_messages_and_shows_in_the_connections_health,
    submits_to_an_smsc_keep_to_its_throughput_limit,
);

/// Waits up to `limit` for the SMSC to have seen `count` events of `kind`.
async fn seen(smsc: &Smsc, kind: &str, count: usize, limit: Duration) {
    let deadline = tokio::time::Instant::now() + limit;
    while smsc.events(kind).len() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} {kind} events after {limit:?}, not {count}",
            smsc.events(kind).len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Two instances on one Postgres database bind a connection once between them: the one
/// holding its session sends what either accepted. When it dies, the other binds within
/// seconds and sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_share_one_smpp_session_and_take_it_over() {
    let smsc = Smsc::start().await;
    let mut a = app_with(Backend::Postgres).await;
    let TestStream { token, .. } = smpp_stream(&a, &smsc, "secret1", 0).await;
    // A binds the new connection at its next look.
    seen(&smsc, "bind", 1, Duration::from_secs(10)).await;
    let b = a
        .spawn_beside(|config| config.webhooks.allow_private = true)
        .await;
    for n in 0..10 {
        let instance = if n % 2 == 0 { &a } else { &b };
        send(
            instance,
            &token,
            &format!("both-{n}"),
            "Your table is booked.",
        )
        .await;
    }
    seen(&smsc, "submit_sm", 10, Duration::from_secs(10)).await;
    // B looked (more than once) and found the one slot taken.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(smsc.events("bind").len(), 1, "{:?}", smsc.events("bind"));

    a.crash().await;
    let crashed_at = tokio::time::Instant::now();
    send(&b, &token, "after", "Your table is booked.").await;
    seen(&smsc, "submit_sm", 11, Duration::from_secs(15)).await;
    let took = crashed_at.elapsed();
    assert_eq!(smsc.events("bind").len(), 2);
    assert!(
        took < Duration::from_secs(8),
        "B took {took:?} to take over"
    );
}

/// A running SMSC and every event it printed.
struct Smsc {
    port: u16,
    events: Arc<Mutex<Vec<Value>>>,
    _process: tokio::process::Child,
}

impl Smsc {
    async fn start() -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/smsc/smsc.js");
        let mut process = tokio::process::Command::new("node")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the SMPP tests need Node.js and `npm install` in server/tests/smsc");
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let first: Value =
            serde_json::from_str(&lines.next_line().await.unwrap().unwrap()).unwrap();
        let port = u16::try_from(first["port"].as_u64().unwrap()).unwrap();
        let events = Arc::new(Mutex::new(Vec::new()));
        let collected = events.clone();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Ok(event) = serde_json::from_str(&line) {
                    collected.lock().unwrap().push(event);
                }
            }
        });
        Self {
            port,
            events,
            _process: process,
        }
    }

    fn events(&self, kind: &str) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["event"] == kind)
            .cloned()
            .collect()
    }
}

/// An account with an SMPP connection to `smsc` (at most `max_rate` submits a second, 0 for no
/// limit) and a non-demo Two-way stream sending as AcmeShop.
async fn smpp_stream(app: &TestApp, smsc: &Smsc, password: &str, max_rate: u32) -> TestStream {
    let key = app.secret_key();
    let account = account(&app.db, "ann@acme.io").await;
    let connection = ConnectionInput {
        name: "SMSC".into(),
        settings: ConnectionSettings::Smpp(SmppSettings {
            host: "127.0.0.1".into(),
            port: smsc.port,
            system_id: "sluice".into(),
            max_rate,
            ..SmppSettings::default()
        }),
        secret: Some(password.into()),
        is_default: true,
    };
    connections::save(&app.db, &key, &account, None, connection)
        .await
        .unwrap();
    let input = StreamInput {
        name: "Bookings".into(),
        default_sender: Some("AcmeShop".into()),
        ..StreamInput::default()
    };
    app.create_stream(&account, StreamKind::SmsTwoWay, &input)
        .await
}

async fn send(app: &TestApp, token: &str, internal_id: &str, text: &str) {
    let (status, body) = app.send_sms(token, &[(internal_id, text)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

async fn app_with(backend: Backend) -> TestApp {
    TestApp::spawn_configured(TestDatabase::new(backend).await, |config| {
        config.webhooks.allow_private = true;
        config.delivery.retry_base_ms = 50;
        config.delivery.retry_max_ms = 100;
        config.delivery.max_attempts = 3;
    })
    .await
}

async fn inbound_texts(app: &TestApp) -> Vec<(String, String)> {
    sqlx::query_as(
        "select sender, content from messages where direction = 'inbound' order by created_at",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

async fn messages_reach_an_smsc_and_its_receipts_and_replies_come_back(backend: Backend) {
    let smsc = Smsc::start().await;
    let app = app_with(backend).await;
    let TestStream { account, token, .. } = smpp_stream(&app, &smsc, "secret1", 0).await;

    // Throttled once, then accepted and reported delivered.
    send(&app, &token, "s-1", "Hello, throttle me").await;
    let delivered = app.status_becomes(&token, "s-1", "delivered").await;
    let steps = history_steps(&delivered);
    assert_eq!(steps, ["queued", "queued", "sent", "delivered"]);
    let submits = smsc.events("submit_sm");
    assert_eq!(submits.len(), 2);
    let submit = &submits[1];
    assert_eq!(submit["source_addr"], "AcmeShop");
    assert_eq!(submit["source_addr_ton"], 5, "alphanumeric sender");
    assert_eq!(submit["destination_addr"], "447700900123");
    assert_eq!(submit["dest_addr_ton"], 1, "international number");
    assert_eq!(submit["data_coding"], 0, "GSM-7");
    assert_eq!(
        submit["registered_delivery"].as_u64().unwrap() & 1,
        1,
        "receipt asked for"
    );
    assert_eq!(submit["text"], "Hello, throttle me");

    // A long UCS-2 message goes as three concatenated parts sharing one reference.
    let long = "Привет! ".repeat(20);
    send(&app, &token, "s-2", &long).await;
    app.status_becomes(&token, "s-2", "delivered").await;
    let parts: Vec<Value> = smsc.events("submit_sm")[2..].to_vec();
    assert_eq!(parts.len(), 3, "{parts:?}");
    let reference = parts[0]["udh"][0].as_str().unwrap()[4..8].to_string();
    for (n, part) in parts.iter().enumerate() {
        assert_eq!(part["data_coding"], 8, "UCS-2");
        assert_eq!(
            part["esm_class"].as_u64().unwrap() & 0x40,
            0x40,
            "UDH indicator"
        );
        assert_eq!(part["udh"][0], format!("0804{reference}03{:02x}", n + 1));
        assert_eq!(
            part["registered_delivery"].as_u64().unwrap() & 1,
            u64::from(n == 0),
            "only the first part asks for a receipt"
        );
    }

    // The SMSC reports one undelivered and refuses another outright.
    send(&app, &token, "s-3", "This will fail").await;
    let undelivered = app.status_becomes(&token, "s-3", "undelivered").await;
    assert_eq!(
        undelivered["error"]["message"],
        "The SMSC reported the message UNDELIV."
    );
    send(&app, &token, "s-4", "Please refuse me").await;
    let refused = app.status_becomes(&token, "s-4", "rejected").await;
    assert_eq!(refused["error"]["code"], "provider_rejected");

    // The SMSC drops the session: the message is sent again on a new one.
    send(&app, &token, "s-5", "Now drop me").await;
    app.status_becomes(&token, "s-5", "delivered").await;
    assert_eq!(smsc.events("bind").len(), 2, "bound again after the drop");

    // Replies arrive over the session, a long one in parts, and are stored once, whole.
    send(&app, &token, "s-6", "Table for two? long reply please").await;
    send(&app, &token, "s-7", "Shall we? reply please").await;
    app.status_becomes(&token, "s-7", "delivered").await;
    for _ in 0..100 {
        if inbound_texts(&app).await.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut replies: Vec<String> = inbound_texts(&app)
        .await
        .into_iter()
        .map(|(from, text)| {
            assert_eq!(from, "+447700900123");
            text
        })
        .collect();
    replies.sort();
    assert_eq!(
        replies,
        ["Sure, see you then!", "This is the start, and the end."]
    );

    let health = &connections::list(&app.db, &account).await.unwrap()[0];
    assert_eq!(health.health, Health::Up);
}

async fn a_refused_bind_fails_messages_and_shows_in_the_connections_health(backend: Backend) {
    let smsc = Smsc::start().await;
    let app = app_with(backend).await;
    let TestStream { account, token, .. } = smpp_stream(&app, &smsc, "wrong", 0).await;
    send(&app, &token, "b-1", "Hello").await;
    let failed = app.status_becomes(&token, "b-1", "sent_failed").await;
    assert_eq!(failed["error"]["code"], "provider_unreachable");
    assert!(
        failed["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("The SMSC refused to bind"),
        "{failed}"
    );
    assert!(smsc.events("submit_sm").is_empty());
    let health = &connections::list(&app.db, &account).await.unwrap()[0];
    assert_eq!(health.health, Health::Down);
}

async fn submits_to_an_smsc_keep_to_its_throughput_limit(backend: Backend) {
    let smsc = Smsc::start().await;
    let app = app_with(backend).await;
    let TestStream { token, .. } = smpp_stream(&app, &smsc, "secret1", 5).await;
    let batch: Vec<(String, String)> = (1..=6)
        .map(|n| (format!("r-{n}"), format!("Reminder {n}")))
        .collect();
    let batch: Vec<(&str, &str)> = batch
        .iter()
        .map(|(i, t)| (i.as_str(), t.as_str()))
        .collect();

    let (status, body) = app.send_sms(&token, &batch).await;

    assert_eq!(status, StatusCode::OK, "{body}");
    // Each is recorded as its submit is answered, in whatever order they took the slots.
    for (id, _) in &batch {
        app.status_becomes(&token, id, "delivered").await;
    }
    let at: Vec<u64> = smsc
        .events("submit_sm")
        .iter()
        .map(|submit| submit["at"].as_u64().unwrap())
        .collect();
    assert_eq!(at.len(), 6);
    // Five gaps of 200 ms at 5 a second (less a timer's few milliseconds).
    let spread = at.iter().max().unwrap() - at.iter().min().unwrap();
    assert!(spread >= 950, "six submits within {spread} ms");
}
