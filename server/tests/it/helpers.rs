use std::{
    net::{SocketAddr, TcpListener},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use app::db::Db;
use axum::{
    Router,
    body::Bytes,
    extract::{OriginalUri, State},
    http::{HeaderMap, Method},
    response::IntoResponse,
    routing::any,
};
use reqwest::{StatusCode, redirect::Policy};
use serde_json::{Value, json};
use sluice::{Application, Waker, cli::Overrides, config::Config, engine::Engine};
use sqlx::{Connection, Executor, PgConnection};
use tokio::sync::oneshot;

pub const PASSWORD: &str = "correct horse battery";

/// Defines one `#[tokio::test]` per backend for each named `async fn(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::helpers::Backend::Postgres).await
                }
            )*
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A throwaway database: a SQLite file in a temporary folder, or a new Postgres database.
pub struct TestDatabase {
    pub url: String,
    pub data_dir: PathBuf,
    postgres: Option<(String, String)>,
}

/// The Postgres server tests use: `SLUICE_TEST_POSTGRES_URL`, else the local one.
fn postgres_admin_url() -> String {
    std::env::var("SLUICE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        let name = format!("sluice_test_{}", uuid::Uuid::new_v4().simple());
        let data_dir = std::env::temp_dir().join(&name);
        std::fs::create_dir_all(&data_dir).unwrap();
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}", data_dir.join("sluice.db").display()),
                data_dir,
                postgres: None,
            },
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|error| {
                    panic!(
                        "the Postgres tests need a server: set SLUICE_TEST_POSTGRES_URL or run \
                         one on 127.0.0.1:5432 ({error})"
                    )
                });
                conn.execute(format!("create database {name}").as_str())
                    .await
                    .unwrap();
                let mut url = url::Url::parse(&admin).unwrap();
                url.set_path(&name);
                Self {
                    url: url.to_string(),
                    data_dir,
                    postgres: Some((admin, name)),
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
        if let Some((admin, name)) = self.postgres.take() {
            // Dropping needs async I/O; a short-lived runtime on its own thread does it.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async {
                    if let Ok(mut conn) = PgConnection::connect(&admin).await {
                        let sql = format!("drop database if exists {name} with (force)");
                        let _ = conn.execute(sql.as_str()).await;
                    }
                });
            })
            .join();
        }
    }
}

/// A stream a test made: whose it is, its id and its API token.
#[derive(Debug, Clone)]
pub struct TestStream {
    pub account: app::ids::AccountId,
    pub id: app::ids::StreamId,
    pub token: String,
}

/// A running Sluice and an HTTP client that keeps cookies and does not follow redirects.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The metrics listener, when `[metrics] addr` is set.
    pub metrics_addr: Option<SocketAddr>,
    pub client: reqwest::Client,
    pub db: Db,
    pub engine: Engine,
    waker: Waker,
    database: Option<TestDatabase>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_on(TestDatabase::new(backend).await).await
    }

    pub async fn spawn_on(database: TestDatabase) -> Self {
        Self::spawn_configured(database, |_| {}).await
    }

    /// Starts a server whose configuration `configure` adjusts. Tests deliver quickly: the
    /// demo channel reports after 50 ms and never fails unless told to.
    pub async fn spawn_configured(
        database: TestDatabase,
        configure: impl FnOnce(&mut Config),
    ) -> Self {
        let overrides = Overrides {
            addr: Some("127.0.0.1:0".parse().unwrap()),
            database_url: Some(database.url.clone()),
            data_dir: Some(database.data_dir.clone()),
            ..Overrides::default()
        };
        let mut config = Config::load(&overrides).unwrap();
        config.delivery.demo_delay_ms = 50;
        config.delivery.demo_failure_ratio = 0.0;
        config.delivery.demo_reply_ratio = 0.0;
        config.delivery.poll_ms = 20;
        // Plain HTTP: the client keeps a cookie that is not Secure.
        config.http.secure_cookie = false;
        // Suites drive one token and one address hard; the limits' own tests set them.
        config.limits.api_per_second = 1_000_000;
        config.limits.api_burst = 1_000_000;
        config.limits.sign_ups_per_hour = 1_000;
        config.limits.unknown_tokens_per_minute = 1_000_000;
        configure(&mut config);
        let app = Application::build(config).await.unwrap();
        let addr = app.addr();
        let metrics_addr = app.metrics_addr();
        let db = app.db().clone();
        let engine = app.engine().clone();
        let waker = app.waker();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Self {
            addr,
            metrics_addr,
            client: Self::new_client(),
            db,
            engine,
            waker,
            database: Some(database),
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// Another instance on this one's database and data folder (the same secret key), as an
    /// operator runs several behind one address; `configure` adjusts its configuration.
    pub async fn spawn_beside(&self, configure: impl FnOnce(&mut Config)) -> Self {
        let database = self
            .database
            .as_ref()
            .expect("the first instance owns the database");
        let mut twin = Self::spawn_configured(
            TestDatabase {
                url: database.url.clone(),
                data_dir: database.data_dir.clone(),
                postgres: None,
            },
            configure,
        )
        .await;
        // The first instance drops the database; this one must leave its folder alone.
        std::mem::forget(twin.database.take());
        twin
    }

    /// A fresh browser-like client: its own cookie jar, no redirects followed.
    pub fn new_client() -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap()
    }

    /// The server's data folder (its secret key lives there).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.database.as_ref().unwrap().data_dir
    }

    /// A stream of `account`, made as the console makes it (not a draft).
    pub async fn create_stream(
        &self,
        account: &app::ids::AccountId,
        kind: app::streams::StreamKind,
        input: &app::streams::StreamInput,
    ) -> TestStream {
        let (stream, token) =
            app::streams::store::create(&self.db, &self.secret_key(), account, kind, input, false)
                .await
                .unwrap();
        TestStream {
            account: account.clone(),
            id: stream.id,
            token,
        }
    }

    /// The server's own key, so that what tests seal the server opens.
    pub fn secret_key(&self) -> app::crypto::SecretKey {
        let hex = std::fs::read_to_string(self.data_dir().join("secret.key")).unwrap();
        app::crypto::SecretKey::from_hex(&hex).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.unwrap()
    }

    pub async fn post_form(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Calls a server function without arguments the way the console does, answering its
    /// status and JSON.
    pub async fn server_fn(&self, path: &str) -> (StatusCode, serde_json::Value) {
        let request = self
            .client
            .post(self.url(path))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("");
        Self::answer(request).await
    }

    /// Calls a server function that takes JSON arguments.
    pub async fn server_fn_json(
        &self,
        path: &str,
        arguments: &serde_json::Value,
    ) -> (StatusCode, serde_json::Value) {
        Self::answer(self.client.post(self.url(path)).json(arguments)).await
    }

    async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, serde_json::Value) {
        let response = request.send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    /// Drives the delivery workers and the webhook sender until nothing is due within the next
    /// two seconds: no message waits to be sent or for its report, no webhook delivery to go
    /// out. Work scheduled further ahead (a provider's report hours away, a late retry) stays.
    pub async fn settle(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            self.waker.wake();
            let due: i64 = sqlx::query_scalar(
                "select (select count(*) from messages
                         where status in ('queued', 'sent') and next_at <= $1)
                      + (select count(*) from webhook_deliveries
                         where status = 'pending' and next_at <= $1)",
            )
            .bind(app::db::now_ms() + 2_000)
            .fetch_one(self.db.pool())
            .await
            .unwrap();
            if due == 0 {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{due} messages or webhook deliveries still due after 20 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }

    /// The message `internal_id` as the stream's `/status/` shows it.
    pub async fn tracked(&self, token: &str, internal_id: &str) -> serde_json::Value {
        let response = self
            .client
            .get(self.url(&format!("/status?internal_ids={internal_id}")))
            .header("authorization", token)
            .send()
            .await
            .unwrap();
        response.json::<serde_json::Value>().await.unwrap()["messages"][0].clone()
    }

    /// Polls `/status/` until the message has `status`, for at most ten seconds; answers it.
    pub async fn status_becomes(
        &self,
        token: &str,
        internal_id: &str,
        status: &str,
    ) -> serde_json::Value {
        let mut last = serde_json::Value::Null;
        for _ in 0..200 {
            last = self.tracked(token, internal_id).await;
            if last["status"] == status {
                return last;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{internal_id} did not become {status}: {last}");
    }

    /// Sends SMS (internal id, text) to +447700900123 with `/simple_send/`.
    pub async fn send_sms(
        &self,
        token: &str,
        messages: &[(&str, &str)],
    ) -> (StatusCode, serde_json::Value) {
        let messages: Vec<serde_json::Value> = messages
            .iter()
            .map(|(id, text)| serde_json::json!({ "internal_id": id, "recipient_phone": "+447700900123", "message_content": text }))
            .collect();
        let request = self
            .client
            .post(self.url("/simple_send/"))
            .header("authorization", token)
            .json(&serde_json::json!({ "messages": messages }));
        Self::answer(request).await
    }

    pub async fn sign_up(&self, email: &str) -> reqwest::Response {
        self.post_form(
            "/auth/sign-up",
            &[
                ("account_name", ""),
                ("email", email),
                ("password", PASSWORD),
            ],
        )
        .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.post_form("/auth/sign-in", &[("email", email), ("password", password)])
            .await
    }

    /// Stops serving at once, as a crash would: its tasks end mid-step, and the database
    /// closes the connections they held. The database itself stays.
    pub async fn crash(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    /// Stops the server gracefully, waits for it, then starts a new one on the same data.
    pub async fn restart(self) -> Self {
        self.restart_configured(|_| {}).await
    }

    /// Restarts as [`TestApp::restart`] does, with a configuration `configure` adjusts.
    pub async fn restart_configured(mut self, configure: impl FnOnce(&mut Config)) -> Self {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
        let database = self.database.take().unwrap();
        Self::spawn_configured(database, configure).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
    }
}

/// Runs the `sluice` binary with `args`, as an operator would.
pub fn sluice(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
        .args(args)
        .env_remove("SLUICE_DATABASE_URL")
        .output()
        .unwrap()
}

/// Runs `sluice` with `args` on `database`.
pub fn sluice_on(database: &TestDatabase, args: &[&str]) -> std::process::Output {
    let data_dir = database.data_dir.display().to_string();
    let common = [
        "--database-url",
        database.url.as_str(),
        "--data-dir",
        data_dir.as_str(),
    ];
    sluice(&[args, &common[..]].concat())
}

/// Creates the operator `ops@example.com` on `database` with the CLI.
pub fn create_operator(database: &TestDatabase) {
    let output = sluice_on(
        database,
        &[
            "user",
            "create",
            "--email",
            "ops@example.com",
            "--password",
            PASSWORD,
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The `Location` header of a redirect.
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// The `Set-Cookie` headers of a response.
pub fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_string))
        .collect()
}

/// The statuses of a `/status/` message's history, oldest first.
pub fn history_steps(message: &serde_json::Value) -> Vec<&str> {
    message["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|step| step["status"].as_str().unwrap())
        .collect()
}

/// The `sluice` binary serving `database` on a free port.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Sends `rounds` batches of 20 messages, each accepted.
    pub async fn send_batches(&self, token: &str, rounds: usize) {
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

    pub async fn start(database: &TestDatabase) -> Self {
        Self::start_with(database, &[]).await
    }

    /// Starts it with settings `env` adds (`SLUICE_…` variables) to the tests' own.
    pub async fn start_with(database: &TestDatabase, env: &[(&str, &str)]) -> Self {
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
            .envs(env.iter().copied())
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

    pub fn pid(&self) -> String {
        self.child.id().to_string()
    }

    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.pid()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to end, answering how long it took.
    pub fn wait(&mut self, limit: Duration) -> Duration {
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

/// Round `round` of 20 messages to distinct numbers, internal ids `r{round}-m{n}`.
pub fn batch(round: usize) -> Value {
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

/// One request a peer received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Seen {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A peer's answer: status, JSON body, and how long it waits first.
pub type Reply = (u16, Value, u64);
type Respond = Arc<dyn Fn(&Seen, usize) -> Reply + Send + Sync>;

/// An HTTP server on port 0 that records every request and answers with `respond(request, n)`,
/// `n` counting requests from 0.
pub async fn peer(
    respond: impl Fn(&Seen, usize) -> Reply + Send + Sync + 'static,
) -> (SocketAddr, Arc<Mutex<Vec<Seen>>>) {
    #[derive(Clone)]
    struct Peer {
        seen: Arc<Mutex<Vec<Seen>>>,
        respond: Respond,
    }
    async fn handle(
        State(peer): State<Peer>,
        method: Method,
        OriginalUri(uri): OriginalUri,
        headers: HeaderMap,
        body: Bytes,
    ) -> impl IntoResponse {
        let seen = Seen {
            method: method.to_string(),
            uri: uri.to_string(),
            headers,
            body,
        };
        let n = {
            let mut all = peer.seen.lock().unwrap();
            all.push(seen.clone());
            all.len() - 1
        };
        let (status, body, delay) = (peer.respond)(&seen, n);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        (
            StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json")],
            body.to_string(),
        )
    }
    let seen = Arc::new(Mutex::new(Vec::new()));
    let state = Peer {
        seen: seen.clone(),
        respond: Arc::new(respond),
    };
    let router = Router::new().fallback(any(handle)).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, seen)
}

/// The next SSE event of `events`: its name and data.
pub async fn next_event(
    events: &mut reqwest::Response,
    buffer: &mut String,
) -> Option<(String, String)> {
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let mut name = String::new();
            let mut data = String::new();
            for line in block.lines() {
                if let Some(value) = line.strip_prefix("event:") {
                    name = value.trim().to_string();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push_str(value.trim());
                }
            }
            if name.is_empty() {
                continue; // a keep-alive comment
            }
            return Some((name, data));
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), events.chunk())
            .await
            .expect("the feed went quiet")
            .ok()??;
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

/// One sample of a scrape, as the Prometheus client's OpenMetrics parser read it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Sample {
    /// The metric family's name and type (`counter`, `gauge`, `histogram`).
    pub family: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The sample's own name (`…_total`, `…_bucket`, `…_count`).
    pub name: String,
    pub labels: std::collections::HashMap<String, String>,
    pub value: f64,
}

/// Parses `/metrics` text with the official Prometheus client's strict OpenMetrics parser
/// (`prometheus-client` in `.venv`, which `.ci/tools.sh --test` installs).
pub fn parse_metrics(text: &str) -> Vec<Sample> {
    use std::io::Write;
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python");
    let script = "import sys, json\n\
        from prometheus_client.openmetrics.parser import text_string_to_metric_families\n\
        print(json.dumps([{'family': f.name, 'type': f.type, 'name': s.name, \
        'labels': s.labels, 'value': s.value} \
        for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]))";
    let mut parser = Command::new(python)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the metrics tests need `.ci/tools.sh --test` (the Prometheus client in .venv)");
    parser
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = parser.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "not valid OpenMetrics: {}\n{text}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// The sum of the samples named `name` whose labels include `labels`.
pub fn metric(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> f64 {
    samples
        .iter()
        .filter(|sample| sample.name == name)
        .filter(|sample| {
            labels
                .iter()
                .all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(*value))
        })
        .map(|sample| sample.value)
        .sum()
}

impl TestApp {
    /// Scrapes `/metrics` with `token` and parses it.
    pub async fn scrape(&self, token: &str) -> Vec<Sample> {
        let response = self
            .client
            .get(self.url("/metrics"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        parse_metrics(&response.text().await.unwrap())
    }
}

/// Gives `account` an HTTP connection to the SMS provider at `provider` (its default when it
/// is the first).
pub async fn provider_connection(
    db: &Db,
    key: &app::crypto::SecretKey,
    account: &app::ids::AccountId,
    provider: SocketAddr,
) -> app::connections::Connection {
    use app::connections::{ConnectionInput, ConnectionSettings, HttpSettings, store};
    let connection = ConnectionInput {
        name: "Provider".into(),
        settings: ConnectionSettings::Http(Box::new(HttpSettings {
            url: format!("http://{provider}/v1/sms"),
            ..HttpSettings::default()
        })),
        secret: Some("Bearer sk-live-1".into()),
        is_default: false,
    };
    store::save(db, key, account, None, connection)
        .await
        .unwrap()
}
