//! Durability of the real binary: a `kill -9` loses no accepted message and delivers none
//! twice; SIGTERM drains in-flight work and exits promptly.

use std::time::Duration;

use app::{
    db::{Db, now_ms},
    messages::MessageStatus,
};
use serde_json::Value;
use sluice::{
    engine::{self, Engine, Outcome},
    webhooks::store as webhook_store,
};

use crate::{
    helpers::{Backend, Server, TestApp, TestDatabase, batch, create_operator, sluice_on},
    on_both_backends,
};

on_both_backends!(
    a_killed_server_loses_no_accepted_message_and_sends_none_twice,
    sigterm_drains_and_exits_within_ten_seconds,
    a_claimed_message_is_claimed_again_only_after_its_step_or_its_lease,
    a_webhook_attempt_back_after_its_lease_records_nothing,
);

/// SQLite's log is copied into the database file while the server runs, by the checkpointer
/// beside the writer (commits do not checkpoint): the file grows as messages are accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_log_is_copied_into_the_database_while_serving() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let token = stream_token(&database);
    let server = Server::start(&database).await;
    let file = database.data_dir.join("sluice.db");
    let size = || std::fs::metadata(&file).unwrap().len();
    let before = size();
    server.send_batches(&token, 25).await;
    for _ in 0..100 {
        if size() >= before + 64 * 1024 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "500 accepted messages did not reach the database file: {before} bytes, then {}",
        size()
    );
}

/// An owner and a Marketing stream made with the CLI; the stream's token.
fn stream_token(database: &TestDatabase) -> String {
    let created = cli_stream(database, &["--name", "Load"]);
    created["token"].as_str().unwrap().to_string()
}

/// The operator `ops@example.com` and a Marketing stream of theirs, made with the CLI with
/// `args` (`--name` among them); what it printed.
fn cli_stream(database: &TestDatabase, args: &[&str]) -> Value {
    create_operator(database);
    let common = [
        "stream",
        "create",
        "--email",
        "ops@example.com",
        "--type",
        "sms_marketing",
        "--json",
    ];
    let output = sluice_on(database, &[&common[..], args].concat());
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// Waits until no message is waiting or in flight.
async fn all_settled(db: &Db) {
    for _ in 0..400 {
        let pending: i64 =
            sqlx::query_scalar("select count(*) from messages where status in ('queued', 'sent')")
                .fetch_one(db.pool())
                .await
                .unwrap();
        if pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("messages were still pending");
}

async fn a_killed_server_loses_no_accepted_message_and_sends_none_twice(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let token = stream_token(&database);
    let server = Server::start(&database).await;
    let client = TestApp::new_client();

    // A client keeps sending; the server is killed in the middle of it.
    let sender = {
        let (client, base, token) = (client.clone(), server.base.clone(), token.clone());
        tokio::spawn(async move {
            let mut accepted: Vec<String> = Vec::new();
            for round in 0..1000 {
                let response = client
                    .post(format!("{base}/simple_send/"))
                    .header("authorization", &token)
                    .json(&batch(round))
                    .send()
                    .await;
                let Ok(response) = response else { break };
                let Ok(body) = response.json::<Value>().await else {
                    break;
                };
                for message in body["messages"].as_array().into_iter().flatten() {
                    if let Some(uuid) = message["message_uuid"].as_str() {
                        accepted.push(uuid.to_string());
                    }
                }
            }
            accepted
        })
    };
    tokio::time::sleep(Duration::from_millis(700)).await;
    server.signal("-KILL");
    let accepted = sender.await.unwrap();
    drop(server);
    eprintln!("{} messages accepted before the kill", accepted.len());
    assert!(
        (20..20_000).contains(&accepted.len()),
        "the kill must land while the client sends: {} accepted",
        accepted.len()
    );

    let _restarted = Server::start(&database).await;
    let db = Db::connect(&database.url).await.unwrap();
    all_settled(&db).await;
    for uuid in &accepted {
        let status: Option<String> =
            sqlx::query_scalar("select status from messages where id = $1")
                .bind(uuid)
                .fetch_optional(db.pool())
                .await
                .unwrap();
        assert_eq!(
            status.as_deref(),
            Some("delivered"),
            "accepted message {uuid}"
        );
    }
    // Each message was handed to the channel exactly once, accepted before the kill or not.
    let resent: i64 = sqlx::query_scalar(
        "select count(*) from (select message_id from message_history where status = 'sent'
             group by message_id having count(*) > 1) twice",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    assert_eq!(resent, 0);
    db.close().await;
}

async fn sigterm_drains_and_exits_within_ten_seconds(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let token = stream_token(&database);
    let mut server = Server::start(&database).await;
    server.send_batches(&token, 5).await;

    server.signal("-TERM");
    let took = server.wait(Duration::from_secs(12));
    assert!(took < Duration::from_secs(10), "stopping took {took:?}");
    drop(server);

    let _restarted = Server::start(&database).await;
    let db = Db::connect(&database.url).await.unwrap();
    all_settled(&db).await;
    let delivered: i64 =
        sqlx::query_scalar("select count(*) from messages where status = 'delivered'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(delivered, 100);
    db.close().await;
}

/// One process delivers from a SQLite database (its leases live in memory): a second server
/// started on the same file refuses to start and says why, and the first keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_server_on_the_same_sqlite_database_refuses_to_start() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let token = stream_token(&database);
    let first = Server::start(&database).await;

    let second = sluice_on(&database, &["--addr", "127.0.0.1:0"]);

    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("another Sluice already serves"),
        "stderr: {stderr}"
    );
    first.send_batches(&token, 1).await;
}

async fn a_claimed_message_is_claimed_again_only_after_its_step_or_its_lease(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    stream_token(&database);
    let db = Db::connect(&database.url).await.unwrap();
    let (account_id, stream_id): (String, String) =
        sqlx::query_as("select account_id, id from streams")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let now = now_ms();
    sqlx::query(
        "insert into messages (id, account_id, stream_id, direction, channel, recipient, content,
             encoding, segments, status, attempts, next_at, expires_at, created_at, updated_at)
         values ('m-1', $1, $2, 'outbound', 'demo', '+447700900123', 'Hi', 'gsm7', 1, 'queued',
             0, $3, $4, $3, $3)",
    )
    .bind(&account_id)
    .bind(&stream_id)
    .bind(now)
    .bind(now + 60_000)
    .execute(db.pool())
    .await
    .unwrap();
    let engine = Engine::new(db.clone());
    let claim = |lease_ms| {
        let engine = engine.clone();
        async move {
            let scope = engine::SmppScope::All;
            let (claimed, lease) = engine::claim(&engine, &scope, 10, lease_ms).await.unwrap();
            (claimed.into_iter().map(|m| m.id).collect::<Vec<_>>(), lease)
        }
    };
    let claimed_ids = |lease_ms| {
        let claimed = claim(lease_ms);
        async move { claimed.await.0 }
    };

    assert_eq!(claimed_ids(60_000).await, ["m-1"]);
    assert!(
        claimed_ids(60_000).await.is_empty(),
        "held by the first claim"
    );

    // Its step commits and makes it due again at once: the lease went with the step.
    let sent = Outcome {
        status: MessageStatus::Sent,
        next_at: Some(now_ms()),
        error: None,
        attempted: true,
        provider_id: None,
    };
    assert!(engine::advance(&engine, "m-1", sent).await.unwrap());
    let (ids, first_lease) = claim(1).await;
    assert_eq!(ids, ["m-1"]);

    // A worker that never finishes its step: the lease runs out and another claims it.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let (ids, second_lease) = claim(60_000).await;
    assert_eq!(ids, ["m-1"]);
    assert!(claimed_ids(60_000).await.is_empty());

    // The first worker comes back late: its step changes nothing and frees nothing.
    let delivered = Outcome::report(MessageStatus::Delivered, None);
    let late = [("m-1", delivered.clone())];
    let late = engine::advance_leased(&engine, &late, first_lease).await;
    assert_eq!(late.unwrap().moved, [false]);
    assert!(claimed_ids(60_000).await.is_empty(), "still the second's");
    // The worker holding the lease records its step.
    let held = [("m-1", delivered)];
    let held = engine::advance_leased(&engine, &held, second_lease).await;
    assert_eq!(held.unwrap().moved, [true]);
    db.close().await;
}

async fn a_webhook_attempt_back_after_its_lease_records_nothing(backend: Backend) {
    let database = TestDatabase::new(backend).await;
    let hook = ["--webhook-url", "https://hooks.example.com/in"];
    cli_stream(&database, &[&["--name", "Hooked"][..], &hook].concat());
    let db = Db::connect(&database.url).await.unwrap();
    let (account_id, stream_id): (String, String) =
        sqlx::query_as("select account_id, id from streams where name = 'Hooked'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    let queued = app::webhooks::store::enqueue_test(&db, &account_id.into(), &stream_id.into())
        .await
        .unwrap();
    assert!(queued.is_some());
    let engine = Engine::new(db.clone());
    let first = webhook_store::claim(&engine, 10, 1).await.unwrap();
    assert_eq!(first.len(), 1);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let second = webhook_store::claim(&engine, 10, 60_000).await.unwrap();
    assert_eq!(
        second.len(),
        1,
        "claimed again once the first lease ran out"
    );

    // The first sender comes back late: nothing of its attempt is recorded.
    let delivered = || webhook_store::Next::Delivered;
    let late = webhook_store::finish(
        &engine,
        &first[0].id,
        first[0].lease_until,
        None,
        delivered(),
    );
    assert!(!late.await.unwrap());
    let status: String = sqlx::query_scalar("select status from webhook_deliveries")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(status, "pending");
    // The sender holding the lease records its attempt.
    let held = webhook_store::finish(
        &engine,
        &second[0].id,
        second[0].lease_until,
        None,
        delivered(),
    );
    assert!(held.await.unwrap());
    let status: String = sqlx::query_scalar("select status from webhook_deliveries")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(status, "delivered");
    db.close().await;
}

/// On SIGTERM with a drain period, `/readyz` answers 503 while requests are still served, so
/// that a load balancer stops sending new ones before the server stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_answers_503_while_a_stopping_server_drains() {
    let database = TestDatabase::new(Backend::Sqlite).await;
    let mut server = Server::start_with(&database, &[("SLUICE_HTTP__DRAIN_MS", "3000")]).await;
    let client = TestApp::new_client();
    let status = |path: &str| {
        let request = client.get(format!("{}{path}", server.base)).send();
        async move { request.await.map(|response| response.status()).ok() }
    };
    assert_eq!(status("/readyz").await, Some(reqwest::StatusCode::OK));

    server.signal("-TERM");
    let mut ready = None;
    for _ in 0..40 {
        ready = status("/readyz").await;
        if ready == Some(reqwest::StatusCode::SERVICE_UNAVAILABLE) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(ready, Some(reqwest::StatusCode::SERVICE_UNAVAILABLE));
    // Still serving meanwhile.
    assert_eq!(status("/healthz").await, Some(reqwest::StatusCode::OK));
    let took = server.wait(Duration::from_secs(12));
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(9),
        "stopped after {took:?}"
    );
}
