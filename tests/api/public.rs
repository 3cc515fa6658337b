//! The internet reception's public side (SPEC §5, §7): every kind of report through the API and
//! the pages, the status an author sees with the operator's answer, offices, outages by name,
//! a connection application's status by number, the sample applications to print or download,
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
    a_connection_applications_status_is_shown_by_number_and_a_bad_number_is_explained_and_looks_nothing_up,
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

/// A page: status, headers, body.
async fn page(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = app.http.get(app.url(path)).send().await.unwrap();
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, response.text().await.unwrap())
}

/// What the IVR's menu 4 tells by phone, the page tells by number: the status as staff wrote it
/// and the day it changed, never who applied. Unknown numbers say what to do and count against
/// the client like wrong appeal lookups; a malformed number is explained and looks nothing up.
async fn a_connection_applications_status_is_shown_by_number_and_a_bad_number_is_explained_and_looks_nothing_up(
    db: TestDb,
) {
    let app = TestApp::spawn(db).await;
    let admin = app.login_as(Role::Admin).await;
    let csv = "number,applicant,status,updated_at\n\
               20261234,Иванов Иван Иванович,технические условия и счёт направлены в личный кабинет,2026-11-20T10:00\n\
               20265678,Петрова А. С.,<b>исполнена</b> & акт подписан,2026-03-01T09:00\n";
    assert_eq!(app.post_csv("/api/connection-applications/import", &admin, csv).await.0, 200);

    for path in ["/reception/connection", "/reception/"] {
        let (status, _, body) = page(&app, path).await;
        assert_eq!(status, 200, "{path}");
        assert!(body.contains(r#"<form method="get" action="/reception/connection/status""#), "{path}: {body}");
        assert!(body.contains(r#"<label for="application-number">Номер заявки</label>"#), "{path}");
    }

    let (status, _, body) = page(&app, "/reception/connection/status?number=+20261234+").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("технические условия и счёт направлены в личный кабинет"), "{body}");
    assert!(body.contains(r#"<span id="application-updated">20 ноября 2026 г.</span>"#), "{body}");
    assert!(!body.contains("Иванов"), "the page never names the applicant: {body}");
    let (status, _, body) = page(&app, "/reception/connection/status?number=20265678").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("&lt;b&gt;исполнена&lt;/b&gt; &amp; акт подписан") && body.contains("1 марта 2026 г."),
        "{body}"
    );

    let (status, _, body) = page(&app, "/reception/connection/status?number=999").await;
    assert_eq!(status, 404, "{body}");
    for advice in ["Заявка с таким номером не найдена", "Проверьте номер", "8-800-50-50-115", "ЦОК"]
    {
        assert!(body.contains(advice), "{advice} in {body}");
    }

    // Malformed numbers, more than the limit of them: each explained at the field, none counted.
    let too_long = "7".repeat(33);
    for (bad, message) in [
        ("", "Введите номер заявки"),
        ("%D0%B0%D0%B1%D0%B2", "Номер заявки состоит только из цифр"),
        ("2026-1234", "Номер заявки состоит только из цифр"),
        (too_long.as_str(), "Номер заявки не длиннее 20 цифр"),
    ] {
        for _ in 0..3 {
            let (status, _, body) = page(&app, &format!("/reception/connection/status?number={bad}")).await;
            assert_eq!(status, 422, "{bad}: {body}");
            assert!(
                body.contains(&format!(r#"<p class="error" id="application-number-error">{message}"#)),
                "{bad}: {body}"
            );
            assert!(body.contains(r#"aria-invalid="true""#) && !body.contains("application-status-text"), "{body}");
        }
    }
    // The unknown 999 above and eight more are nine wrong numbers: a right one still answers…
    for unknown in 1..=8 {
        assert_eq!(page(&app, &format!("/reception/connection/status?number={unknown}")).await.0, 404);
    }
    assert_eq!(page(&app, "/reception/connection/status?number=20261234").await.0, 200);
    // …the tenth wrong one closes the door for an hour, to the right number too.
    assert_eq!(page(&app, "/reception/connection/status?number=10").await.0, 404);
    let (status, headers, body) = page(&app, "/reception/connection/status?number=20261234").await;
    assert_eq!(status, 429, "{body}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=3600).contains(&retry_after), "{retry_after}");
    assert!(body.contains("Слишком много запросов с неверным номером заявки"), "{body}");
    app.execute("UPDATE login_failures SET at = at - 3600001").await;
    assert_eq!(page(&app, "/reception/connection/status?number=20261234").await.0, 200);
    app.stop().await;
}

/// Each sample: a printable page whose print style sheet leaves the site out, and the same
/// document as a file to save, both under the pages' policy; an unknown one is a Russian 404.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn samples_print_and_download_as_the_same_document_and_an_unknown_one_is_a_russian_404() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let (_, front_headers, _) = page(&app, "/reception/").await;
    let policy = front_headers["content-security-policy"].clone();
    let (status, _, connection) = page(&app, "/reception/connection").await;
    assert_eq!(status, 200);
    let document = |body: &str| -> String {
        let start = body.find(r#"<article class="sample""#).expect("the document");
        body[start..start + body[start..].find("</article>").unwrap()].to_string()
    };
    for (slug, needed) in [
        (
            "zayavka-do-15-kvt",
            &[
                "Фамилия, имя, отчество",
                "Паспортные данные",
                "Кадастровый номер земельного участка",
                "Максимальная мощность",
                "III (третья)",
                "0,4 кВ",
                "Способ получения документов",
                "План расположения энергопринимающих устройств",
                "Подпись заявителя",
                "Дата подачи",
            ][..],
        ),
        (
            "vosstanovlenie-dokumentov",
            &["акт о технологическом присоединении", "сменился собственник", "Подпись заявителя"][..],
        ),
    ] {
        let print = format!("/reception/connection/samples/{slug}");
        let download = format!("{print}?download=1");
        assert!(connection.contains(&format!(r#"<a href="{print}" aria-describedby"#)), "{slug}: «Открыть для печати»");
        assert!(connection.contains(&format!(r#"<a href="{download}" download="{slug}.html""#)), "{slug}: «Скачать»");

        let (status, headers, body) = page(&app, &print).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(headers["content-security-policy"], policy);
        assert!(headers.get("content-disposition").is_none());
        assert!(body.contains("<nav") && body.contains(r#"class="noprint sample-tools""#), "{body}");
        for text in needed {
            assert!(body.contains(text), "{slug}: {text}");
        }
        assert!(body.matches(r#"<span class="blank" aria-hidden="true">"#).count() >= 5, "{slug}: lines to fill in");

        let (status, headers, file) = page(&app, &download).await;
        assert_eq!(status, 200);
        assert_eq!(headers["content-disposition"], format!(r#"attachment; filename="{slug}.html""#).as_str());
        assert_eq!(headers["content-security-policy"], policy, "still the pages' policy");
        assert!(headers["content-type"].to_str().unwrap().starts_with("text/html"));
        assert_eq!(document(&file), document(&body), "{slug}: the file is the page's document");
        assert!(file.contains(r#"<html lang="ru">"#) && file.contains("@media print") && !file.contains("<nav"));
    }
    let (_, _, style) = page(&app, "/reception/reception.css").await;
    let print = &style[style.find("@media print").expect("a print style sheet")..];
    assert!(print.contains("header.top, nav, footer, .noprint { display: none"), "{print}");

    for unknown in
        ["/reception/connection/samples/net-takogo", "/reception/connection/samples/%D0%B1%D0%BB%D0%B0%D0%BD%D0%BA"]
    {
        let (status, headers, body) = page(&app, unknown).await;
        assert_eq!(status, 404, "{unknown}");
        assert_eq!(headers["content-security-policy"], policy);
        assert!(body.contains(r#"<html lang="ru">"#) && body.contains("Образец не найден"), "{body}");
    }
    assert_eq!(page(&app, "/reception/connection/samples/zayavka-do-15-kvt?download=da").await.0, 400);
    app.stop().await;
}

/// A screen reader lists a page by its headings: one h1, and none deeper than one below the
/// heading before it (axe-core's heading-order found the report page going from h1 to h3).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reception_pages_headings_go_down_one_level_at_a_time() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    for path in [
        "/reception/",
        "/reception/?q=x",
        "/reception/report",
        "/reception/status?number=1&phone_last4=1234",
        "/reception/connection",
        "/reception/connection/status?number=1",
        "/reception/connection/samples/zayavka-do-15-kvt",
        "/reception/connection/samples/vosstanovlenie-dokumentov",
        "/reception/connection/samples/net-takogo",
    ] {
        let (_, _, body) = page(&app, path).await;
        let levels: Vec<u8> = body
            .split("<h")
            .skip(1)
            .filter_map(|rest| rest.bytes().next()?.checked_sub(b'0'))
            .filter(|l| (1..=6).contains(l))
            .collect();
        assert_eq!(levels.iter().filter(|l| **l == 1).count(), 1, "{path}: one h1 in {levels:?}");
        assert_eq!(levels.first(), Some(&1), "{path}: {levels:?}");
        for pair in levels.windows(2) {
            assert!(pair[1] <= pair[0] + 1, "{path}: h{} after h{} in {levels:?}", pair[1], pair[0]);
        }
    }
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
    // A file that parses is checked further only once every file parses.
    std::fs::copy(scripts.join("reception/faq.toml"), reception.join("faq.toml")).unwrap();
    let samples = std::fs::read_to_string(reception.join("samples.toml")).unwrap();
    std::fs::write(
        reception.join("samples.toml"),
        samples.replacen("slug = \"zayavka-do-15-kvt\"", "slug = \"../заявка\"", 1),
    )
    .unwrap();
    let (code, stdout) = check().await;
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("samples.toml: sample '../заявка': the slug must be"), "{stdout}");
}
