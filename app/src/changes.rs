//! What changed in the database, told to every process that serves it: on Postgres through
//! `LISTEN`/`NOTIFY` (several instances on one database), within the one process of a SQLite
//! database through a channel. Caches let go of what a change touches (streams by token), and
//! live feeds look again when something they show moved instead of polling.

use std::{
    collections::{HashMap, HashSet},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::{AnyPool, postgres::PgListener};
use tokio::sync::{Notify, broadcast, oneshot};

use crate::{
    ids::{AccountId, StreamId},
    streams::store::TokenCache,
};

/// The Postgres channel every instance listens on.
const CHANNEL: &str = "sluice_changes";
/// Changes a subscriber may fall behind by before it is told it missed some.
const BACKLOG: usize = 1_024;
/// Traffic is told at most this often: a busy stream is one notice per period, not one per
/// message.
const TRAFFIC_EVERY: Duration = Duration::from_millis(100);
/// How long a configuration change waits to hear itself back from Postgres (and so know
/// that every listening instance heard it too) before its caller is answered anyway.
const ECHO_WAIT: Duration = Duration::from_secs(2);
/// A `NOTIFY` payload's limit is 8000 bytes; traffic notices are cut well below it.
const PAYLOAD_BYTES: usize = 7_000;
/// Between attempts to listen again after the connection was lost.
const RECONNECT_EVERY: Duration = Duration::from_secs(1);

/// One change, as subscribers hear it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Something an account configured changed: a stream's settings, status, token, allow-list
    /// or sender, a connection, an embed key.
    Config(AccountId),
    /// Messages of these streams moved: accepted, sent, reported, received.
    Traffic(Vec<StreamId>),
    /// Changes may have gone unheard (the connection that listens was lost, or a subscriber
    /// fell behind): anything may have changed.
    Unknown,
}

impl Change {
    /// Whether a view of `account`'s configuration, or of the traffic of a stream
    /// `shows_stream` accepts, must look again.
    pub fn concerns(&self, account: &AccountId, shows_stream: impl Fn(&StreamId) -> bool) -> bool {
        match self {
            Self::Config(changed) => changed == account,
            Self::Traffic(streams) => streams.iter().any(shows_stream),
            Self::Unknown => true,
        }
    }
}

/// The handle [`Db`](crate::db::Db) keeps: publishes changes, hands out subscriptions, and owns
/// the caches changes clear. Its tasks end when it is dropped or closed.
#[derive(Debug)]
pub struct Changes {
    inner: Arc<Inner>,
    /// Dropping these ends the tasks.
    stops: Mutex<Vec<oneshot::Sender<()>>>,
}

#[derive(Debug)]
struct Inner {
    subscribers: broadcast::Sender<Change>,
    tokens: TokenCache,
    /// Postgres: the pool notices are sent through. `None` on SQLite (one process).
    notify: Option<AnyPool>,
    /// Whether every change is being heard right now (Postgres: the listening connection is
    /// up). Caches are bypassed while it is not.
    hearing: AtomicBool,
    /// Streams whose traffic is waiting to be told.
    traffic: Mutex<HashSet<StreamId>>,
    traffic_waiting: Notify,
    /// Configuration changes of this process waiting to hear themselves back, by nonce.
    echoes: Mutex<HashMap<u64, oneshot::Sender<()>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Changes {
    /// Changes within this process only: a SQLite database.
    pub(crate) fn local() -> Self {
        Self::start(None, None)
    }

    /// Changes heard by every instance on the Postgres database at `url`, sent through
    /// `pool`. Fails when the listening connection cannot be made.
    pub(crate) async fn postgres(url: &str, pool: AnyPool) -> Result<Self, sqlx::Error> {
        let listener = listen(url).await?;
        Ok(Self::start(Some(pool), Some((url.to_string(), listener))))
    }

    fn start(notify: Option<AnyPool>, listener: Option<(String, PgListener)>) -> Self {
        let inner = Arc::new(Inner {
            subscribers: broadcast::channel(BACKLOG).0,
            tokens: TokenCache::default(),
            notify,
            hearing: AtomicBool::new(true),
            traffic: Mutex::default(),
            traffic_waiting: Notify::new(),
            echoes: Mutex::default(),
        });
        let mut stops = Vec::new();
        let (stop, stopped) = oneshot::channel();
        stops.push(stop);
        tokio::spawn(tell_traffic(inner.clone(), stopped));
        if let Some((url, listener)) = listener {
            let (stop, stopped) = oneshot::channel();
            stops.push(stop);
            tokio::spawn(hear(url, listener, inner.clone(), stopped));
        }
        Self {
            inner,
            stops: Mutex::new(stops),
        }
    }

    /// Ends the tasks that tell and hear changes.
    pub(crate) fn close(&self) {
        lock(&self.stops).clear();
    }

    /// Every change from now on, as this process hears it. A subscriber that falls more than
    /// [`BACKLOG`] behind gets `Lagged` and should take it as [`Change::Unknown`].
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.inner.subscribers.subscribe()
    }

    /// The streams-by-token cache, while every change is heard (otherwise none is used).
    pub(crate) fn tokens(&self) -> Option<&TokenCache> {
        self.inner
            .hearing
            .load(Ordering::Acquire)
            .then_some(&self.inner.tokens)
    }

    /// Tells every instance that `account`'s configuration changed, once it is committed.
    /// This process's caches let go at once; on Postgres the call returns when the notice has
    /// come back from the database, by which time every listening instance has it too.
    pub async fn config(&self, account: &AccountId) {
        self.inner.tokens.clear();
        let Some(pool) = &self.inner.notify else {
            self.inner.tell(Change::Config(account.clone()));
            return;
        };
        let nonce: u64 = rand::random();
        let (heard, echo) = oneshot::channel();
        lock(&self.inner.echoes).insert(nonce, heard);
        let sent = sqlx::query("select pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(format!("c {nonce} {account}"))
            .execute(pool)
            .await;
        match sent {
            Ok(_) => {
                if tokio::time::timeout(ECHO_WAIT, echo).await.is_err() {
                    tracing::warn!("a configuration change was not heard back in time");
                }
            }
            Err(error) => tracing::warn!(%error, "telling other instances of a change failed"),
        }
        lock(&self.inner.echoes).remove(&nonce);
    }

    /// Notes that messages of `streams` moved; they are told within [`TRAFFIC_EVERY`], many
    /// moves of a stream as one.
    pub fn traffic<'a>(&self, streams: impl IntoIterator<Item = &'a StreamId>) {
        let mut waiting = lock(&self.inner.traffic);
        let before = waiting.len();
        for stream in streams {
            if !waiting.contains(stream) {
                waiting.insert(stream.clone());
            }
        }
        if waiting.len() > before {
            self.inner.traffic_waiting.notify_one();
        }
    }
}

impl Inner {
    /// Hands a change to this process's subscribers.
    fn tell(&self, change: Change) {
        if matches!(change, Change::Config(_) | Change::Unknown) {
            self.tokens.clear();
        }
        // No subscriber is not an error: nothing is watching.
        let _ = self.subscribers.send(change);
    }

    /// A notice from Postgres: `c <nonce> <account>` or `t <stream> <stream>…`.
    fn heard(&self, payload: &str) {
        let mut words = payload.split(' ');
        match words.next() {
            Some("c") => {
                let nonce = words.next().and_then(|n| n.parse::<u64>().ok());
                let Some(account) = words.next() else { return };
                self.tell(Change::Config(AccountId::from(account)));
                if let Some(heard) = nonce.and_then(|n| lock(&self.echoes).remove(&n)) {
                    let _ = heard.send(());
                }
            }
            Some("t") => self.tell(Change::Traffic(words.map(StreamId::from).collect())),
            _ => tracing::warn!(payload, "an unknown change notice"),
        }
    }
}

/// Connects a listener on [`CHANNEL`].
async fn listen(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Hears Postgres's notices until stopped, listening again whenever the connection is lost;
/// what was missed meanwhile is told as [`Change::Unknown`], and caches stay unused until the
/// connection is back.
async fn hear(
    url: String,
    mut listener: PgListener,
    inner: Arc<Inner>,
    mut stop: oneshot::Receiver<()>,
) {
    loop {
        let received = tokio::select! {
            _ = &mut stop => return,
            received = listener.try_recv() => received,
        };
        match received {
            Ok(Some(notice)) => {
                inner.heard(notice.payload());
                continue;
            }
            Ok(None) => tracing::warn!("the connection that hears changes was lost"),
            Err(error) => tracing::warn!(%error, "hearing changes failed"),
        }
        inner.hearing.store(false, Ordering::Release);
        inner.tell(Change::Unknown);
        listener = loop {
            tokio::select! {
                _ = &mut stop => return,
                () = tokio::time::sleep(RECONNECT_EVERY) => {}
            }
            match listen(&url).await {
                Ok(listener) => break listener,
                Err(error) => tracing::warn!(%error, "listening for changes again failed"),
            }
        };
        inner.hearing.store(true, Ordering::Release);
        inner.tell(Change::Unknown);
    }
}

/// Tells the streams whose traffic is waiting, at once and then at most every
/// [`TRAFFIC_EVERY`], until stopped.
async fn tell_traffic(inner: Arc<Inner>, mut stop: oneshot::Receiver<()>) {
    loop {
        let notified = inner.traffic_waiting.notified();
        let waiting = std::mem::take(&mut *lock(&inner.traffic));
        if waiting.is_empty() {
            tokio::select! {
                _ = &mut stop => return,
                () = notified => {}
            }
            continue;
        }
        let streams: Vec<StreamId> = waiting.into_iter().collect();
        match &inner.notify {
            None => inner.tell(Change::Traffic(streams)),
            Some(pool) => {
                for payload in traffic_payloads(&streams) {
                    let sent = sqlx::query("select pg_notify($1, $2)")
                        .bind(CHANNEL)
                        .bind(payload)
                        .execute(pool)
                        .await;
                    if let Err(error) = sent {
                        tracing::warn!(%error, "telling other instances of traffic failed");
                    }
                }
            }
        }
        tokio::select! {
            _ = &mut stop => return,
            () = tokio::time::sleep(TRAFFIC_EVERY) => {}
        }
    }
}

/// `t <stream> <stream>…` notices, each under [`PAYLOAD_BYTES`].
fn traffic_payloads(streams: &[StreamId]) -> Vec<String> {
    let mut payloads = Vec::new();
    let mut payload = String::from("t");
    for stream in streams {
        if payload.len() + 1 + stream.len() > PAYLOAD_BYTES {
            payloads.push(std::mem::replace(&mut payload, String::from("t")));
        }
        payload.push(' ');
        payload.push_str(stream);
    }
    if payload.len() > 1 {
        payloads.push(payload);
    }
    payloads
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traffic_notices_stay_under_postgres_payload_limit() {
        let streams: Vec<StreamId> = (0..1_000).map(|_| StreamId::generate()).collect();
        let payloads = traffic_payloads(&streams);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() <= PAYLOAD_BYTES));
        let told: Vec<&str> = payloads
            .iter()
            .flat_map(|p| p.strip_prefix("t ").unwrap().split(' '))
            .collect();
        assert_eq!(told.len(), streams.len());
        assert!(traffic_payloads(&[]).is_empty());
    }

    #[test]
    fn a_change_concerns_the_views_that_show_what_it_touched() {
        let ann = AccountId::from("acc_ann");
        let shows = |stream: &StreamId| stream == "str_1";
        assert!(Change::Config(ann.clone()).concerns(&ann, shows));
        assert!(!Change::Config(AccountId::from("acc_bob")).concerns(&ann, shows));
        assert!(Change::Traffic(vec!["str_2".into(), "str_1".into()]).concerns(&ann, shows));
        assert!(!Change::Traffic(vec!["str_2".into()]).concerns(&ann, shows));
        assert!(Change::Unknown.concerns(&ann, shows));
    }

    #[tokio::test]
    async fn within_one_process_changes_reach_every_subscriber() {
        let changes = Changes::local();
        let mut first = changes.subscribe();
        let mut second = changes.subscribe();
        let ann = AccountId::from("acc_ann");
        changes.config(&ann).await;
        assert_eq!(first.recv().await.unwrap(), Change::Config(ann.clone()));
        assert_eq!(second.recv().await.unwrap(), Change::Config(ann));
        // Many moves of a stream are told as one.
        let stream = StreamId::from("str_1");
        for _ in 0..100 {
            changes.traffic([&stream]);
        }
        let told = first.recv().await.unwrap();
        assert_eq!(told, Change::Traffic(vec![stream.clone()]));
        let next = tokio::time::timeout(Duration::from_millis(300), first.recv()).await;
        assert!(next.is_err(), "told twice: {next:?}");
    }
}
