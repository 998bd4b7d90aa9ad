//! Live views shared by everyone watching them: one task per subject (an account's Realtime
//! page, an embed key's widgets) reads the subject's snapshot when a change concerns it
//! ([`app::changes`]: on any instance), or when time alone changes what it shows (a sliding
//! window, a key's expiry), at most once a second, and hands it to every open feed. A subject
//! nothing happens to costs no reads however many feeds are open.

use std::{
    collections::HashMap,
    future::Future,
    hash::Hash,
    sync::{Arc, Mutex},
    time::Duration,
};

use app::{
    db::{Db, now_ms},
    ids::{AccountId, StreamId},
};
use axum::response::sse::Event;
use tokio::sync::{broadcast::error::RecvError, watch};

use crate::{lock, metrics::Metrics};

/// The shortest time between two reads of one subject.
pub const EVERY: Duration = Duration::from_secs(1);

/// One read of a subject, as its feeds send it.
#[derive(Debug)]
pub struct Frame {
    /// The Server-Sent Event's name and data.
    pub event: &'static str,
    pub data: String,
    /// The streams whose traffic it shows.
    pub streams: Vec<StreamId>,
    /// When time alone changes what it shows, if ever.
    pub stale_at: Option<i64>,
    /// Whether the feeds end after it (a widget's key closed).
    pub last: bool,
}

impl Frame {
    /// A frame that says a read failed; another is tried a second later.
    pub fn failed(what: &'static str) -> Self {
        Self {
            event: "error",
            data: what.to_string(),
            streams: Vec::new(),
            stale_at: Some(now_ms() + 1_000),
            last: false,
        }
    }

    /// The frame as a Server-Sent Event.
    pub fn event(&self) -> Event {
        Event::default().event(self.event).data(&self.data)
    }
}

/// What a live view shows.
pub trait Subject: Clone + Eq + Hash + Send + Sync + 'static {
    /// The feed's name in the metrics.
    const FEED: &'static str;

    /// The account whose configuration changes concern it.
    fn account(&self) -> &AccountId;

    /// Reads it now.
    fn read(&self, db: &Db) -> impl Future<Output = Frame> + Send;
}

/// The open views of one kind of subject, shared by this process's feeds.
#[derive(Debug)]
pub struct Live<S> {
    db: Db,
    metrics: Metrics,
    views: Arc<Mutex<HashMap<S, View>>>,
}

/// A subject's view: its latest frame, none before the first read.
type View = watch::Sender<Option<Arc<Frame>>>;

impl<S> Clone for Live<S> {
    fn clone(&self) -> Self {
        Self {
            db: self.db.clone(),
            metrics: self.metrics.clone(),
            views: self.views.clone(),
        }
    }
}

impl<S: Subject> Live<S> {
    /// The views of `db`; each read counts in `metrics`.
    pub fn new(db: Db, metrics: Metrics) -> Self {
        Self {
            db,
            metrics,
            views: Arc::default(),
        }
    }

    /// A feed of `subject`: its current frame first, then each new one.
    pub fn watch(&self, subject: S) -> Feed {
        let mut views = lock(&self.views);
        if let Some(view) = views.get(&subject) {
            let mut frames = view.subscribe();
            frames.mark_changed();
            return Feed { frames };
        }
        let (view, frames) = watch::channel(None);
        views.insert(subject.clone(), view.clone());
        tokio::spawn(self.clone().follow(subject, view));
        Feed { frames }
    }

    /// Reads `subject` whenever it may have changed, while anyone watches it.
    async fn follow(self, subject: S, view: View) {
        // Subscribed before the first read: nothing that happens after it goes unheard.
        let mut changes = self.db.changes().subscribe();
        loop {
            let frame = Arc::new(subject.read(&self.db).await);
            self.metrics.live_read(S::FEED);
            let read_at = tokio::time::Instant::now();
            view.send_replace(Some(frame.clone()));
            if frame.last {
                lock(&self.views).remove(&subject);
                return;
            }
            // Waits for a change that concerns what was shown, or for the frame to go stale.
            let stale = async {
                match frame.stale_at {
                    Some(at) => {
                        let wait = u64::try_from(at - now_ms()).unwrap_or(0);
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::pin!(stale);
            loop {
                tokio::select! {
                    () = view.closed() => {
                        let mut views = lock(&self.views);
                        if view.receiver_count() == 0 {
                            views.remove(&subject);
                            return;
                        }
                    }
                    () = &mut stale => break,
                    change = changes.recv() => match change {
                        Ok(change) => {
                            if change.concerns(subject.account(), |s| frame.streams.contains(s)) {
                                break;
                            }
                        }
                        Err(RecvError::Lagged(_)) => break,
                        Err(RecvError::Closed) => return,
                    },
                }
            }
            // At most one read a second; changes meanwhile are covered by the next read.
            tokio::time::sleep_until(read_at + EVERY).await;
            while changes.try_recv().is_ok() {}
        }
    }
}

/// One viewer's feed of a subject.
pub struct Feed {
    frames: watch::Receiver<Option<Arc<Frame>>>,
}

impl Feed {
    /// The next frame; none once the view ended.
    pub async fn next(&mut self) -> Option<Arc<Frame>> {
        loop {
            self.frames.changed().await.ok()?;
            if let Some(frame) = self.frames.borrow_and_update().clone() {
                return Some(frame);
            }
        }
    }
}
