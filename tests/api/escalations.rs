//! Escalations: started with a hazard ticket under a snapshot of its policy, worked by dispatchers.

use hotline::auth::Role;
use serde_json::json;

use crate::helpers::{TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(a_hazard_ticket_starts_one_escalation_that_dispatchers_acknowledge_and_resolve);

async fn a_hazard_ticket_starts_one_escalation_that_dispatchers_acknowledge_and_resolve(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let operator = app.login_as(Role::Operator).await;
    let dispatcher = app.login_as(Role::Dispatcher).await;
    let (status, ticket) = app
        .post(
            "/api/tickets",
            &operator,
            json!({"category": "hazard", "settlement_id": 13, "description": "Искрит провод"}),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    assert_eq!(ticket["status"], "escalated");
    let (status, _) =
        app.post("/api/tickets", &operator, json!({"category": "question", "description": "Вопрос"})).await;
    assert_eq!(status, 201);

    let (status, body) = app.get("/api/escalations", &operator).await;
    assert_eq!(status, 403, "{body}");
    let (_, all) = app.get("/api/escalations", &dispatcher).await;
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 1, "only the hazard is escalated");
    let escalation = &all[0];
    assert_eq!(escalation["state"], "active");
    // Пречистое is in no district of its own policy: the catch-all hazard policy, two rounds of two steps.
    assert_eq!(escalation["policy"], "hazard");
    let steps = escalation["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 6);
    assert_eq!(steps[0]["fired_at"], serde_json::Value::Null);
    assert!(steps[0]["due_at"].as_str() < steps[1]["due_at"].as_str());

    let id = escalation["id"].as_str().unwrap();
    let (status, _) = app.post(&format!("/api/escalations/{id}/ack"), &operator, json!({})).await;
    assert_eq!(status, 403);
    let (status, acked) = app.post(&format!("/api/escalations/{id}/ack"), &dispatcher, json!({})).await;
    assert_eq!(status, 200, "{acked}");
    assert_eq!(acked["state"], "acknowledged");
    assert!(acked["acknowledged_by"].as_str().unwrap().starts_with("dispatcher-"));
    let (status, again) = app.post(&format!("/api/escalations/{id}/ack"), &dispatcher, json!({})).await;
    assert_eq!(status, 409, "{again}");
    let (status, _) = app.post(&format!("/api/escalations/{id}/resolve"), &dispatcher, json!({"note": " "})).await;
    assert_eq!(status, 422);
    let (status, resolved) =
        app.post(&format!("/api/escalations/{id}/resolve"), &dispatcher, json!({"note": "Бригада устранила"})).await;
    assert_eq!((status, resolved["state"].as_str()), (200, Some("resolved")));
    let (status, _) = app.post("/api/escalations/nope/ack", &dispatcher, json!({})).await;
    assert_eq!(status, 404);
    app.stop().await;
}
