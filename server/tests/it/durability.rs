//! Durability of the real binary: a `kill -9` loses no accepted message and delivers none
//! twice; SIGTERM drains in-flight work and exits promptly.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use app::{
    db::{Db, now_ms},
    messages::MessageStatus,
};
use serde_json::{Value, json};
use sluice::engine::{self, Engine, Outcome};

use crate::{
    helpers::{Backend, TestApp, TestDatabase, create_operator, sluice_on},
    on_both_backends,
};

on_both_backends!(
    a_killed_server_loses_no_accepted_message_and_sends_none_twice,
    sigterm_drains_and_exits_within_ten_seconds,
    a_claimed_message_is_claimed_again_only_after_its_step_or_its_lease,
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

/// The `sluice` binary serving `database` on a free port.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    /// Sends `rounds` batches of 20 messages, each accepted.
    async fn send_batches(&self, token: &str, rounds: usize) {
        let client = TestApp::new_client();
        for round in 0..rounds {
            let response = client
                .post(format!("{}/simple_send/", self.base))
                .header("authorization", token)
                .json(&batch(round))
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success());
        }
    }

    async fn start(database: &TestDatabase) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(env!("CARGO_BIN_EXE_sluice"))
            .args([
                "--addr",
                &format!("127.0.0.1:{port}"),
                "--database-url",
                &database.url,
                "--data-dir",
                &database.data_dir.display().to_string(),
                "--log-level",
                "warn",
            ])
            .env("SLUICE_DELIVERY__DEMO_DELAY_MS", "20")
            .env("SLUICE_DELIVERY__DEMO_FAILURE_RATIO", "0")
            .env("SLUICE_DELIVERY__LEASE_MS", "1000")
            .env("SLUICE_DELIVERY__POLL_MS", "20")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let server = Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = TestApp::new_client();
        for _ in 0..200 {
            if client
                .get(format!("{}/healthz", server.base))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("sluice did not start");
    }

    fn pid(&self) -> String {
        self.child.id().to_string()
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end, answering how long it took.
    fn wait(&mut self, limit: Duration) -> Duration {
        let started = Instant::now();
        while started.elapsed() < limit {
            if self.child.try_wait().unwrap().is_some() {
                return started.elapsed();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("sluice still running after {limit:?}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An owner and a Marketing stream made with the CLI; the stream's token.
fn stream_token(database: &TestDatabase) -> String {
    let run = |args: &[&str]| {
        let output = sluice_on(database, args);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        output.stdout
    };
    create_operator(database);
    let created = run(&[
        "stream",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "Load",
        "--type",
        "sms_marketing",
        "--json",
    ]);
    let created: Value = serde_json::from_slice(&created).unwrap();
    created["token"].as_str().unwrap().to_string()
}

fn batch(round: usize) -> Value {
    let messages: Vec<Value> = (0..20)
        .map(|n| {
            json!({
                "internal_id": format!("r{round}-m{n}"),
                "sender": "Acme",
                "recipient_phone": format!("+4477009{:05}", round * 20 + n + 100),
                "message_content": format!("Message {n} of round {round}"),
            })
        })
        .collect();
    json!({ "messages": messages })
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
    let claimed_ids = |lease_ms| {
        let engine = engine.clone();
        async move {
            let claimed = engine::claim(&engine, 10, lease_ms).await.unwrap();
            claimed.into_iter().map(|m| m.id).collect::<Vec<_>>()
        }
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
    assert_eq!(claimed_ids(1).await, ["m-1"]);

    // A worker that never finishes its step: the lease runs out and another claims it.
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(claimed_ids(60_000).await, ["m-1"]);
    assert!(claimed_ids(60_000).await.is_empty());
    db.close().await;
}
