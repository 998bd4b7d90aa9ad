//! `/status/`: where messages are, by `internal_id` or `message_uuid`, with their history.

use axum::{
    Json,
    body::Bytes,
    extract::{Extension, Query, State},
    http::{HeaderMap, StatusCode},
};
use serde::Deserialize;

use super::{
    answers::{StatusAnswer, TrackedMessage},
    caller::authenticate,
    error::{ApiError, storage},
    parse_body,
};
use crate::engine;
use crate::http::ClientInfo;
use app::state::AppState;

/// The most messages one status request may ask about.
const MAX_LOOKUPS: usize = 1_000;

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct StatusQuery {
    #[serde(default)]
    internal_ids: Vec<String>,
    #[serde(default)]
    message_uuids: Vec<String>,
    internal_id: Option<String>,
    message_uuid: Option<String>,
}

impl StatusQuery {
    /// The ids asked for; a query string may also list them comma-separated.
    fn ids(self) -> (Vec<String>, Vec<String>) {
        let split = |many: Vec<String>, one: Option<String>| {
            many.into_iter()
                .chain(one)
                .flat_map(|ids| {
                    ids.split(',')
                        .map(|id| id.trim().to_string())
                        .collect::<Vec<_>>()
                })
                .filter(|id| !id.is_empty())
                .collect::<Vec<_>>()
        };
        (
            split(self.internal_ids, self.internal_id),
            split(self.message_uuids, self.message_uuid),
        )
    }
}

/// Where messages are, by `internal_ids` or `message_uuids` (repeated or comma-separated).
#[utoipa::path(get, path = "/status/", tag = "status",
    params(
        ("internal_ids" = Option<String>, Query, description = "Comma-separated internal ids"),
        ("message_uuids" = Option<String>, Query, description = "Comma-separated message uuids"),
    ),
    security(("token" = [])),
    responses(
        (status = 200, description = "The messages found, with their history", body = super::answers::StatusAnswer),
        (status = 422, description = "No id given", body = super::answers::ErrorAnswer),
    ))]
pub async fn status_get(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Result<Json<StatusAnswer>, ApiError> {
    let mut lookup = StatusQuery::default();
    for (key, value) in query {
        match key.as_str() {
            "internal_id" | "internal_ids" | "internal_ids[]" => lookup.internal_ids.push(value),
            "message_uuid" | "message_uuids" | "message_uuids[]" => {
                lookup.message_uuids.push(value)
            }
            _ => {}
        }
    }
    let caller = authenticate(&state.db, &headers, client).await?;
    answer(&state, &caller.stream.id, lookup).await
}

/// The same lookup with a JSON body.
#[utoipa::path(post, path = "/status/", tag = "status", request_body = StatusQuery,
    security(("token" = [])),
    responses(
        (status = 200, description = "The messages found, with their history", body = super::answers::StatusAnswer),
        (status = 422, description = "No id given", body = super::answers::ErrorAnswer),
    ))]
pub async fn status_post(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<Json<StatusAnswer>, ApiError> {
    let caller = authenticate(&state.db, &headers, client).await?;
    let lookup: StatusQuery = parse_body(body)?;
    answer(&state, &caller.stream.id, lookup).await
}

async fn answer(
    state: &AppState,
    stream_id: &str,
    lookup: StatusQuery,
) -> Result<Json<StatusAnswer>, ApiError> {
    let (internal_ids, message_uuids) = lookup.ids();
    if internal_ids.is_empty() && message_uuids.is_empty() {
        return Err(ApiError::unprocessable(
            "ids_required",
            "Ask for at least one internal_id or message_uuid.",
        ));
    }
    if internal_ids.len() + message_uuids.len() > MAX_LOOKUPS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_ids",
            format!("Ask for at most {MAX_LOOKUPS} messages per request."),
        ));
    }
    let found = engine::track(&state.db, stream_id, &internal_ids, &message_uuids)
        .await
        .map_err(storage)?;
    let messages: Vec<TrackedMessage> = found.into_iter().map(TrackedMessage::from).collect();
    let not_found: Vec<String> = internal_ids
        .into_iter()
        .filter(|id| !messages.iter().any(|m| m.internal_id.as_ref() == Some(id)))
        .chain(
            message_uuids
                .into_iter()
                .filter(|id| !messages.iter().any(|m| &m.message_uuid == id)),
        )
        .collect();
    Ok(Json(StatusAnswer {
        status: true,
        messages,
        not_found,
    }))
}
