//! The internet reception's public side (SPEC §5, §7): every kind of report through the API and
//! the pages, the status an author sees with the operator's answer, offices, outages by name,
//! and the pages' Russian errors that change nothing.

use hotline::auth::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    every_kind_of_report_becomes_its_ticket_and_a_hazard_escalates_at_once,
    the_author_sees_the_status_and_the_answer_only_with_the_right_last_four_digits,
    guessing_the_last_four_digits_is_throttled,
    offices_and_outages_by_name_are_public,
    the_pages_take_reports_show_russian_errors_and_change_nothing_on_bad_input,
);

async fn appeal(app: &TestApp, body: Value) -> (u16, Value) {
    status_and_json(app.http.post(app.url("/api/public/appeals")).json(&body).send().await.unwrap()).await
}

async fn public_get(app: &TestApp, path: &str) -> (u16, Value) {
    status_and_json(app.http.get(app.url(path)).send().await.unwrap()).await
}

/// A form as a browser without JavaScript posts it: status, page.
async fn post_form(app: &TestApp, fields: &[(&str, &str)]) -> (u16, String) {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
    let response = app
        .http
        .post(app.url("/reception/report"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn ticket_count(app: &TestApp, token: &str) -> usize {
    let (status, page) = app.get("/api/tickets?limit=200", token).await;
    assert_eq!(status, 200, "{page}");
    page["items"].as_array().unwrap().len()
}

async fn every_kind_of_report_becomes_its_ticket_and_a_hazard_escalates_at_once(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let dispatcher = app.login_as(Role::Dispatcher).await;
    let ticket = |number: Value| {
        let app = &app;
        let token = dispatcher.clone();
        async move { app.get(&format!("/api/tickets/{}", number.as_str().unwrap()), &token).await.1 }
    };

    let (status, body) = appeal(
        &app,
        json!({"kind": "hazard", "text": "Оборван провод у дома 5", "postcode": "152610", "phone": "+79101110001"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let hazard = ticket(body["number"].clone()).await;
    assert_eq!((hazard["category"].as_str(), hazard["priority"].as_i64()), (Some("hazard"), Some(1)), "{hazard}");
    assert_eq!(hazard["status"], "escalated", "a hazard from the web escalates at once: {hazard}");
    assert_eq!(hazard["settlement"]["name"], "Углич");
    let (_, escalations) = app.get("/api/escalations", &dispatcher).await;
    assert!(escalations.as_array().unwrap().iter().any(|e| e["ticket_number"] == hazard["number"]), "{escalations}");

    let (status, body) =
        appeal(&app, json!({"kind": "no_power", "text": "Нет света на улице Мира", "postcode": "152610"})).await;
    assert_eq!(status, 201, "{body}");
    let outage = ticket(body["number"].clone()).await;
    assert_eq!(outage["category"], "outage");
    assert!(outage["incident_id"].is_string(), "grouped into the settlement's incident like a phone report: {outage}");

    let (status, body) = appeal(&app, json!({"kind": "theft", "text": "Сосед подключился в обход счётчика"})).await;
    assert_eq!(status, 201, "anonymous: {body}");
    assert_eq!(ticket(body["number"].clone()).await["category"], "theft");

    let (status, body) = appeal(
        &app,
        json!({"kind": "question", "text": "Когда плановые работы?", "name": "Анна", "email": "anna@example.ru"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let question = ticket(body["number"].clone()).await;
    assert!(question["description"].as_str().unwrap().ends_with("От: Анна, anna@example.ru"), "{question}");

    for (bad, field) in [
        (json!({"kind": "lightning", "text": "?"}), "kind"),
        (json!({"kind": "appeal", "text": "?", "postcode": "12"}), "postcode"),
        (json!({"kind": "appeal", "text": "?", "email": "нет"}), "email"),
        (json!({"kind": "appeal", "text": "?", "phone": "12"}), "phone"),
    ] {
        let (status, body) = appeal(&app, bad.clone()).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body["error"]["message"].as_str().unwrap().starts_with(&format!("{field}: ")), "{body}");
    }
    app.stop().await;
}

async fn the_author_sees_the_status_and_the_answer_only_with_the_right_last_four_digits(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let operator = app.login_as(Role::Operator).await;
    let (_, body) =
        appeal(&app, json!({"kind": "appeal", "text": "Прошу заменить опору", "phone": "+79105554567"})).await;
    let number = body["number"].as_str().unwrap().to_string();

    let (status, found) = public_get(&app, &format!("/api/public/appeals/{number}?phone_last4=4567")).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["number"], number.as_str());
    assert_eq!(found["status"], "queued");
    assert_eq!(found["status_text"], "Зарегистрировано, ожидает рассмотрения");
    assert!(found["updated_at"].is_string() && found["answer"].is_null(), "{found}");

    for wrong in
        [format!("{number}?phone_last4=4568"), "999999?phone_last4=4567".to_string(), "abc?phone_last4=4567".into()]
    {
        let (status, body) = public_get(&app, &format!("/api/public/appeals/{wrong}")).await;
        assert_eq!(status, 404, "{wrong}: {body}");
    }
    for malformed in ["", "?phone_last4=45", "?phone_last4=45a7"] {
        let (status, body) = public_get(&app, &format!("/api/public/appeals/{number}{malformed}")).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_query")), "{malformed}: {body}");
    }

    // An ordinary note stays inside; the one marked as the answer is what the author reads.
    let (status, _) =
        app.post(&format!("/api/tickets/{number}/notes"), &operator, json!({"text": "позвонить в РЭС"})).await;
    assert_eq!(status, 201);
    let (_, found) = public_get(&app, &format!("/api/public/appeals/{number}?phone_last4=4567")).await;
    assert!(found["answer"].is_null(), "{found}");
    let answer = "Опору заменят до 15 числа.";
    let (status, note) =
        app.post(&format!("/api/tickets/{number}/notes"), &operator, json!({"text": answer, "answer": true})).await;
    assert_eq!((status, note["answer"].as_bool()), (201, Some(true)), "{note}");
    let (_, found) = public_get(&app, &format!("/api/public/appeals/{number}?phone_last4=4567")).await;
    assert_eq!(found["answer"], answer);

    // The page shows the same, escaped.
    let page = app
        .http
        .get(app.url(&format!("/reception/status?number={number}&phone_last4=4567")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(answer) && page.contains("Зарегистрировано, ожидает рассмотрения"), "{page}");
    let response =
        app.http.get(app.url(&format!("/reception/status?number={number}&phone_last4=12"))).send().await.unwrap();
    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("Введите последние четыре цифры телефона"));
    app.stop().await;
}

/// Four digits are ten thousand guesses: after ten wrong ones an hour even the right digits wait,
/// on the API and on the page alike, and the author gets in again once the hour has passed.
async fn guessing_the_last_four_digits_is_throttled(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (_, body) =
        appeal(&app, json!({"kind": "question", "text": "Когда дадут свет?", "phone": "+79105554567"})).await;
    let number = body["number"].as_str().unwrap().to_string();
    for guess in 0..10 {
        let path = format!("/api/public/appeals/{number}?phone_last4={:04}", 1000 + guess);
        assert_eq!(public_get(&app, &path).await.0, 404, "{path}");
    }
    let right = format!("/api/public/appeals/{number}?phone_last4=4567");
    let response = app.http.get(app.url(&right)).send().await.unwrap();
    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["message"].as_str().unwrap().starts_with("Слишком много неудачных попыток"), "{body}");
    let page =
        app.http.get(app.url(&format!("/reception/status?number={number}&phone_last4=4567"))).send().await.unwrap();
    assert_eq!(page.status(), 422);
    assert!(page.text().await.unwrap().contains("Слишком много неудачных попыток"));

    app.execute("UPDATE login_failures SET at = at - 3600001").await;
    let (status, found) = public_get(&app, &right).await;
    assert_eq!((status, found["number"].as_str()), (200, Some(number.as_str())), "{found}");
    app.stop().await;
}

async fn offices_and_outages_by_name_are_public(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let (status, offices) = public_get(&app, "/api/public/offices").await;
    assert_eq!(status, 200);
    let first = &offices[0];
    assert!(first["address"].as_str().unwrap().contains("Ярославль"), "{first}");
    assert!(first["phones"][0].is_string() && first["hours"][0].is_string(), "{first}");

    let (status, found) = public_get(&app, "/api/public/outages?q=%D1%83%D0%B3%D0%BB%D0%B8%D1%87").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found[0]["settlement"]["name"], "Углич", "found by a lower-case part of the name: {found}");
    let (status, found) = public_get(&app, "/api/public/outages?q=152610").await;
    assert_eq!((status, found[0]["settlement"]["name"].as_str()), (200, Some("Углич")));
    for bad in ["/api/public/outages", "/api/public/outages?q=x", "/api/public/outages?postcode=15261"] {
        let (status, body) = public_get(&app, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    app.stop().await;
}

async fn the_pages_take_reports_show_russian_errors_and_change_nothing_on_bad_input(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let operator = app.login_as(Role::Operator).await;

    let response = app.http.get(app.url("/reception/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let policy = response.headers()["content-security-policy"].to_str().unwrap().to_string();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let page = response.text().await.unwrap();
    assert!(page.contains(r#"<html lang="ru">"#) && page.matches("<h1").count() == 1);
    for section in ["outages", "report", "status", "faq", "connection", "offices", "theft", "territory", "regulations"]
    {
        assert!(page.contains(&format!(r#"id="{section}""#)), "section {section}");
    }
    assert!(page.contains("8-800-50-50-115") && page.contains("ПП РФ № 861"));

    // A hostile search is shown as text.
    let page = app.http.get(app.url("/reception/?q=%3Cscript%3Ex")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("«&lt;script&gt;x» не найден") && !page.contains("<script>"), "{page}");

    let before = ticket_count(&app, &operator).await;
    let (status, page) = post_form(&app, &[("kind", ""), ("text", "  "), ("phone", "12345"), ("email", "нет")]).await;
    assert_eq!(status, 422);
    for message in [
        "Выберите, о чём вы сообщаете",
        "Опишите, что случилось",
        "Укажите номер телефона полностью",
        "name@example.ru",
    ] {
        assert!(page.contains(message), "{message} in {page}");
    }
    assert!(page.contains(r#"value="12345""#), "what was typed is kept");
    assert_eq!(ticket_count(&app, &operator).await, before, "bad input changes nothing");

    let (status, page) = post_form(
        &app,
        &[
            ("kind", "hazard"),
            ("text", "Искрит провод"),
            ("place", "Углич"),
            ("address", "ул. Ленина, 3"),
            ("phone", ""),
        ],
    )
    .await;
    assert_eq!(status, 201, "{page}");
    assert!(page.contains("Обращение принято") && page.contains("передано дежурному диспетчеру"), "{page}");
    let number = page.split(r#"id="ticket-number">"#).nth(1).unwrap().split('<').next().unwrap();
    let (_, hazard) = app.get(&format!("/api/tickets/{number}"), &operator).await;
    assert_eq!((hazard["status"].as_str(), hazard["channel"].as_str()), (Some("escalated"), Some("web")), "{hazard}");
    assert_eq!(hazard["settlement"]["name"], "Углич");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_limit_the_page_answers_429_in_russian() {
    let app = TestApp::spawn_with(TestDb::sqlite().await, &[("HOTLINE_TRUSTED_PROXIES", "127.0.0.1")]).await;
    for i in 0..3 {
        let (status, page) =
            post_form(&app, &[("kind", "question"), ("text", &format!("Вопрос {i}")), ("phone", "+79101234567")]).await;
        assert_eq!(status, 201, "{page}");
    }
    let (status, page) = post_form(&app, &[("kind", "question"), ("text", "Ещё"), ("phone", "+79101234567")]).await;
    assert_eq!(status, 429);
    assert!(page.contains("Слишком много обращений с этим номером телефона") && page.contains("112"), "{page}");
    app.stop().await;
}

#[tokio::test]
async fn hotline_check_refuses_reception_texts_with_unknown_keys_or_other_links() {
    let scripts = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-scripts");
    let dir = tempfile::tempdir().unwrap();
    for from in [scripts.clone(), scripts.join("reception")] {
        let to = dir.path().join(from.strip_prefix(&scripts).unwrap());
        std::fs::create_dir_all(&to).unwrap();
        for entry in std::fs::read_dir(&from).unwrap().flatten().filter(|e| e.path().is_file()) {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
    let reception = dir.path().join("reception");
    let regulations = std::fs::read_to_string(reception.join("regulations.toml")).unwrap();
    std::fs::write(reception.join("regulations.toml"), regulations.replacen("url = \"https://", "url = \"ftp://", 1))
        .unwrap();
    let check = || async {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
            .args(["check", dir.path().to_str().unwrap()])
            .output()
            .await
            .unwrap();
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let (code, stdout) = check().await;
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("regulations.toml: link") && stdout.contains("http:// or https://"), "{stdout}");
    std::fs::write(reception.join("faq.toml"), "[[item]]\nquestion = \"?\"\nanswer = \"!\"\nsee_also = \"x\"\n")
        .unwrap();
    let (code, stdout) = check().await;
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("faq.toml: unknown field `see_also`"), "{stdout}");
}
