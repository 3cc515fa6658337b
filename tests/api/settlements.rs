//! Settlement lookup and CSV import over HTTP.

use hotline::auth::Role;

use crate::helpers::{TestApp, TestDb, status_and_json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_by_postcode_and_name_needs_no_login() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let get = |path: &str| app.http.get(app.url(path)).send();
    let (status, body) = status_and_json(get("/api/settlements?postcode=152610").await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(body["items"][0]["name"], "Углич");
    assert_eq!(body["items"][0]["type"], "город");
    let (_, body) =
        status_and_json(get("/api/settlements?q=%D0%B3%D0%B0%D0%B2%D1%80%D0%B8%D0%BB%D0%BE%D0%B2").await.unwrap())
            .await;
    assert_eq!(body["items"][0]["name"], "Гаврилов-Ям");
    let (_, body) = status_and_json(get("/api/settlements").await.unwrap()).await;
    assert_eq!(body["items"].as_array().unwrap().len(), 20, "the bundled list is loaded on first start");
    let (status, body) = status_and_json(get("/api/settlements?postcode=15").await.unwrap()).await;
    assert_eq!(status, 400, "{body}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_with_a_bad_row_imports_nothing_and_names_the_lines() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let admin = app.login_as(Role::Admin).await;
    let operator = app.login_as(Role::Operator).await;
    let upload = |token: &str, body: &'static str| {
        app.http
            .post(app.url("/api/settlements/import"))
            .bearer_auth(token)
            .header("content-type", "text/csv")
            .body(body)
            .send()
    };
    let bad = "name,type,district,postcode\nВеликое,село,Гаврилов-Ямский район,152250\nНовое,село,,15225\nУглич,город,Угличский район,abcdef\n";
    let (status, body) = status_and_json(upload(&admin, bad).await.unwrap()).await;
    assert_eq!(status, 422, "{body}");
    let lines: Vec<u64> =
        body["error"]["details"].as_array().unwrap().iter().map(|d| d["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![3, 4]);
    assert_eq!(app.store.count_settlements().await.unwrap(), 20, "nothing imported");

    let (status, _) = status_and_json(upload(&operator, bad).await.unwrap()).await;
    assert_eq!(status, 403);

    let good =
        "name,type,district,postcode\nВеликое,село,Гаврилов-Ямский район,152250\nУглич,город,Угличский район,152615\n";
    let (status, body) = status_and_json(upload(&admin, good).await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["imported"], 2);
    assert_eq!(app.store.count_settlements().await.unwrap(), 21, "Углич was updated, Великое added");
    app.stop().await;
}
