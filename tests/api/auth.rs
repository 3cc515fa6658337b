//! Logging in and out, and what a token is good for.

use hotline::auth::Role;
use serde_json::json;

use crate::helpers::{TestApp, TestDb, status_and_json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_works_until_logout_and_a_wrong_password_gets_none() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let token = app.login_as(Role::Dispatcher).await;
    let (status, me) = app.get("/api/auth/me", &token).await;
    assert_eq!(status, 200);
    assert_eq!(me["role"], "dispatcher");

    let username = me["username"].as_str().unwrap();
    let response = app
        .http
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": username, "password": "not-the-password"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["message"], "wrong username or password");
    let response = app
        .http
        .post(app.url("/api/auth/login"))
        .json(&json!({"username": "nobody", "password": "whatever1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let response = app.http.post(app.url("/api/auth/logout")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let (status, _) = app.get("/api/auth/me", &token).await;
    assert_eq!(status, 401, "a logged-out token is dead");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_stored_hashed() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let token = app.login_as(Role::Operator).await;
    let raw = std::fs::read(app.db.dir.path().join("hotline.db")).unwrap_or_default();
    let wal = std::fs::read(app.db.dir.path().join("hotline.db-wal")).unwrap_or_default();
    let contains = |haystack: &[u8]| haystack.windows(token.len()).any(|w| w == token.as_bytes());
    assert!(!contains(&raw) && !contains(&wal), "the bearer token itself is never written to disk");
    app.stop().await;
}
