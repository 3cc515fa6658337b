//! Live updates over server-sent events, and the supervisor's metrics moving with the work.

use std::time::Duration;

use hotline::auth::Role;
use hotline::telephony::Dialect;
use hotline::tools::simulator::Caller;
use serde_json::json;

use crate::helpers::{TestApp, TestDb, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    an_event_stream_ends_within_five_seconds_of_its_tokens_logout_or_expiry,
    the_service_levels_and_what_the_alerts_watch_are_in_prometheus,
);

/// Reads an SSE response until an event with `needle` in it arrives, or the deadline passes.
/// Returns everything read and the last event id seen.
async fn read_until(response: &mut reqwest::Response, needle: &str, deadline: Duration) -> (String, Option<i64>) {
    let mut text = String::new();
    let _ = tokio::time::timeout(deadline, async {
        while let Ok(Some(chunk)) = response.chunk().await {
            text.push_str(&String::from_utf8_lossy(&chunk));
            if text.contains(needle) {
                break;
            }
        }
    })
    .await;
    let last_id = text.lines().rev().filter_map(|l| l.strip_prefix("id:")).find_map(|id| id.trim().parse().ok());
    (text, last_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_client_sees_changes_within_a_second_and_catches_up_after_reconnecting() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let operator = app.login_as(Role::Operator).await;
    let unauthenticated = app.http.get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(unauthenticated.status(), 401);

    let mut stream = app.http.get(app.url("/api/events")).bearer_auth(&operator).send().await.unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"].to_str().unwrap().starts_with("text/event-stream"));
    let (status, ticket) =
        app.post("/api/tickets", &operator, json!({"category": "appeal", "description": "Первая"})).await;
    assert_eq!(status, 201);
    let (seen, last_id) = read_until(&mut stream, "\"enqueued\"", Duration::from_secs(1)).await;
    assert!(seen.contains("event: ticket") && seen.contains(ticket["id"].as_str().unwrap()), "{seen}");
    assert!(seen.contains("event: queue"), "the ticket entered the queue: {seen}");
    drop(stream);

    // While the client is away, two more changes happen.
    let (_, second) = app.post("/api/tickets", &operator, json!({"category": "appeal", "description": "Вторая"})).await;
    let (_, third) = app.post("/api/tickets", &operator, json!({"category": "appeal", "description": "Третья"})).await;
    let mut resumed = app
        .http
        .get(app.url("/api/events"))
        .header("Last-Event-ID", last_id.unwrap().to_string())
        .query(&[("token", operator.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(resumed.status(), 200, "the token may come in the query, as a browser's EventSource sends it");
    let (missed, _) = read_until(&mut resumed, third["id"].as_str().unwrap(), Duration::from_secs(2)).await;
    assert!(missed.contains(second["id"].as_str().unwrap()), "{missed}");
    assert!(missed.contains(third["id"].as_str().unwrap()), "{missed}");
    assert!(!missed.contains(ticket["id"].as_str().unwrap()), "nothing already seen is sent again: {missed}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn supervisor_metrics_move_with_answered_and_abandoned_calls() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let operator = app.login_as(Role::Operator).await;
    let (status, _) = app.get("/api/metrics", &operator).await;
    assert_eq!(status, 403, "metrics are for supervisors");
    let (_, before) = app.get("/api/metrics", &supervisor).await;
    assert_eq!((before["answered"].as_i64(), before["abandoned"].as_i64()), (Some(0), Some(0)));
    assert_eq!(before["service_level"], serde_json::Value::Null);

    let response = app
        .http
        .put(app.url("/api/operators/me"))
        .bearer_auth(&operator)
        .json(&json!({"status": "available", "contact": "+79990001122"}))
        .send()
        .await
        .unwrap();
    assert_eq!(status_and_json(response).await.0, 200);
    // One caller is answered, one hangs up waiting, one is served by the IVR alone.
    let mut answered = Caller::new(&app.base, Dialect::Twilio, "+79101230001");
    answered.dial().await.unwrap();
    answered.press("0").await.unwrap();
    let (status, taken) = app.post("/api/queue/next", &operator, json!({})).await;
    assert_eq!(status, 200, "{taken}");
    let mut gone = Caller::new(&app.base, Dialect::Twilio, "+79101230002");
    gone.dial().await.unwrap();
    // The only operator is busy now: the wait is long, so a call back is offered first.
    let offered = gone.press("0").await.unwrap();
    assert!(offered.text().contains("Все операторы заняты"), "{}", offered.text());
    gone.press("2").await.unwrap();
    gone.status("completed", 4).await.unwrap();
    let mut informed = Caller::new(&app.base, Dialect::Jambonz, "+79101230003");
    informed.dial().await.unwrap();
    informed.press("2").await.unwrap();
    informed.press("152610").await.unwrap();
    informed.press("1").await.unwrap();
    informed.status("completed", 6).await.unwrap();

    let (_, after) = app.get("/api/metrics", &supervisor).await;
    assert_eq!(after["answered"], 1, "{after}");
    assert_eq!(after["abandoned"], 1, "{after}");
    assert_eq!(after["abandon_rate"], 0.5, "{after}");
    assert_eq!(after["service_level"], 1.0, "taken at once: {after}");
    assert_eq!(after["calls_ended"], 2, "{after}");
    assert_eq!(after["ivr_containment"], 0.5, "{after}");

    // A webhook the server refuses is counted under its route too.
    let refused =
        app.http.post(app.url("/telephony/twilio/voice")).form(&[("Nothing", "useful")]).send().await.unwrap();
    assert!(refused.status().is_client_error(), "{}", refused.status());

    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/plain; version=0.0.4; charset=utf-8");
    let text = response.text().await.unwrap();
    assert!(text.contains("hotline_calls_abandoned_today 1"), "{text}");
    assert!(text.contains("hotline_service_level_ratio 1"), "{text}");
    assert!(text.contains("# TYPE hotline_queue_waiting gauge"), "{text}");
    assert!(text.contains("hotline_service_level_30s_ratio 1"), "{text}");
    assert!(text.contains("hotline_abandon_rate_ratio 0.5"), "{text}");
    assert!(text.contains("hotline_ready 1"), "{text}");
    assert!(!text.contains("hotline_hazard_service_level_ratio"), "no hazard call yet, no rate: {text}");
    // Webhooks by dialect, route template and status: two Twilio calls and one jambonz call came in.
    let twilio_voice =
        r#"hotline_webhook_requests_total{dialect="twilio",route="/telephony/twilio/voice",status="200"} 2"#;
    assert!(text.contains(twilio_voice), "{text}");
    let jambonz_voice =
        r#"hotline_webhook_requests_total{dialect="jambonz",route="/telephony/jambonz/voice",status="200"} 1"#;
    assert!(text.contains(jambonz_voice), "{text}");
    assert!(text.contains(r#"dialect="jambonz",route="/telephony/jambonz/step/{seq}",status="200"}"#), "{text}");
    assert!(text.contains(r#"dialect="twilio",route="/telephony/twilio/status",status="200"} 1"#), "{text}");
    assert!(text.contains(r#"route="/telephony/twilio/voice",status="4"#), "the refused webhook: {text}");
    assert!(!text.contains("/step/1"), "templates, never raw paths: {text}");
    assert!(text.contains("# TYPE hotline_webhook_duration_seconds histogram"), "{text}");
    let count = r#"hotline_webhook_duration_seconds_count{dialect="jambonz",route="/telephony/jambonz/status"} 1"#;
    assert!(text.contains(count), "{text}");
    assert!(
        text.contains(
            r#"hotline_webhook_duration_seconds_bucket{dialect="twilio",route="/telephony/twilio/voice",le="+Inf"} 3"#
        ),
        "{text}"
    );
    // Escalation and outbox counters are there from the start.
    for counter in [
        "hotline_escalation_steps_fired_total 0",
        "hotline_hazards_escalated_by_timer_total 0",
        r#"hotline_outbox_messages_sent_total{channel="email"} 0"#,
        r#"hotline_outbox_delivery_failures_total{channel="email"} 0"#,
    ] {
        assert!(text.contains(counter), "{counter}: {text}");
    }
    app.stop().await;
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64
}

/// A metric's value as printed, or `None` when it is not in the text.
fn metric<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.lines().find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
}

async fn the_service_levels_and_what_the_alerts_watch_are_in_prometheus(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let operator = app.login_as(Role::Operator).await;
    // Live calls that waited 26 s (outage), 5 s and 28 s (hazards), and a hazard caller who gave up.
    let now = now_ms();
    for (id, category, tier, waited_s, state) in [
        ("sl-outage", "outage", 1, 26, "done"),
        ("sl-hazard-fast", "hazard", 0, 5, "done"),
        ("sl-hazard-slow", "hazard", 0, 28, "done"),
    ] {
        let (assigned, enqueued) = (now - 1000, now - 1000 - waited_s * 1000);
        app.execute(&format!(
            "INSERT INTO queue_items (id, kind, category, priority, tier, sort_key, enqueued_at, state, assigned_at, finished_at) \
             VALUES ('{id}', 'live_call', '{category}', 1, {tier}, {enqueued}, {enqueued}, '{state}', {assigned}, {now})"
        ))
        .await;
    }
    app.execute(&format!(
        "INSERT INTO queue_items (id, kind, category, priority, tier, sort_key, enqueued_at, state, finished_at) \
         VALUES ('sl-hazard-gone', 'live_call', 'hazard', 1, 0, {0}, {0}, 'abandoned', {now})",
        now - 40_000
    ))
    .await;
    // A hazard whose escalation has fired every step without an acknowledgement.
    let (status, ticket) = app
        .post(
            "/api/tickets",
            &operator,
            json!({"category": "hazard", "settlement_id": 13, "description": "Провод на земле"}),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");

    let text = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert_eq!(metric(&text, "hotline_calls_answered_today"), Some("3"), "{text}");
    assert_eq!(metric(&text, "hotline_service_level_ratio"), Some("0.3333333333333333"), "5 s of 26, 5, 28: {text}");
    assert_eq!(metric(&text, "hotline_service_level_30s_ratio"), Some("1.0"), "{text}");
    assert_eq!(metric(&text, "hotline_abandon_rate_ratio"), Some("0.25"), "{text}");
    assert_eq!(metric(&text, "hotline_hazard_calls_today"), Some("3"), "answered or given up: {text}");
    assert_eq!(metric(&text, "hotline_hazard_service_level_ratio"), Some("0.3333333333333333"), "{text}");
    assert_eq!(metric(&text, "hotline_escalations_active"), Some("1"), "{text}");
    assert_eq!(metric(&text, "hotline_escalations_exhausted"), Some("0"), "steps are still to come: {text}");
    assert!(metric(&text, "hotline_escalation_oldest_unacknowledged_seconds").is_some(), "{text}");
    assert!(metric(&text, "hotline_outbox_oldest_undelivered_seconds").is_some(), "{text}");

    app.execute(&format!("UPDATE escalation_steps SET fired_at = {now} WHERE fired_at IS NULL")).await;
    app.execute(&format!("UPDATE escalations SET created_at = {} WHERE state = 'active'", now - 3_600_000)).await;
    let text = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert_eq!(metric(&text, "hotline_escalations_exhausted"), Some("1"), "every step fired, nobody answered: {text}");
    let age: i64 = metric(&text, "hotline_escalation_oldest_unacknowledged_seconds").unwrap().parse().unwrap();
    assert!((3600..3700).contains(&age), "{text}");
    app.stop().await;
}

/// Whether the server ends the stream (its body closes) within `deadline`.
async fn ends_within(response: &mut reqwest::Response, deadline: Duration) -> bool {
    tokio::time::timeout(deadline, async { while let Ok(Some(_)) = response.chunk().await {} }).await.is_ok()
}

/// SPEC §6: a logout or an expired session ends that token's open event streams within 5 s.
async fn an_event_stream_ends_within_five_seconds_of_its_tokens_logout_or_expiry(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let leaving = app.login_as(Role::Operator).await;
    let staying = app.login_as(Role::Operator).await;
    let open = |token: &str, in_query: bool| {
        let request = app.http.get(app.url("/api/events"));
        let request = if in_query { request.query(&[("token", token)]) } else { request.bearer_auth(token) };
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response
        }
    };
    let mut by_header = open(&leaving, false).await;
    let mut by_query = open(&leaving, true).await;
    let mut other = open(&staying, false).await;

    let response = app.http.post(app.url("/api/auth/logout")).bearer_auth(&leaving).send().await.unwrap();
    assert_eq!(response.status(), 204);
    assert!(ends_within(&mut by_header, Duration::from_secs(5)).await, "the stream outlived its token's logout");
    assert!(ends_within(&mut by_query, Duration::from_secs(5)).await, "the stream outlived its token's logout");

    // Someone else's stream goes on: a change still reaches it.
    let (status, ticket) =
        app.post("/api/tickets", &staying, json!({"category": "appeal", "description": "Ещё идёт"})).await;
    assert_eq!(status, 201);
    let (seen, _) = read_until(&mut other, ticket["id"].as_str().unwrap(), Duration::from_secs(5)).await;
    assert!(seen.contains(ticket["id"].as_str().unwrap()), "{seen}");

    // Its session expires (its end is moved to the past): that stream ends too.
    let (_, me) = app.get("/api/auth/me", &staying).await;
    let username = me["username"].as_str().unwrap();
    app.execute(&format!(
        "UPDATE sessions SET expires_at = 1 WHERE user_id = (SELECT id FROM users WHERE username = '{username}')"
    ))
    .await;
    assert!(ends_within(&mut other, Duration::from_secs(5)).await, "the stream outlived its token's expiry");
    app.stop().await;
}
