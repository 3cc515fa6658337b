//! What a browser, a cache or a link must never get unguarded (SPEC §6): the security headers on
//! every response, and recording links that are only ever http(s).

use hotline::auth::Role;
use hotline::telephony::Dialect;
use hotline::tools::simulator::{Caller, Waiting};
use serde_json::json;

use crate::helpers::{TestApp, TestDb};

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers().get(name).map_or("", |v| v.to_str().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_the_security_headers_and_every_html_page_a_policy_against_framing() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let operator = app.login_as(Role::Operator).await;
    let http = &app.http;

    // API responses of every kind: a success, refusals by extractors and by handlers, the
    // fallback, the document, a public one and the event stream.
    let api = [
        ("ok", http.get(app.url("/api/tickets")).bearer_auth(&operator)),
        ("no token", http.get(app.url("/api/auth/me"))),
        ("no such endpoint", http.get(app.url("/api/nothing"))),
        ("wrong method", http.delete(app.url("/api/auth/me"))),
        ("malformed body", http.post(app.url("/api/auth/login")).body("{").header("content-type", "application/json")),
        ("the document", http.get(app.url("/api/openapi.json"))),
        ("public", http.get(app.url("/api/public/faq"))),
        ("event stream", http.get(app.url("/api/events")).bearer_auth(&operator)),
    ];
    for (what, request) in api {
        let response = request.send().await.unwrap();
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{what}");
        assert_eq!(header(&response, "cache-control"), "no-store", "{what}: an API response is never stored");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer", "{what}");
    }

    // Outside the API too.
    for path in ["/healthz", "/metrics", "/console/app.js", "/nothing"] {
        let response = http.get(app.url(path)).send().await.unwrap();
        assert_eq!(header(&response, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&response, "referrer-policy"), "no-referrer", "{path}");
    }
    let script = http.get(app.url("/console/app.js")).send().await.unwrap();
    assert_eq!(header(&script, "cache-control"), "no-cache", "the console's files keep their revalidation");

    // Every HTML page: the console keeps its own policy; an acknowledgement page (here a forged
    // link's, which is a page too) gets one that forbids framing and running scripts.
    let console = http.get(app.url("/")).send().await.unwrap();
    let policy = header(&console, "content-security-policy");
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("default-src 'self'"), "{policy}");
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let page = http.request(method.clone(), app.url("/ack/eyJlIjoieCJ9.AAAA")).send().await.unwrap();
        assert!(header(&page, "content-type").starts_with("text/html"), "{method}");
        let policy = header(&page, "content-security-policy");
        assert!(policy.contains("frame-ancestors 'none'"), "{method} /ack/…: {policy:?}");
        assert!(policy.contains("default-src 'none'") && !policy.contains("script-src"), "{method}: {policy}");
        assert_eq!(header(&page, "x-content-type-options"), "nosniff");
        assert_eq!(header(&page, "referrer-policy"), "no-referrer", "the link's token must not leak");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_url_that_is_not_http_is_never_stored() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let operator = app.login_as(Role::Operator).await;
    for (i, url) in ["javascript:alert(document.domain)", "data:text/html,<script>alert(1)</script>"].iter().enumerate()
    {
        let mut caller = Caller::new(&app.base, Dialect::Twilio, &format!("+7910000070{i}"));
        caller.dial().await.unwrap();
        caller.press("5").await.unwrap();
        let record = caller.press("152150").await.unwrap();
        assert!(matches!(record.waiting, Waiting::Recording { .. }), "{record:?}");
        let done = caller.record(url, 42).await.unwrap();
        assert!(done.text().contains("Сообщение принято"), "the report is still taken: {}", done.text());
        let number = format!("10000{}", i + 1);
        let (_, ticket) = app.get(&format!("/api/tickets/{number}"), &operator).await;
        assert_eq!(ticket["category"], "theft", "{ticket}");
        assert_eq!(ticket["recording_url"], serde_json::Value::Null, "{url} was stored: {ticket}");
        assert_eq!(ticket["recording_duration_s"], 42, "the recording itself still counts");
    }
    // An https one is kept as it was.
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79100000709");
    caller.dial().await.unwrap();
    caller.press("5").await.unwrap();
    caller.press("152150").await.unwrap();
    caller.record("https://api.twilio.com/recordings/RE5.wav", 7).await.unwrap();
    let (_, ticket) = app.get("/api/tickets/100003", &operator).await;
    assert_eq!(ticket["recording_url"], json!("https://api.twilio.com/recordings/RE5.wav"), "{ticket}");
    app.stop().await;
}
