use reqwest::StatusCode;
use serde_json::json;

use crate::{
    helpers::{Backend, PASSWORD, TestApp, location, set_cookies},
    on_both_backends,
};

on_both_backends!(
    sign_up_creates_an_account_and_signs_the_owner_in,
    sign_up_refuses_an_email_already_taken_in_any_case,
    sign_up_refuses_bad_input_and_creates_nothing,
    sign_in_with_the_right_password_opens_a_session_and_follows_next,
    sign_in_with_a_wrong_password_or_unknown_email_is_refused_alike,
    sign_out_ends_the_session_for_good,
    console_pages_and_server_functions_require_a_session,
    signed_in_users_are_sent_from_the_auth_pages_to_the_console,
    accounts_never_see_each_other,
    repeated_failed_sign_ins_are_throttled,
);

async fn sign_up_creates_an_account_and_signs_the_owner_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let response = app
        .post_form(
            "/auth/sign-up",
            &[
                ("account_name", "Acme Ltd"),
                ("email", "Owner@Acme.io"),
                ("password", PASSWORD),
            ],
        )
        .await;

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/streams");
    let cookie = set_cookies(&response).join("\n");
    assert!(cookie.contains("sluice_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let (status, user) = app.server_fn("/api/session").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(user["email"], "owner@acme.io");
    assert_eq!(user["account_name"], "Acme Ltd");
    let page = app.get("/streams").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    // The account's two starter streams, ready.
    assert!(
        html.contains("Default Marketing") && html.contains("Default Transactional"),
        "{html}"
    );
}

async fn sign_up_refuses_an_email_already_taken_in_any_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.sign_up("ann@example.com").await;

    let again = TestApp::new_client()
        .post(app.url("/auth/sign-up"))
        .form(&[
            ("email", "ANN@example.com"),
            ("password", "another password"),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(again.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&again),
        "/sign-up?error=email_taken&email=ANN%40example.com"
    );
    assert!(set_cookies(&again).is_empty());
}

async fn sign_up_refuses_bad_input_and_creates_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    let cases = [
        (("Acme", "not-an-email", PASSWORD), "invalid_email"),
        (("Acme", "ann@example.com", "short"), "weak_password"),
        (
            (&*"n".repeat(81), "ann@example.com", PASSWORD),
            "invalid_account_name",
        ),
    ];
    for ((account_name, email, password), code) in cases {
        let response = app
            .post_form(
                "/auth/sign-up",
                &[
                    ("account_name", account_name),
                    ("email", email),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert!(
            location(&response).starts_with(&format!("/sign-up?error={code}")),
            "{code}: {}",
            location(&response)
        );
        assert!(!location(&response).contains("password="));
    }
    let missing_fields = app.post_form("/auth/sign-up", &[]).await;
    assert!(location(&missing_fields).starts_with("/sign-up?error=invalid_email"));

    let response = app.sign_in("ann@example.com", PASSWORD).await;
    assert!(location(&response).starts_with("/sign-in?error=invalid_credentials"));
}

async fn sign_in_with_the_right_password_opens_a_session_and_follows_next(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.sign_up("ann@example.com").await;
    let browser = TestApp::new_client();

    let response = browser
        .post(app.url("/auth/sign-in"))
        .form(&[
            ("email", " Ann@Example.com "),
            ("password", PASSWORD),
            ("next", "/messages?page=2"),
        ])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/messages?page=2");
    let page = browser.get(app.url("/messages")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
}

async fn sign_in_with_a_wrong_password_or_unknown_email_is_refused_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.sign_up("ann@example.com").await;
    let browser = TestApp::new_client();

    for email in ["ann@example.com", "nobody@example.com"] {
        let response = browser
            .post(app.url("/auth/sign-in"))
            .form(&[("email", email), ("password", "wrong password!")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        let expected = format!(
            "/sign-in?error=invalid_credentials&email={}",
            email.replace('@', "%40")
        );
        assert_eq!(location(&response), expected);
        assert!(set_cookies(&response).is_empty());
    }
    let page = browser.get(app.url("/streams")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
}

async fn sign_out_ends_the_session_for_good(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = app.sign_up("ann@example.com").await;
    let cookie = set_cookies(&response)[0]
        .split(';')
        .next()
        .unwrap()
        .to_string();

    let signed_out = app.post_form("/auth/sign-out", &[]).await;

    assert_eq!(signed_out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_out), "/sign-in");
    assert!(set_cookies(&signed_out)[0].contains("Max-Age=0"));
    let replayed = TestApp::new_client()
        .get(app.url("/streams"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&replayed), "/sign-in?next=%2Fstreams");
}

async fn console_pages_and_server_functions_require_a_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;

    for page in [
        "/",
        "/streams",
        "/realtime",
        "/messages",
        "/sender-ids",
        "/api-docs",
        "/account",
    ] {
        let response = app.get(page).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{page}");
        assert!(location(&response).starts_with("/sign-in?next="), "{page}");
    }
    let filtered = app.get("/messages?status=sent").await;
    assert_eq!(
        location(&filtered),
        "/sign-in?next=%2Fmessages%3Fstatus%3Dsent"
    );
    for page in ["/sign-in", "/sign-up"] {
        assert_eq!(app.get(page).await.status(), StatusCode::OK, "{page}");
    }
    let (status, user) = app.server_fn("/api/session").await;
    assert_eq!((status, user), (StatusCode::OK, serde_json::Value::Null));
    let (status, error) = app.server_fn("/api/account/members").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(error["code"], "session_required");
    let forged = TestApp::new_client()
        .get(app.url("/streams"))
        .header("cookie", "sluice_session=forged-token")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::SEE_OTHER);
}

async fn signed_in_users_are_sent_from_the_auth_pages_to_the_console(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.sign_up("ann@example.com").await;

    for page in ["/sign-in", "/sign-up"] {
        let response = app.get(page).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&response), "/streams");
    }
    let missing = app.get("/no/such/page").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("Page not found"));
}

async fn accounts_never_see_each_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ann = TestApp::spawn_client_for(&app, "ann@acme.io").await;
    let bob = TestApp::spawn_client_for(&app, "bob@globex.io").await;

    let members_of = |client: reqwest::Client| {
        let url = app.url("/api/account/members");
        async move {
            let body: serde_json::Value = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            body.as_array()
                .unwrap()
                .iter()
                .map(|member| member["email"].clone())
                .collect::<Vec<_>>()
        }
    };

    assert_eq!(members_of(ann.clone()).await, vec![json!("ann@acme.io")]);
    assert_eq!(members_of(bob.clone()).await, vec![json!("bob@globex.io")]);
    let session_of = |client: reqwest::Client| {
        let url = app.url("/api/session");
        async move {
            client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let (ann_session, bob_session) = (session_of(ann).await, session_of(bob).await);
    assert_ne!(ann_session["account_id"], bob_session["account_id"]);
    assert_eq!(ann_session["account_name"], "acme.io");
}

async fn repeated_failed_sign_ins_are_throttled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.sign_up("ann@example.com").await;

    for _ in 0..5 {
        let response = app.sign_in("ann@example.com", "wrong password!").await;
        assert!(location(&response).contains("error=invalid_credentials"));
    }
    let blocked = app.sign_in("ann@example.com", PASSWORD).await;

    assert!(
        location(&blocked).starts_with("/sign-in?error=too_many_attempts"),
        "{}",
        location(&blocked)
    );
    assert!(set_cookies(&blocked).is_empty());
    let other_user = app.sign_up("bob@example.com").await;
    assert_eq!(location(&other_user), "/streams");
}

impl TestApp {
    /// Signs a new account up in a browser of its own and returns that browser.
    async fn spawn_client_for(app: &TestApp, email: &str) -> reqwest::Client {
        let client = TestApp::new_client();
        let response = client
            .post(app.url("/auth/sign-up"))
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(location(&response), "/streams");
        client
    }
}
