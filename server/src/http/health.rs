//! Health and readiness: `/healthz` says whether the database answers, `/readyz` also
//! whether this instance takes new work (503 while it drains before stopping).

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use app::state::AppState;
use axum::{Extension, Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

/// Whether this instance takes new work: until it is told to stop. Clones share it.
#[derive(Debug, Clone)]
pub struct Ready(Arc<AtomicBool>);

impl Default for Ready {
    fn default() -> Self {
        Self(Arc::new(AtomicBool::new(true)))
    }
}

impl Ready {
    /// From now on `/readyz` answers 503: the instance is draining.
    pub fn drain(&self) {
        self.0.store(false, Ordering::Release);
    }

    fn is_ready(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// `GET /readyz`: 200 while this instance takes new work and its database answers; 503 while
/// it drains before stopping, or when the database does not answer.
pub async fn readyz(
    State(state): State<AppState>,
    Extension(ready): Extension<Ready>,
) -> (StatusCode, Json<Value>) {
    if !ready.is_ready() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "draining",
                "error": {
                    "code": "draining",
                    "message": "This instance is stopping and takes no new work.",
                },
            })),
        );
    }
    healthz(State(state)).await
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok" }))),
        Err(error) => {
            tracing::error!(%error, "health check: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "error": {
                        "code": "database_unavailable",
                        "message": "The database is not answering.",
                    },
                })),
            )
        }
    }
}
