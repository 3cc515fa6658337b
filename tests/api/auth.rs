//! Logging in and out, and what a token is good for.

use std::time::Duration;

use hotline::auth::{self, Role};
use hotline::clock::Clock;
use serde_json::{Value, json};
use sqlx::Connection;

use crate::helpers::{TestApp, TestDb, status_and_json};
use crate::on_both_backends;

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

// Login throttling (SPEC §6): 10 failed logins for one username or from one address within
// 10 minutes, and further attempts get 429 with Retry-After until the window has passed.

on_both_backends!(
    ten_failures_for_a_username_close_it_from_every_address_until_the_window_has_passed,
    ten_failures_from_an_address_close_it_for_every_username,
    a_parallel_flood_gets_no_more_than_ten_password_checks,
);

const PASSWORD: &str = "password123";

/// The app behind a trusted proxy on loopback, so each attempt can say its client address.
async fn behind_a_proxy(db: TestDb) -> TestApp {
    TestApp::spawn_with(db, &[("HOTLINE_TRUSTED_PROXIES", "127.0.0.1")]).await
}

async fn user(app: &TestApp, name: &str) {
    auth::add_user(&app.store, name, PASSWORD, Role::Dispatcher, Clock::system().now()).await.unwrap();
}

/// One login attempt from `client` (told to the app through X-Forwarded-For): the status, the
/// Retry-After header and the body.
async fn attempt(app: &TestApp, username: &str, password: &str, client: &str) -> (u16, Option<u64>, Value) {
    let response = app
        .http
        .post(app.url("/api/auth/login"))
        .header("X-Forwarded-For", client)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    let (status, body) = status_and_json(response).await;
    (status, retry_after, body)
}

fn assert_throttled((status, retry_after, body): (u16, Option<u64>, Value)) {
    assert_eq!(status, 429, "{body}");
    let retry_after = retry_after.expect("a 429 says when to try again");
    assert!((1..=600).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("попыток входа") && message.contains("мин."), "a message in Russian: {message}");
}

/// A single number from the app's database.
async fn scalar(app: &TestApp, sql: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&app.db.url).await.unwrap();
    let value: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    value
}

async fn ten_failures_for_a_username_close_it_from_every_address_until_the_window_has_passed(db: TestDb) {
    let app = behind_a_proxy(db).await;
    user(&app, "ivanova").await;
    user(&app, "petrov").await;
    // A guesser spreads ten wrong passwords over ten addresses.
    for i in 0..10 {
        let (status, _, body) = attempt(&app, "ivanova", &format!("guess-{i}"), &format!("203.0.113.{i}")).await;
        assert_eq!(status, 401, "attempt {i}: {body}");
    }
    // The username is closed from anywhere, even with the right password: otherwise guessing
    // from many addresses would not be limited at all.
    assert_throttled(attempt(&app, "ivanova", PASSWORD, "198.51.100.1").await);
    assert_throttled(attempt(&app, "ivanova", "guess-11", "198.51.100.2").await);
    // The addresses are not closed for other people: each had one failure.
    assert_eq!(attempt(&app, "petrov", PASSWORD, "203.0.113.1").await.0, 200);

    // Refused attempts cost no password check. Were one made, this hash would keep the server
    // busy for many seconds per attempt (Argon2 with 64 MiB and 200 passes).
    app.execute(
        "UPDATE users SET password_hash = '$argon2id$v=19$m=65536,t=200,p=1$c29tZXNhbHRzb21lc2FsdA$\
         K6kFT1m9B7ZLvOHXsYF2m9PY1v2qnP5ZrwC3XNFQwRE' WHERE username = 'ivanova'",
    )
    .await;
    let refused = tokio::time::timeout(Duration::from_secs(5), async {
        for i in 0..5 {
            assert_throttled(attempt(&app, "ivanova", "guess-again", &format!("198.51.100.{}", 10 + i)).await);
        }
    })
    .await;
    assert!(refused.is_ok(), "throttled attempts must be refused without checking the password");
    // ...and are not counted, so the flood does not push the end of the window away.
    assert_eq!(scalar(&app, "SELECT COUNT(*) FROM login_failures WHERE username = 'ivanova'").await, 10);

    // The window passes (the failures are made ten minutes older): the door opens again.
    app.execute("UPDATE login_failures SET at = at - 600000").await;
    let hash = hotline::auth::hash_password(PASSWORD).await.unwrap();
    app.execute(&format!("UPDATE users SET password_hash = '{hash}' WHERE username = 'ivanova'")).await;
    let (status, _, body) = attempt(&app, "ivanova", PASSWORD, "198.51.100.1").await;
    assert_eq!(status, 200, "{body}");
    app.stop().await;
}

async fn ten_failures_from_an_address_close_it_for_every_username(db: TestDb) {
    let app = behind_a_proxy(db).await;
    user(&app, "sidorov").await;
    // One address tries ten names.
    for i in 0..10 {
        let (status, _, body) = attempt(&app, &format!("nobody{i}"), "guess", "203.0.113.50").await;
        assert_eq!(status, 401, "attempt {i}: {body}");
    }
    assert_throttled(attempt(&app, "sidorov", PASSWORD, "203.0.113.50").await);
    // The same person from another address is let in: the username has no failure.
    let (status, _, body) = attempt(&app, "sidorov", PASSWORD, "203.0.113.51").await;
    assert_eq!(status, 200, "{body}");
    // A client that reaches the app directly cannot pick its address by sending the header:
    // only the trusted proxy's X-Forwarded-For is read, and an IPv6 client counts by its /64.
    for i in 0..10 {
        let client = format!("2001:db8:7:7::{i:x}");
        assert_eq!(attempt(&app, &format!("nobody{i}"), "guess", &client).await.0, 401);
    }
    assert_throttled(attempt(&app, "sidorov", PASSWORD, "2001:db8:7:7::ffff").await);
    assert_eq!(attempt(&app, "sidorov", PASSWORD, "2001:db8:7:8::1").await.0, 200);
    app.stop().await;
}

async fn a_parallel_flood_gets_no_more_than_ten_password_checks(db: TestDb) {
    let app = behind_a_proxy(db).await;
    user(&app, "kuznetsova").await;
    let flood = (0..40).map(|i| {
        let app = &app;
        async move { attempt(app, "kuznetsova", &format!("guess-{i}"), "203.0.113.9").await.0 }
    });
    let mut statuses = futures_util::future::join_all(flood).await;
    statuses.sort();
    // A 401 is a password checked and found wrong; a 429 was refused before any check.
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 30, "{statuses:?}");
    assert_throttled(attempt(&app, "kuznetsova", PASSWORD, "203.0.113.10").await);
    app.stop().await;
}

/// SPEC §6: a role that may not call an endpoint gets 403 whatever the body; the role is checked
/// from the token before the body is read (no 400, 413, 415 or 422 first), and no token is 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_may_not_gets_403_whatever_the_body() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let operator = app.login_as(Role::Operator).await;
    let dispatcher = app.login_as(Role::Dispatcher).await;
    let not_for_operators = [
        ("POST", "/api/escalations/x/ack"),
        ("POST", "/api/escalations/x/assign"),
        ("POST", "/api/escalations/x/resolve"),
        ("POST", "/api/crews"),
        ("PATCH", "/api/crews/x"),
        ("PATCH", "/api/incidents/x"),
        ("POST", "/api/incidents/x/assign"),
        ("PUT", "/api/storm-mode"),
        ("POST", "/api/planned-outages"),
        ("POST", "/api/planned-outages/import"),
        ("POST", "/api/settlements/import"),
        ("POST", "/api/connection-applications/import"),
    ];
    let not_for_dispatchers = [("PUT", "/api/operators/me"), ("POST", "/api/queue/x/complete")];
    let bodies: [(&str, Vec<u8>); 4] = [
        ("application/json", b"{".to_vec()),
        ("application/json", b"[1, 2]".to_vec()),
        ("text/plain", b"hello".to_vec()),
        ("text/csv", vec![0xff, 0xfe]),
    ];
    let cases = not_for_operators
        .iter()
        .map(|route| (route, &operator))
        .chain(not_for_dispatchers.iter().map(|route| (route, &dispatcher)));
    for ((method, path), token) in cases {
        for (content_type, body) in &bodies {
            let request = app
                .http
                .request(method.parse().unwrap(), app.url(path))
                .header("content-type", *content_type)
                .body(body.clone());
            let (status, answer) =
                status_and_json(request.try_clone().unwrap().bearer_auth(token).send().await.unwrap()).await;
            assert_eq!(status, 403, "{method} {path} with {content_type} ({} bytes): {answer}", body.len());
            assert_eq!(answer["error"]["code"], "forbidden");
            let (status, _) = status_and_json(request.send().await.unwrap()).await;
            assert_eq!(status, 401, "{method} {path} without a token");
        }
    }
    app.stop().await;
}
