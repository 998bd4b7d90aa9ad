//! Who is calling the API: the stream named by the token, checked against its IP allow-list
//! and status.

use axum::http::{HeaderMap, StatusCode, header::AUTHORIZATION};

use super::error::{ApiError, storage};
use crate::http::ClientInfo;
use app::{
    db::Db,
    ids::AccountId,
    streams::{Stream, StreamStatus, parse_cidr, store},
};

/// An authenticated stream and the account that owns it.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: AccountId,
    pub stream: Stream,
}

/// The token from `Authorization: <token>` or `Authorization: Bearer <token>`.
fn token(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        _ => value,
    };
    (!token.is_empty()).then_some(token)
}

pub async fn authenticate(
    db: &Db,
    headers: &HeaderMap,
    client: ClientInfo,
) -> Result<Caller, ApiError> {
    let token = token(headers).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "token_missing",
            "Send the stream's token in the Authorization header.",
        )
    })?;
    let (account_id, stream) = store::find_by_token(db, token)
        .await
        .map_err(storage)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_token",
                "This token does not belong to any stream; it may have been reset.",
            )
        })?;
    if stream.ip_acl_enabled {
        let allowed = stream
            .allowed_ips
            .iter()
            .filter_map(|cidr| parse_cidr(cidr).ok())
            .any(|net| net.contains(&client.ip));
        if !allowed {
            return Err(ApiError::forbidden(
                "ip_not_allowed",
                format!("{} is not in this stream's IP allow-list.", client.ip),
            ));
        }
    }
    Caller::of(account_id, stream)
}

impl Caller {
    /// The stream as a caller, when it may send: not a draft, not disabled.
    pub fn of(account_id: AccountId, stream: Stream) -> Result<Self, ApiError> {
        match stream.status {
            StreamStatus::Draft => Err(ApiError::forbidden(
                "stream_draft",
                "This stream is a draft: finish it in the console first.",
            )),
            StreamStatus::Disabled => Err(ApiError::forbidden(
                "stream_disabled",
                "This stream is disabled: enable it in the console to send.",
            )),
            StreamStatus::Ready | StreamStatus::Sending => Ok(Self { account_id, stream }),
        }
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn tokens_come_raw_or_as_bearer() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(AUTHORIZATION, HeaderValue::from_str(value).unwrap());
            token(&headers).map(str::to_string)
        };
        assert_eq!(with("abc").as_deref(), Some("abc"));
        assert_eq!(with("Bearer abc").as_deref(), Some("abc"));
        assert_eq!(with("bearer  abc ").as_deref(), Some("abc"));
        assert_eq!(with("Bearer ").as_deref(), Some("Bearer"));
        assert_eq!(with("   "), None);
        assert_eq!(token(&HeaderMap::new()), None);
    }
}
