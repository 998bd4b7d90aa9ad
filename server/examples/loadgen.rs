//! Load generator for `make bench`: sends requests from many concurrent clients for a fixed
//! time and prints throughput and latency percentiles as one JSON line. `hello` serves the
//! plain axum endpoint the results are compared with.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve `GET /hello` with plain axum: the baseline.
    Hello {
        #[arg(long)]
        addr: SocketAddr,
    },
    /// Load an endpoint and report.
    Run {
        /// `hello`, `single` (one message per request) or `batch`.
        #[arg(long)]
        mode: String,
        #[arg(long)]
        url: String,
        #[arg(long, default_value = "")]
        token: String,
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        #[arg(long, default_value_t = 1000)]
        batch: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Requests per second across all clients; 0 sends each as soon as the last answered.
        #[arg(long, default_value_t = 0)]
        rate: u32,
    },
}

#[tokio::main]
async fn main() {
    match Cli::parse().command {
        Command::Hello { addr } => {
            let app = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
            let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
            axum::serve(listener, app).await.unwrap();
        }
        Command::Run {
            mode,
            url,
            token,
            concurrency,
            batch,
            seconds,
            rate,
        } => {
            let report = run(
                &mode,
                &url,
                &token,
                concurrency,
                batch,
                Duration::from_secs(seconds),
                rate,
            )
            .await;
            println!("{report}");
        }
    }
}

fn body(mode: &str, client: usize, sequence: u64, batch: usize) -> Option<Value> {
    let message = |n: usize| {
        json!({
            // Unique per load generator too: several may load instances of one stream.
            "internal_id": format!("p{}-c{client}-s{sequence}-m{n}", std::process::id()),
            "sender": "Bench",
            "recipient_phone": format!("+4477009{:05}", 100 + (sequence as usize * 31 + n) % 99_900),
            "message_content": "Your order has shipped and will arrive tomorrow.",
        })
    };
    match mode {
        "single" => Some(json!({ "messages": [message(0)] })),
        "batch" => Some(json!({ "messages": (0..batch).map(message).collect::<Vec<_>>() })),
        _ => None,
    }
}

async fn run(
    mode: &str,
    url: &str,
    token: &str,
    concurrency: usize,
    batch: usize,
    duration: Duration,
    rate: u32,
) -> Value {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let per_request = if mode == "batch" { batch } else { 1 };
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let url = Arc::new(url.to_string());
    let token = Arc::new(token.to_string());
    let mut tasks = Vec::new();
    for client in 0..concurrency {
        let (http, url, token, mode) = (http.clone(), url.clone(), token.clone(), mode.to_string());
        // Paced, each client sends one request per `concurrency / rate` seconds.
        let mut pace = (rate > 0).then(|| {
            let mut ticks = tokio::time::interval(Duration::from_secs_f64(
                concurrency as f64 / f64::from(rate),
            ));
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            ticks
        });
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0u64;
            let mut sequence = 0u64;
            while Instant::now() < deadline {
                if let Some(ticks) = pace.as_mut() {
                    ticks.tick().await;
                }
                let request = match body(&mode, client, sequence, batch) {
                    Some(body) => http
                        .post(url.as_str())
                        .header("authorization", token.as_str())
                        .json(&body),
                    None => http.get(url.as_str()),
                };
                sequence += 1;
                let sent = Instant::now();
                match request.send().await {
                    Ok(response) if response.status().is_success() => {
                        let _ = response.bytes().await;
                        latencies.push(sent.elapsed());
                    }
                    _ => failures += 1,
                }
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for task in tasks {
        let (mut l, f) = task.await.unwrap();
        latencies.append(&mut l);
        failures += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    json!({
        "mode": mode,
        "requests": latencies.len(),
        "failures": failures,
        "requests_per_s": latencies.len() as f64 / elapsed,
        "messages_per_s": (latencies.len() * per_request) as f64 / elapsed,
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
    })
}
