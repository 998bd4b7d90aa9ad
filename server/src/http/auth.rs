//! The sign-up, sign-in and sign-out forms. Plain form posts answered with redirects, so
//! they work the same with and without JavaScript.

use app::{
    auth::{AuthError, CurrentUser, store},
    state::AppState,
};
use axum::{
    Extension, Form, Router,
    extract::State,
    http::{HeaderMap, header},
    response::{AppendHeaders, IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;

use super::{
    ClientInfo,
    session::{cleared_cookie, session_cookie, session_token},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/sign-in", post(sign_in))
        .route("/auth/sign-up", post(sign_up))
        .route("/auth/sign-out", post(sign_out))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInForm {
    email: String,
    password: String,
    next: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignUpForm {
    account_name: String,
    email: String,
    password: String,
}

async fn sign_in(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Form(form): Form<SignInForm>,
) -> Response {
    let outcome = store::authenticate(
        &state.db,
        &form.email,
        &form.password,
        &client.ip.to_string(),
    )
    .await;
    match outcome {
        Ok(user) => start_session(&state, &user, client, safe_next(&form.next)).await,
        Err(error) => {
            tracing::info!(code = error.code(), "sign-in refused");
            back_to(
                "/sign-in",
                error,
                &[("email", form.email.trim()), ("next", &form.next)],
            )
        }
    }
}

async fn sign_up(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Form(form): Form<SignUpForm>,
) -> Response {
    let created = match store::SignUp::parse(&form.account_name, &form.email, &form.password) {
        Ok(sign_up) => store::sign_up(&state.db, sign_up).await,
        Err(error) => Err(error),
    };
    match created {
        Ok(user) => {
            tracing::info!(account_id = %user.account_id, "account created");
            start_session(&state, &user, client, "/streams").await
        }
        Err(error) => back_to(
            "/sign-up",
            error,
            &[
                ("email", form.email.trim()),
                ("account_name", form.account_name.trim()),
            ],
        ),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = session_token(&headers)
        && let Err(error) = store::end_session(&state.db, &token).await
    {
        tracing::error!(%error, "ending a session failed");
        return back_to("/streams", AuthError::Internal, &[]);
    }
    (
        AppendHeaders([(header::SET_COOKIE, cleared_cookie(client.https))]),
        Redirect::to("/sign-in"),
    )
        .into_response()
}

async fn start_session(
    state: &AppState,
    user: &CurrentUser,
    client: ClientInfo,
    destination: &str,
) -> Response {
    match store::create_session(&state.db, user).await {
        Ok(token) => (
            AppendHeaders([(header::SET_COOKIE, session_cookie(token, client.https))]),
            Redirect::to(destination),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "creating a session failed");
            back_to("/sign-in", AuthError::Internal, &[])
        }
    }
}

/// Sends the browser back to a form with the error code and what was typed (never passwords).
fn back_to(page: &str, error: AuthError, fields: &[(&str, &str)]) -> Response {
    let mut pairs = vec![("error", error.code())];
    pairs.extend(
        fields
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .copied(),
    );
    let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
    Redirect::to(&format!("{page}?{query}")).into_response()
}

/// Only same-site paths may be a destination after signing in.
fn safe_next(next: &str) -> &str {
    let is_local_path =
        next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\");
    if is_local_path { next } else { "/streams" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/messages?page=2"), "/messages?page=2");
        assert_eq!(safe_next(""), "/streams");
        assert_eq!(safe_next("https://evil.example"), "/streams");
        assert_eq!(safe_next("//evil.example"), "/streams");
        assert_eq!(safe_next("/\\evil.example"), "/streams");
    }
}
