use app::state::AppState;
use axum::{Json, extract::State, http::StatusCode};
use serde_json::{Value, json};

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
