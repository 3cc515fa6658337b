//! The real `hotline` binary: start-up on nothing, refusals, crash survival, clean shutdown, CLI.

use std::process::Stdio;

use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::helpers::{Process, TestDb, hotline_command, scratch_file, status_and_json};
use crate::on_both_backends;

on_both_backends!(a_ticket_answered_201_survives_kill_9);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_no_configuration_creates_the_database_and_answers_health() {
    let dir = tempfile::tempdir().unwrap();
    let server = Process::serve(dir.path(), &[]).await;
    let http = reqwest::Client::new();
    assert_eq!(http.get(server.url("/healthz")).send().await.unwrap().status(), 200);
    let (status, body) = status_and_json(http.get(server.url("/readyz")).send().await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ready")));
    assert!(dir.path().join("hotline.db").exists(), "hotline.db is created in the working directory");
}

async fn a_ticket_answered_201_survives_kill_9(db: TestDb) {
    let env = [("HOTLINE_DATABASE_URL", db.url.as_str()), ("HOTLINE_BOOTSTRAP_ADMIN", "chief:chief-password")];
    let http = reqwest::Client::new();
    let mut server = Process::serve(db.dir.path(), &env).await;
    let token = server.login("chief", "chief-password").await;
    let response = http
        .post(server.url("/api/tickets"))
        .bearer_auth(&token)
        .json(&json!({"category": "hazard", "description": "Оборван провод над дорогой", "settlement_id": 6}))
        .send()
        .await
        .unwrap();
    let (status, created) = status_and_json(response).await;
    assert_eq!(status, 201, "{created}");
    server.child.kill().await.unwrap(); // SIGKILL: no chance to flush anything
    let server = Process::serve(db.dir.path(), &env).await;
    let token = server.login("chief", "chief-password").await;
    let number = created["number"].as_str().unwrap();
    let response = http.get(server.url(&format!("/api/tickets/{number}"))).bearer_auth(&token).send().await.unwrap();
    let (status, found) = status_and_json(response).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["id"], created["id"]);
    assert_eq!(found["description"], "Оборван провод над дорогой");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_stops_the_server_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Process::serve(dir.path(), &[]).await;
    let pid = server.child.id().unwrap() as i32;
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = server.child.wait().await.unwrap();
    assert!(status.success(), "{status:?}");
    assert!(server.remaining_stderr().await.contains("hotline stopped"));
}

async fn run_to_end(
    args: &[&str],
    env: &[(&str, &str)],
    stdin: Option<&str>,
    dir: &std::path::Path,
) -> (i32, String, String) {
    let mut command = hotline_command(dir);
    command.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    // A command refused before it reads its input closes the pipe; that is not our failure.
    let _ = input.write_all(stdin.unwrap_or("").as_bytes()).await;
    drop(input);
    let out = child.wait_with_output().await.unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_and_unsigned_exposure_are_refused_with_the_variable_named() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run_to_end(&["serve"], &[("HOTLINE_LISTEN", "0.0.0.0:0")], None, dir.path()).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("HOTLINE_TWILIO_AUTH_TOKEN") && err.contains("not a loopback"), "{err}");
    let (code, _, err) = run_to_end(&["serve"], &[("HOTLINE_TIMEZONE", "Europe/Nowhere")], None, dir.path()).await;
    assert_eq!(code, 2);
    assert!(err.contains("HOTLINE_TIMEZONE"), "{err}");
    assert!(!dir.path().join("hotline.db").exists(), "a refused start touches nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn help_explains_each_command() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, _) = run_to_end(&["--help"], &[], None, dir.path()).await;
    assert_eq!(code, 0);
    for command in ["serve", "migrate", "user", "import"] {
        assert!(out.contains(command), "{command} missing from:\n{out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_add_reads_the_password_from_stdin_and_import_refuses_a_bad_file() {
    let db = TestDb::sqlite().await;
    let env = [("HOTLINE_DATABASE_URL", db.url.as_str())];
    let dir = db.dir.path();
    let (code, out, err) =
        run_to_end(&["user", "add", "olga", "--role", "operator"], &env, Some("s3cret-pass\n"), dir).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("olga"));
    let (code, _, err) =
        run_to_end(&["user", "add", "olga", "--role", "operator"], &env, Some("s3cret-pass\n"), dir).await;
    assert_eq!(code, 1);
    assert!(err.contains("already exists"), "{err}");
    let (code, _, err) = run_to_end(&["user", "add", "ivan", "--role", "boss"], &env, Some("s3cret-pass\n"), dir).await;
    assert_ne!(code, 0);
    assert!(err.contains("operator, dispatcher, supervisor, admin"), "{err}");

    let bad = scratch_file(dir, "bad.csv", "name,type,district,postcode\nА,село,Р,1\n");
    let (code, _, err) = run_to_end(&["import", "settlements", bad.to_str().unwrap()], &env, None, dir).await;
    assert_eq!(code, 1);
    assert!(err.contains("bad.csv:2: postcode '1' must be exactly six digits"), "{err}");
    let good = scratch_file(dir, "good.csv", "name,type,district,postcode\nА,село,Р,152000\n");
    let (code, out, err) = run_to_end(&["import", "settlements", good.to_str().unwrap()], &env, None, dir).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("imported 1"));

    let store = db.store().await;
    assert_eq!(store.count_settlements().await.unwrap(), 1, "the CLI import does not load the bundled list");
    assert_eq!(store.count_users().await.unwrap(), 1);
}

/// SPEC §6: the request log at debug level shows neither bearer tokens (`?token=` of the event
/// stream, the token of an `/ack/` link) nor a caller's number however it was typed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_request_logs_mask_tokens_and_every_spelling_of_a_number() {
    let dir = tempfile::tempdir().unwrap();
    let env = [("RUST_LOG", "debug"), ("HOTLINE_BOOTSTRAP_ADMIN", "chief:chief-password")];
    let mut server = Process::serve(dir.path(), &env).await;
    let token = server.login("chief", "chief-password").await;
    let http = reqwest::Client::new();
    let ack_token = "eyJlIjoiZXNjLTEiLCJyIjoiYUBiLnJ1IiwieCI6MX0.c2VjcmV0LXNpZ25hdHVyZQ";
    let spellings = ["+7 910 123-45-67", "8(910)1234567", "+7 (910) 123 45 67", "89101234567"];
    let mut events = http.get(server.url("/api/events")).query(&[("token", token.as_str())]).send().await.unwrap();
    assert_eq!(events.status(), 200);
    let _ = tokio::time::timeout(std::time::Duration::from_millis(100), events.chunk()).await;
    drop(events);
    http.get(server.url(&format!("/ack/{ack_token}"))).send().await.unwrap();
    for spelled in spellings {
        let response =
            http.get(server.url("/api/tickets")).query(&[("q", spelled)]).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 200);
    }
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(server.child.id().unwrap() as i32, libc::SIGTERM) }, 0);
    server.child.wait().await.unwrap();
    let log = server.remaining_stderr().await;

    assert!(log.contains("/api/tickets?q="), "the requests are logged at debug level:\n{log}");
    assert!(log.contains("/api/events?token=***"), "{log}");
    assert!(log.contains("/ack/***"), "{log}");
    assert!(log.matches("+7910***4567").count() >= spellings.len(), "each spelling masked:\n{log}");
    for secret in [token.as_str(), ack_token, "c2VjcmV0LXNpZ25hdHVyZQ"] {
        assert!(!log.contains(secret), "a token in the log:\n{log}");
    }
    for leak in ["1234567", "123-45-67", "123%2045%2067", "45-67"] {
        assert!(!log.contains(leak), "a caller's number ({leak}) in the log:\n{log}");
    }
}
