//! The OpenAPI document: served without a login, and listing exactly the routes the code has.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::helpers::{TestApp, TestDb};

/// The method functions of `axum::routing` a route can be built from.
const METHODS: &[&str] = &["get", "post", "put", "patch", "delete", "head", "options", "trace"];

/// `(METHOD, path)` pairs, e.g. `("GET", "/api/tickets")`.
type Routes = BTreeSet<(String, String)>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_every_route_of_the_code_and_nothing_else() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let response = app.http.get(app.url("/api/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200, "the document needs no login");
    let content_type = response.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("application/json"), "content type {content_type}");
    let doc: Value = serde_json::from_str(&response.text().await.unwrap()).expect("the document is JSON");

    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "openapi version {version:?}");
    let paths = doc["paths"].as_object().expect("the document has paths");
    assert!(!paths.contains_key("/api/nothing"), "a path no route serves is listed");

    let documented: Routes = paths
        .iter()
        .flat_map(|(path, item)| {
            let methods = item.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
            methods.into_iter().filter(|m| METHODS.contains(&m.as_str())).map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let served = routes_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    // Guards the scanner itself: reading nothing would make the comparison below vacuous.
    assert!(served.contains(&("GET".into(), "/healthz".into())), "the scan found: {served:?}");
    assert!(served.contains(&("POST".into(), "/api/tickets".into())), "the scan found: {served:?}");

    let missing: Vec<String> = served.difference(&documented).map(|(m, p)| format!("{m} {p}")).collect();
    assert!(
        missing.is_empty(),
        "routes without documentation (add #[utoipa::path] and list them in ApiDoc): {missing:?}"
    );
    let stale: Vec<String> = documented.difference(&served).map(|(m, p)| format!("{m} {p}")).collect();
    assert!(stale.is_empty(), "documented routes the code does not serve: {stale:?}");
    app.stop().await;
}

/// Issue 17: operations answer 400/413/415/422 from their extractors before a handler runs, and
/// the text fields of request bodies have length limits; the document says so for every one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_every_refusal_an_operation_can_give_and_every_text_limit() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let doc: Value = app.http.get(app.url("/api/openapi.json")).send().await.unwrap().json().await.unwrap();
    let schema_of = |schema: &Value| -> Value {
        match schema["$ref"].as_str() {
            Some(reference) => {
                let name = reference.trim_start_matches("#/components/schemas/");
                doc["components"]["schemas"][name].clone()
            }
            None => schema.clone(),
        }
    };
    let mut problems = Vec::new();
    let mut json_bodies = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let mut expect = |status: &str, why: &str| {
                if !responses.contains_key(status) {
                    problems.push(format!("{method} {path}: no {status} ({why})"));
                }
            };
            let parameters = operation["parameters"].as_array().into_iter().flatten();
            if parameters.clone().any(|p| p["in"] == "path" || p["in"] == "query") {
                expect("400", "a path or query parameter that does not parse");
            }
            let Some(body) = operation["requestBody"]["content"].get("application/json") else { continue };
            if !path.starts_with("/api/") {
                continue;
            }
            json_bodies += 1;
            for (status, why) in
                [("400", "malformed JSON"), ("413", "over 64 KiB"), ("415", "not JSON"), ("422", "wrong fields")]
            {
                expect(status, why);
            }
            let schema = schema_of(&body["schema"]);
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                let types = match &property["type"] {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => Vec::new(),
                };
                let text = types.contains(&"string") && property.get("enum").is_none();
                if text && !property["maxLength"].is_u64() {
                    problems.push(format!("{method} {path}: the text field `{name}` has no maxLength"));
                }
            }
        }
    }
    assert!(json_bodies >= 15, "the walk found only {json_bodies} JSON bodies");
    assert!(problems.is_empty(), "the document is incomplete:\n{}", problems.join("\n"));
    let login = &doc["paths"]["/api/auth/login"]["post"]["responses"];
    assert!(login["429"]["headers"]["Retry-After"].is_object(), "login throttling: {login}");
    app.stop().await;
}

/// The scanner on the forms the code uses, so a change to it that reads nothing is caught here
/// rather than passing the comparison above by accident.
#[test]
fn the_route_scanner_reads_chained_methods_and_skips_comments() {
    let source = r#"
        Router::new()
            .route("/a", get(list).post(create))
            // .route("/commented", get(nothing))
            .route(
                "/b/{id}",
                patch(update).layer(DefaultBodyLimit::max(limit("x)"))),
            )
            .route("/c", axum::routing::delete(remove))
    "#;
    let found = routes_in_text(source, "sample.rs");
    let expected: Routes = [("GET", "/a"), ("POST", "/a"), ("PATCH", "/b/{id}"), ("DELETE", "/c")]
        .into_iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(found, expected);
}

/// Every `.route("PATH", …)` call in the `.rs` files under `dir`, with the method functions
/// chained in its second argument (`get(list).post(create)` gives GET and POST).
fn routes_in(dir: &Path) -> Routes {
    let mut routes = Routes::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            routes.extend(routes_in(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            routes.extend(routes_in_text(&text, &path.display().to_string()));
        }
    }
    routes
}

fn routes_in_text(text: &str, file: &str) -> Routes {
    // Whole-line comments may show example routes; they serve nothing.
    let code: String =
        text.lines().filter(|line| !line.trim_start().starts_with("//")).map(|line| format!("{line}\n")).collect();
    for unreadable in [".nest(", ".nest_service(", ".route_service("] {
        assert!(!code.contains(unreadable), "{file} uses {unreadable}…): teach this test to read it");
    }
    let mut routes = Routes::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find(".route(") {
        rest = rest[at + ".route(".len()..].trim_start();
        let path =
            rest.strip_prefix('"').and_then(|r| r.split_once('"')).map(|(path, _)| path.to_string()).unwrap_or_else(
                || panic!("{file}: a .route( whose path is not a string literal: teach this test to read it"),
            );
        rest = &rest[path.len() + 2..];
        let (handler, after) = first_argument_rest(rest);
        let methods = method_calls(handler);
        assert!(!methods.is_empty(), "{file}: cannot tell the methods of route {path} from `{handler}`");
        routes.extend(methods.into_iter().map(|m| (m.to_uppercase(), path.clone())));
        rest = after;
    }
    routes
}

/// Splits what follows a route's path at the `)` that closes the `.route(` call, skipping string
/// literals and nested parentheses.
fn first_argument_rest(text: &str) -> (&str, &str) {
    let mut depth = 1;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match (in_string, c) {
            (true, _) if escaped => escaped = false,
            (true, '\\') => escaped = true,
            (true, '"') => in_string = false,
            (true, _) => {}
            (false, '"') => in_string = true,
            (false, '(') => depth += 1,
            (false, ')') => {
                depth -= 1;
                if depth == 0 {
                    return (&text[..i], &text[i + 1..]);
                }
            }
            (false, _) => {}
        }
    }
    panic!("a .route( call is not closed: {text}")
}

/// The method functions called in a method-router expression, in order.
fn method_calls(expr: &str) -> Vec<&'static str> {
    let mut found = Vec::new();
    let mut word_start = None;
    for (i, c) in expr.char_indices() {
        let is_word = c.is_alphanumeric() || c == '_';
        match (word_start, is_word) {
            (None, true) => word_start = Some(i),
            (Some(start), false) => {
                if c == '(' {
                    if let Some(method) = METHODS.iter().find(|m| **m == &expr[start..i]) {
                        found.push(*method);
                    }
                }
                word_start = None;
            }
            _ => {}
        }
    }
    found
}
