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

use super::{ClientInfo, session::SessionCookie};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/sign-in", post(sign_in))
        .route("/auth/sign-up", post(sign_up))
        .route("/auth/sign-out", post(sign_out))
}

/// Sign-ups allowed per client network per hour (`[limits] sign_ups_per_hour`).
#[derive(Debug, Clone, Copy)]
pub struct SignUpLimit(pub u32);

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
    Extension(cookie): Extension<SessionCookie>,
    Form(form): Form<SignInForm>,
) -> Response {
    let outcome = store::authenticate(
        &state.db,
        &form.email,
        &form.password,
        &store::client_network(client.ip),
    )
    .await;
    match outcome {
        Ok(user) => start_session(&state, &user, client, cookie, &safe_next(&form.next)).await,
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
    Extension(cookie): Extension<SessionCookie>,
    Extension(SignUpLimit(per_hour)): Extension<SignUpLimit>,
    Form(form): Form<SignUpForm>,
) -> Response {
    let network = store::client_network(client.ip);
    let created = match store::SignUp::parse(&form.account_name, &form.email, &form.password) {
        Ok(sign_up) => match store::sign_up_allowed(&state.db, &network, per_hour).await {
            Ok(()) => store::sign_up(&state.db, sign_up, Some(&state.secret_key)).await,
            Err(error) => Err(error),
        },
        Err(error) => Err(error),
    };
    match created {
        Ok(user) => {
            tracing::info!(account_id = %user.account_id, "account created");
            start_session(&state, &user, client, cookie, "/streams").await
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
    Extension(cookie): Extension<SessionCookie>,
    headers: HeaderMap,
) -> Response {
    if let Some(token) = cookie.token(&headers)
        && let Err(error) = store::end_session(&state.db, &token).await
    {
        tracing::error!(%error, "ending a session failed");
        return back_to("/streams", AuthError::Internal, &[]);
    }
    (
        AppendHeaders([(header::SET_COOKIE, cookie.clear(client.https))]),
        Redirect::to("/sign-in"),
    )
        .into_response()
}

async fn start_session(
    state: &AppState,
    user: &CurrentUser,
    client: ClientInfo,
    cookie: SessionCookie,
    destination: &str,
) -> Response {
    match store::create_session(&state.db, user).await {
        Ok(token) => (
            AppendHeaders([(header::SET_COOKIE, cookie.start(token, client.https))]),
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

/// Where to go after signing in: `next` resolved against the site's own origin, kept only
/// when it stays there (browsers drop tabs and newlines from URLs, so `/\t/evil.example` is
/// `//evil.example`, another site).
fn safe_next(next: &str) -> String {
    const HOME: &str = "/streams";
    let Ok(base) = url::Url::parse("http://sluice.invalid/") else {
        return HOME.into();
    };
    match base.join(next) {
        Ok(url) if next.starts_with('/') && url.origin() == base.origin() => {
            url[url::Position::BeforePath..].to_string()
        }
        _ => HOME.into(),
    }
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
        assert_eq!(safe_next("/\t/evil.example"), "/streams");
        assert_eq!(safe_next("/\n/evil.example"), "/streams");
        assert_eq!(safe_next("/%09/evil.example"), "/%09/evil.example");
        assert_eq!(safe_next("http://sluice.invalid/x"), "/streams");
        assert_eq!(
            safe_next("/streams?stream=s_1&tab=info"),
            "/streams?stream=s_1&tab=info"
        );
    }
}
