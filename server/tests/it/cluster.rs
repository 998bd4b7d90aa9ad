//! Several instances on one Postgres database behave as one: a stream's throughput limit holds
//! across them, a change on one holds on every other at once, live feeds hear traffic any of
//! them accepted, a batch sent to two of them at once is queued once and answered by both, and
//! a `kill -9` of one under load loses nothing and sends nothing more than once beyond the
//! sends it had in flight.

use std::{collections::HashMap, time::Duration};

use app::{
    crypto::SecretKey,
    db::Db,
    streams::{StreamInput, StreamKind},
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::{
    api::{call, sms},
    helpers::{
        Backend, PASSWORD, Server, TestApp, TestDatabase, TestStream, metric, next_event, peer,
        provider_connection,
    },
    streams::account,
};

/// Two instances on one fresh Postgres database.
async fn two_instances() -> (TestApp, TestApp) {
    let a = TestApp::spawn(Backend::Postgres).await;
    let b = a.spawn_beside(|config| config.delivery.poll_ms = 20).await;
    (a, b)
}

/// ann@acme.io's account and a Marketing stream of `input` in it, made through `app`.
async fn anns_stream(app: &TestApp, input: &StreamInput) -> TestStream {
    let account = account(&app.db, "ann@acme.io").await;
    app.create_stream(&account, StreamKind::SmsMarketing, input)
        .await
}

/// Sends one message through `instance`'s API with `token`; answers the status.
async fn send_one(instance: &TestApp, token: &str, internal_id: &str) -> StatusCode {
    let body = json!({ "messages": [{ "internal_id": internal_id,
        "recipient_phone": "+447700900123", "message_content": "Hi" }] });
    instance
        .client
        .post(instance.url("/simple_send/"))
        .header("authorization", token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
}

/// The times (ms) the stream's messages were sent, in order.
async fn sent_times(db: &Db, stream: &TestStream) -> Vec<i64> {
    sqlx::query_scalar(
        "select h.at from message_history h join messages m on m.id = h.message_id
         where m.stream_id = $1 and h.status = 'sent' order by h.at",
    )
    .bind(&stream.id)
    .fetch_all(db.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streams_throughput_limit_holds_across_instances() {
    let (a, b) = two_instances().await;
    let input = StreamInput {
        max_rate: Some(20),
        ..sms("Paced")
    };
    let stream = anns_stream(&a, &input).await;
    // Both instances accept, and so both deliver, 60 messages between them.
    for round in 0..6 {
        for (n, instance) in [&a, &b].into_iter().enumerate() {
            let messages: Vec<Value> = (0..5)
                .map(|m| {
                    json!({ "internal_id": format!("p-{round}-{n}-{m}"),
                            "recipient_phone": "+447700900123", "message_content": "Paced" })
                })
                .collect();
            let (status, _) = call(
                instance,
                "/simple_send/",
                &stream.token,
                json!({ "messages": messages }),
            )
            .await;
            assert_eq!(status, StatusCode::OK);
        }
    }
    let mut sent = Vec::new();
    for _ in 0..200 {
        sent = sent_times(&a.db, &stream).await;
        if sent.len() == 60 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sent.len(), 60, "not all sent");
    // 20 a second with both sending: the 21st send after any send comes (nearly) a second
    // later; history times are commit times, which a busy machine spreads a little.
    for window in sent.windows(21) {
        assert!(window[20] - window[0] >= 850, "{sent:?}");
    }
    assert!(sent[59] - sent[0] >= 2_850, "{sent:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_reset_on_one_instance_is_refused_on_the_other_at_once() {
    let (a, b) = two_instances().await;
    let stream = anns_stream(&a, &sms("Alerts")).await;
    // B knows the token (and keeps the stream it opens in its cache).
    assert_eq!(send_one(&b, &stream.token, "before").await, StatusCode::OK);
    assert_eq!(
        send_one(&b, &stream.token, "before-2").await,
        StatusCode::OK
    );

    a.sign_in("ann@acme.io", PASSWORD).await;
    let (status, fresh) = a
        .server_fn_json("/api/streams/reset-token", &json!({ "id": stream.id }))
        .await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    let fresh = fresh.as_str().unwrap().to_string();

    // The very next request to B: the old token is refused, the new one works.
    assert_eq!(
        send_one(&b, &stream.token, "after").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(send_one(&b, &fresh, "after-new").await, StatusCode::OK);

    // Disabling on A holds on B at once too.
    let (status, answer) = a
        .server_fn_json(
            "/api/streams/action",
            &json!({ "id": stream.id, "action": "disable" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_ne!(send_one(&b, &fresh, "disabled").await, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_accepted_on_one_instance_reaches_the_others_realtime_feed_within_a_second() {
    let (a, b) = two_instances().await;
    let stream = anns_stream(&a, &sms("Alerts")).await;
    a.sign_in("ann@acme.io", PASSWORD).await;
    let mut feed = a.get("/api/realtime/events").await;
    assert_eq!(feed.status(), StatusCode::OK);
    let mut buffer = String::new();
    let (name, data) = next_event(&mut feed, &mut buffer).await.unwrap();
    assert_eq!(name, "snapshot");
    let first: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(first["streams"][0]["per_minute"], 0, "{first}");

    // An idle feed: nothing comes while nothing moves.
    let quiet = tokio::time::timeout(Duration::from_millis(1_500), feed.chunk()).await;
    assert!(
        quiet.is_err(),
        "a snapshot came with nothing moving: {quiet:?}"
    );

    let accepted_at = Instant::now();
    assert_eq!(send_one(&b, &stream.token, "x").await, StatusCode::OK);
    loop {
        let (name, data) = next_event(&mut feed, &mut buffer).await.unwrap();
        assert_eq!(name, "snapshot");
        let snapshot: Value = serde_json::from_str(&data).unwrap();
        if snapshot["streams"][0]["per_minute"] == 1 {
            break;
        }
    }
    let took = accepted_at.elapsed();
    assert!(
        took < Duration::from_secs(1),
        "A heard of it after {took:?}"
    );
}

/// One message per round-trip text: `kill-{n}`.
fn text_of(n: usize) -> String {
    format!("Order kill-{n}.")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_loses_nothing_and_resends_only_what_it_had_in_flight() {
    // The provider counts sends and answers after 50 ms, so each instance has sends in flight.
    let (provider, seen) = peer(|_, n| (200, json!({ "id": format!("prov-{n}") }), 50)).await;
    let database = TestDatabase::new(Backend::Postgres).await;
    let env = [
        ("SLUICE_WEBHOOKS__ALLOW_PRIVATE", "true"),
        ("SLUICE_WEBHOOKS__TIMEOUT_MS", "500"),
        ("SLUICE_LIMITS__API_PER_SECOND", "1000000"),
        ("SLUICE_LIMITS__API_BURST", "1000000"),
    ];
    let a = Server::start_with(&database, &env).await;
    let b = Server::start_with(&database, &env).await;
    let db = Db::connect(&database.url).await.unwrap();
    let key_hex = std::fs::read_to_string(database.data_dir.join("secret.key")).unwrap();
    let key = SecretKey::from_hex(&key_hex).unwrap();
    let account = account(&db, "ann@acme.io").await;
    provider_connection(&db, &key, &account, provider).await;
    let (_, token) = app::streams::store::create(
        &db,
        &key,
        &account,
        StreamKind::SmsTransactional,
        &StreamInput {
            name: "Orders".into(),
            default_sender: Some("AcmeShop".into()),
            demo: false,
            ..StreamInput::default()
        },
        false,
    )
    .await
    .unwrap();

    // A client sends through both, one message a request, alternating; A is killed midway.
    let client = TestApp::new_client();
    let mut accepted: Vec<usize> = Vec::new();
    let bases = [a.base.clone(), b.base.clone()];
    let mut a = Some(a);
    for n in 0..400 {
        if n == 200 {
            a.take().unwrap().signal("-KILL");
        }
        let base = if a.is_some() {
            &bases[n % 2]
        } else {
            &bases[1]
        };
        let body = json!({ "messages": [{ "internal_id": format!("k-{n}"),
            "recipient_phone": "+447700900123", "message_content": text_of(n) }] });
        let answer = client
            .post(format!("{base}/simple_send/"))
            .header("authorization", &token)
            .json(&body)
            .send()
            .await;
        if answer.is_ok_and(|answer| answer.status() == StatusCode::OK) {
            accepted.push(n);
        }
    }
    assert!(accepted.len() >= 390, "{} accepted", accepted.len());

    // B takes over what A held once its leases run out (1 s here).
    let mut pending = i64::MAX;
    for _ in 0..300 {
        pending = sqlx::query_scalar("select count(*) from messages where status = 'queued'")
            .fetch_one(db.pool())
            .await
            .unwrap();
        if pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(pending, 0, "messages still queued");
    tokio::time::sleep(Duration::from_millis(1_200)).await;

    let mut sends: HashMap<String, usize> = HashMap::new();
    for request in seen.lock().unwrap().iter() {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        if let Some(start) = body.find("Order kill-") {
            let text: String = body[start..].chars().take_while(|c| *c != '"').collect();
            *sends.entry(text).or_default() += 1;
        }
    }
    let lost: Vec<usize> = accepted
        .iter()
        .copied()
        .filter(|n| !sends.contains_key(&text_of(*n)))
        .collect();
    assert!(lost.is_empty(), "accepted but never sent: {lost:?}");
    let thrice: Vec<(&String, &usize)> = sends.iter().filter(|(_, count)| **count > 2).collect();
    assert!(thrice.is_empty(), "sent more than twice: {thrice:?}");
    // A resend is a send A had in flight when it died: at most what one instance sends at once.
    let twice = sends.values().filter(|count| **count == 2).count();
    assert!(twice <= 64 * 2, "{twice} sent twice");
    eprintln!("{} accepted, {twice} sent twice", accepted.len());
    db.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_realtime_viewers_cost_no_snapshot_reads() {
    let a = TestApp::spawn_configured(TestDatabase::new(Backend::Postgres).await, |config| {
        config.http.live_feeds_per_session = 250;
        config.metrics.token = Some(sluice::config::Redacted("scrape".into()));
    })
    .await;
    let b = a.spawn_beside(|_| {}).await;
    let stream = anns_stream(&a, &sms("Alerts")).await;
    a.sign_in("ann@acme.io", PASSWORD).await;
    let reads = |samples: Vec<crate::helpers::Sample>| {
        metric(
            &samples,
            "sluice_live_snapshot_reads_total",
            &[("feed", "realtime")],
        )
    };

    let mut feeds = Vec::new();
    for _ in 0..200 {
        let mut feed = a.get("/api/realtime/events").await;
        assert_eq!(feed.status(), StatusCode::OK);
        let mut buffer = String::new();
        let (name, _) = next_event(&mut feed, &mut buffer).await.unwrap();
        assert_eq!(name, "snapshot");
        feeds.push((feed, buffer));
    }
    // The 200 feeds of one account share one view: one read between them.
    let opened = reads(a.scrape("scrape").await);
    assert!(opened <= 2.0, "{opened} reads to open 200 feeds");
    // Nothing moves: nothing is read, however many watch.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(reads(a.scrape("scrape").await), opened, "idle feeds read");

    // A message accepted on B: every feed shows it, from a read or two shared by all.
    assert_eq!(send_one(&b, &stream.token, "x").await, StatusCode::OK);
    for (feed, buffer) in &mut feeds {
        loop {
            let (_, data) = next_event(feed, buffer).await.unwrap();
            let snapshot: Value = serde_json::from_str(&data).unwrap();
            if snapshot["streams"][0]["per_minute"] == 1 {
                break;
            }
        }
    }
    let moved = reads(a.scrape("scrape").await) - opened;
    assert!((1.0..=5.0).contains(&moved), "{moved} reads for 200 feeds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_batch_sent_to_two_instances_at_once_is_queued_once_and_answered_by_both() {
    let (a, b) = two_instances().await;
    let stream = anns_stream(&a, &sms("Retried")).await;
    // A client that gave up waiting on A sends the same batch to B; several clients at once, so
    // each instance's group commit holds their messages in another order than the other's.
    for round in 0..10 {
        let batch = |client: usize, reversed: bool| {
            let mut ids: Vec<usize> = (0..50).collect();
            if reversed {
                ids.reverse();
            }
            let messages: Vec<Value> = ids
                .into_iter()
                .map(|m| {
                    json!({ "internal_id": format!("r-{round}-{client}-{m}"),
                            "recipient_phone": "+447700900123", "message_content": "Once" })
                })
                .collect();
            json!({ "messages": messages })
        };
        let sends = (0..4).flat_map(|client| {
            [(&a, false), (&b, true)].map(|(instance, reversed)| {
                call(
                    instance,
                    "/simple_send/",
                    &stream.token,
                    batch(client, reversed),
                )
            })
        });
        let mut answered: HashMap<String, Vec<String>> = HashMap::new();
        for (status, body) in futures_util::future::join_all(sends).await {
            assert_eq!(status, StatusCode::OK, "round {round}: {body}");
            for message in body["messages"].as_array().unwrap() {
                answered
                    .entry(message["internal_id"].as_str().unwrap().into())
                    .or_default()
                    .push(message["message_uuid"].as_str().unwrap().into());
            }
        }
        // Both instances answer each message with the one it is.
        assert_eq!(answered.len(), 4 * 50);
        assert!(
            answered
                .values()
                .all(|uuids| uuids.len() == 2 && uuids[0] == uuids[1])
        );
    }
    let queued: i64 = sqlx::query_scalar("select count(*) from messages where stream_id = $1")
        .bind(&stream.id)
        .fetch_one(a.db.pool())
        .await
        .unwrap();
    assert_eq!(queued, 10 * 4 * 50);
}
