//! The ticket API over HTTP: happy paths and every refusal of SPEC §5.

use hotline::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(create_find_note_and_walk_a_ticket, tickets_opened_at_once_get_distinct_numbers);

/// Numbers are taken without waiting for other tickets' transactions (a sequence on PostgreSQL),
/// yet twenty tickets opened at once still get twenty distinct numbers, with no gap.
async fn tickets_opened_at_once_get_distinct_numbers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = app.login_as(Role::Operator).await;
    let opened = (0..20).map(|i| {
        app.post(
            "/api/tickets",
            &token,
            json!({"category": "outage", "settlement_id": 6, "description": format!("Нет света, дом {i}")}),
        )
    });
    let mut numbers: Vec<i64> = futures_util::future::join_all(opened)
        .await
        .into_iter()
        .map(|(status, ticket)| {
            assert_eq!(status, 201, "{ticket}");
            ticket["number"].as_str().unwrap().parse().unwrap()
        })
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (100001..=100020).collect::<Vec<i64>>());
    app.stop().await;
}

async fn create_find_note_and_walk_a_ticket(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = app.login_as(Role::Operator).await;
    let (status, ticket) = app
        .post(
            "/api/tickets",
            &token,
            json!({"category": "outage", "caller_number": "8 (910) 123-45-67", "settlement_id": 6,
                   "address": "ул. Ярославская, 5", "description": "Нет света во всём доме"}),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    assert_eq!(ticket["number"], "100001");
    assert_eq!(ticket["priority"], 2);
    assert_eq!(ticket["status"], "queued");
    assert_eq!(ticket["channel"], "operator");
    assert_eq!(ticket["caller_number"], "+79101234567");
    assert_eq!(ticket["settlement"], json!({"id": 6, "name": "Углич", "postcode": "152610"}));
    for key in [ticket["id"].as_str().unwrap(), "100001"] {
        let (status, found) = app.get(&format!("/api/tickets/{key}"), &token).await;
        assert_eq!(status, 200);
        assert_eq!(found["id"], ticket["id"]);
    }

    let (status, note) = app.post("/api/tickets/100001/notes", &token, json!({"text": "Перезвонить в 18:00"})).await;
    assert_eq!(status, 201, "{note}");
    let (status, moved) =
        app.post("/api/tickets/100001/transition", &token, json!({"to": "in_progress", "note": "беру"})).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["status"], "in_progress");

    let (_, detail) = app.get("/api/tickets/100001", &token).await;
    let notes: Vec<&str> = detail["notes"].as_array().unwrap().iter().map(|n| n["text"].as_str().unwrap()).collect();
    assert_eq!(notes, vec!["Перезвонить в 18:00", "беру"]);
    let last = detail["events"].as_array().unwrap().last().unwrap().clone();
    assert_eq!((last["from"].as_str(), last["to"].as_str()), (Some("queued"), Some("in_progress")));

    let (status, page) =
        app.get("/api/tickets?status=in_progress&category=outage&settlement_id=6&q=ДОМЕ", &token).await;
    assert_eq!(status, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    assert_eq!(page["next_cursor"], Value::Null);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_has_its_status_and_a_json_error() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let operator = app.login_as(Role::Operator).await;
    let other = app.login_as(Role::Operator).await;
    let (_, mine) = app
        .post(
            "/api/tickets",
            &operator,
            json!({"category": "question", "description": "Как подать заявку?", "assign_to_me": true}),
        )
        .await;
    assert_eq!(mine["status"], "in_progress");
    let number = mine["number"].as_str().unwrap().to_string();

    let assert_error = |status: u16, body: &Value, expected: u16, code: &str| {
        assert_eq!(status, expected, "{body}");
        assert_eq!(body["error"]["code"], code, "{body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    };

    // 400: the body is not JSON at all.
    let response = app
        .http
        .post(app.url("/api/tickets"))
        .bearer_auth(&operator)
        .header("content-type", "application/json")
        .body("{\"category\": \"hazard\",")
        .send()
        .await
        .unwrap();
    let (status, body) = crate::helpers::status_and_json(response).await;
    assert_error(status, &body, 400, "malformed_json");
    let (status, body) = app.get("/api/tickets?limit=5000", &operator).await;
    assert_error(status, &body, 400, "bad_query");
    let (status, body) = app.get("/api/tickets?status=lost", &operator).await;
    assert_error(status, &body, 400, "bad_query");

    // 401: no token, or one that is not ours.
    let response = app.http.get(app.url("/api/tickets")).send().await.unwrap();
    let (status, body) = crate::helpers::status_and_json(response).await;
    assert_error(status, &body, 401, "unauthorized");
    let (status, body) = app.get("/api/tickets", "forged-token").await;
    assert_error(status, &body, 401, "unauthorized");

    // 403: an operator may not move a colleague's ticket.
    let (status, body) =
        app.post(&format!("/api/tickets/{number}/transition"), &other, json!({"to": "resolved"})).await;
    assert_error(status, &body, 403, "forbidden");

    // 404: unknown number, unknown id, garbage key, unknown route.
    for path in
        ["/api/tickets/999999", "/api/tickets/0193a8f0-0000-7000-8000-000000000000", "/api/tickets/abc", "/api/nothing"]
    {
        let (status, body) = app.get(path, &operator).await;
        assert_error(status, &body, 404, "not_found");
    }
    let (status, body) = app.post("/api/tickets/999999/notes", &operator, json!({"text": "x"})).await;
    assert_error(status, &body, 404, "not_found");

    // 409: the lifecycle forbids it, and nothing changes.
    let (status, _) =
        app.post(&format!("/api/tickets/{number}/transition"), &operator, json!({"to": "resolved"})).await;
    assert_eq!(status, 200);
    let (status, _) = app.post(&format!("/api/tickets/{number}/transition"), &operator, json!({"to": "closed"})).await;
    assert_eq!(status, 200);
    let (status, body) =
        app.post(&format!("/api/tickets/{number}/transition"), &operator, json!({"to": "queued"})).await;
    assert_error(status, &body, 409, "conflict");
    let (_, detail) = app.get(&format!("/api/tickets/{number}"), &operator).await;
    assert_eq!(detail["status"], "closed");

    // 413: over 64 KiB.
    let huge = "я".repeat(40 * 1024);
    let (status, body) =
        app.post("/api/tickets", &operator, json!({"category": "question", "description": huge})).await;
    assert_error(status, &body, 413, "payload_too_large");

    // 422: well-formed JSON that does not fit.
    for bad in [
        json!({"category": 5, "description": "x"}),
        json!({"category": "lightning", "description": "x"}),
        json!({"category": "hazard"}),
        json!({"category": "hazard", "description": "   "}),
        json!({"category": "hazard", "description": "x", "priority": 9}),
        json!({"category": "hazard", "description": "x", "caller_number": "позвоните мне"}),
        json!({"category": "hazard", "description": "x", "settlement_id": 4242}),
        json!({"category": "hazard", "description": "a\u{0}b"}),
        json!(["not", "an", "object"]),
    ] {
        let (status, body) = app.post("/api/tickets", &operator, bad.clone()).await;
        assert_error(status, &body, 422, "invalid");
    }
    let (status, body) =
        app.post(&format!("/api/tickets/{number}/transition"), &operator, json!({"to": "vanished"})).await;
    assert_error(status, &body, 422, "invalid");

    let (_, page) = app.get("/api/tickets", &operator).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "no refused request created anything");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_strings_are_stored_as_text() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let token = app.login_as(Role::Supervisor).await;
    let hostile = "'); DROP TABLE tickets; -- <script>alert(1)</script> %_ \u{202e}";
    let (status, ticket) =
        app.post("/api/tickets", &token, json!({"category": "appeal", "description": hostile})).await;
    assert_eq!(status, 201, "{ticket}");
    let (_, found) = app.get(&format!("/api/tickets/{}", ticket["number"].as_str().unwrap()), &token).await;
    assert_eq!(found["description"], hostile.trim());
    app.stop().await;
}
