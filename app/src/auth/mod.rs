//! Accounts, users and console sessions.

mod error;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod store;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use self::error::AuthError;
use crate::{error::AppError, ids::AccountId};

/// The signed-in user, as the console sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub user_id: String,
    pub email: String,
    pub account_id: AccountId,
    pub account_name: String,
}

/// A user of the signed-in user's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub email: String,
    pub role: String,
    pub created_at: i64,
}

/// The user behind the request's session cookie, if any.
#[server(prefix = "/api", endpoint = "session")]
pub async fn get_current_user() -> Result<Option<CurrentUser>, AppError> {
    Ok(ssr::session_user())
}

/// The users of the signed-in user's account.
#[server(prefix = "/api", endpoint = "account/members")]
pub async fn account_members() -> Result<Vec<Member>, AppError> {
    let user = ssr::require_user()?;
    let state = expect_context::<crate::state::AppState>();
    store::members(&state.db, &user.account_id)
        .await
        .map_err(|error| {
            tracing::error!(%error, "listing account members failed");
            AppError::internal()
        })
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Reading the session that the server's middleware resolved for this request.

    use axum::http::request::Parts;
    use leptos::prelude::use_context;

    use super::CurrentUser;
    use crate::error::AppError;

    /// Request extension holding the user behind the session cookie.
    #[derive(Debug, Clone, Default)]
    pub struct SessionUser(pub Option<CurrentUser>);

    /// The session user of the request being served, from the Leptos context.
    pub fn session_user() -> Option<CurrentUser> {
        use_context::<Parts>()
            .and_then(|parts| parts.extensions.get::<SessionUser>().cloned())
            .and_then(|session| session.0)
    }

    /// Like [`session_user`], but a missing session is an error.
    pub fn require_user() -> Result<CurrentUser, AppError> {
        session_user().ok_or_else(AppError::session_required)
    }
}
