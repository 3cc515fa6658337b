//! What a browser, a cache or a link must never get unguarded (SPEC §6): the security headers on
//! every response, and recording links that are only ever http(s).

use hotline::auth::Role;

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
