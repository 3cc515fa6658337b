//! The hotline's menus end to end through the webhooks: what callers phone for (SPEC §4).

use hotline::auth::Role;
use hotline::outages::spoken_until;
use hotline::telephony::Dialect;
use hotline::tools::simulator::{Caller, Waiting};
use serde_json::json;

use crate::helpers::{TestApp, TestDb, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    no_power_callers_hear_what_is_known_and_reports_group_into_one_incident,
    planned_outages_for_the_next_seven_days_are_read_out_or_none_is_said,
    storm_mode_changes_the_greeting_and_offers_non_hazard_callers_a_call_back,
    the_internet_reception_takes_appeals_and_shows_outages,
);

fn hour_from_now(hours: i64) -> jiff::Timestamp {
    let now = jiff::Timestamp::now();
    let next_hour = now.as_second() - now.as_second().rem_euclid(3600) + 3600;
    jiff::Timestamp::from_second(next_hour + (hours - 1) * 3600).unwrap()
}

async fn supervisor_adds_planned(
    app: &TestApp,
    token: &str,
    settlement_id: i64,
    from: jiff::Timestamp,
    to: jiff::Timestamp,
    streets: &str,
) {
    let (status, body) = app
        .post(
            "/api/planned-outages",
            token,
            json!({"settlement_id": settlement_id, "starts_at": from.to_string(), "ends_at": to.to_string(), "streets": streets, "reason": "ремонт"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
}

async fn call_no_power(app: &TestApp, from: &str, postcode: &str) -> (Caller, String) {
    let mut caller = Caller::new(&app.base, Dialect::Twilio, from);
    caller.dial().await.unwrap();
    caller.press("2").await.unwrap();
    let heard = caller.press(postcode).await.unwrap();
    (caller, heard.text())
}

async fn no_power_callers_hear_what_is_known_and_reports_group_into_one_incident(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let dispatcher = app.login_as(Role::Dispatcher).await;
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();

    // A planned outage in force in Ростов: the caller hears when power returns.
    let ends = hour_from_now(3);
    supervisor_adds_planned(&app, &supervisor, 5, hour_from_now(-2), ends, "ул. Фрунзе").await;
    let (_, heard) = call_no_power(&app, "+79100000001", "152150").await;
    let until = spoken_until(ends.into(), jiff::Timestamp::now().into(), &tz);
    assert!(heard.contains("плановое отключение") && heard.contains(&until), "{heard} / {until}");

    // Nothing known in Углич: ten callers report, one incident holds ten tickets. Until a
    // dispatcher confirms it, later callers hear of reports, not of an accident.
    for i in 0..10 {
        let (mut caller, heard) = call_no_power(&app, &format!("+7910000010{i}"), "152610").await;
        let expected =
            if i == 0 { "Сведений об отключении нет" } else { "уже сообщили" };
        assert!(heard.contains(expected), "caller {i}: {heard}");
        assert!(i > 0 || heard.contains("включён ли вводный автомат"), "{heard}");
        assert!(!heard.contains("авари"), "caller {i}: unconfirmed reports are no accident: {heard}");
        let done = caller.press("1").await.unwrap();
        assert!(done.text().contains("Заявка принята"), "{}", done.text());
    }
    let (_, incidents) = app.get("/api/incidents", &dispatcher).await;
    let incidents = incidents["items"].as_array().unwrap();
    assert_eq!(incidents.len(), 1, "{incidents:?}");
    assert_eq!(incidents[0]["reports"], 10);
    assert_eq!(incidents[0]["settlement"]["name"], "Углич");
    let operator = app.login_as(Role::Operator).await;
    let (_, tickets) = app.get("/api/tickets?category=outage&settlement_id=6&limit=50", &operator).await;
    let tickets = tickets["items"].as_array().unwrap();
    assert_eq!(tickets.len(), 10);
    assert!(tickets.iter().all(|t| t["incident_id"] == incidents[0]["id"]));

    // The dispatcher sets an ETR: the next caller hears it.
    let etr = hour_from_now(4);
    let id = incidents[0]["id"].as_str().unwrap();
    let response = app
        .http
        .patch(app.url(&format!("/api/incidents/{id}")))
        .bearer_auth(&dispatcher)
        .json(&json!({"status": "in_progress", "etr": etr.to_string()}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200, "{body}");
    let (_, heard) = call_no_power(&app, "+79100000200", "152610").await;
    let until = spoken_until(etr.into(), jiff::Timestamp::now().into(), &tz);
    assert!(heard.contains("авария") && heard.contains(&format!("восстановят {until}")), "{heard} / {until}");
    let response = app
        .http
        .patch(app.url(&format!("/api/incidents/{id}")))
        .bearer_auth(&operator)
        .json(&json!({"status": "resolved"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403, "incidents are the dispatchers'");
    app.stop().await;
}

async fn planned_outages_for_the_next_seven_days_are_read_out_or_none_is_said(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let (first_from, first_to) = (hour_from_now(24), hour_from_now(30));
    let (second_from, second_to) = (hour_from_now(72), hour_from_now(75));
    supervisor_adds_planned(&app, &supervisor, 7, first_from, first_to, "ул. Кирова, д. 12").await;
    supervisor_adds_planned(&app, &supervisor, 7, second_from, second_to, "ул. Советская").await;
    supervisor_adds_planned(&app, &supervisor, 7, hour_from_now(24 * 9), hour_from_now(24 * 9 + 2), "потом").await;
    for dialect in [Dialect::Twilio, Dialect::Jambonz] {
        let mut caller = Caller::new(&app.base, dialect, "+79100000300");
        caller.dial().await.unwrap();
        caller.press("3").await.unwrap();
        let check = caller.say("Гаврилов Ям").await.unwrap().text();
        assert!(check.starts_with("Гаврилов-Ям, верно? Да — нажмите 1"), "a heard name is confirmed: {check}");
        let heard = caller.press("1").await.unwrap().text();
        let window = |a: jiff::Timestamp, b: jiff::Timestamp| {
            hotline::outages::spoken_window(a.into(), b.into(), jiff::Timestamp::now().into(), &tz)
        };
        let first = format!("{}, улица Кирова, дом двенадцать", window(first_from, first_to));
        assert!(heard.contains(&first), "{heard} / {first}");
        assert!(heard.contains(&window(second_from, second_to)) && heard.contains("улица Советская"), "{heard}");
        assert!(!heard.as_bytes().windows(2).any(|w| w.iter().all(u8::is_ascii_digit)), "numbers in words: {heard}");
        assert!(!heard.contains("потом"), "beyond seven days is not read: {heard}");
        let again = caller.press("1").await.unwrap().text();
        assert!(again.contains("улица Кирова"), "1 repeats: {again}");
        assert!(caller.press("9").await.unwrap().text().contains("Нет света — 2"), "9 is the main menu");
    }
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79100000301");
    caller.dial().await.unwrap();
    caller.press("3").await.unwrap();
    let heard = caller.press("152610").await.unwrap().text();
    assert!(heard.contains("ближайшие семь дней плановых отключений нет"), "{heard}");

    // A schedule's own terms: the postcode, and the name where the postcode is not enough.
    let (from, to) = (hour_from_now(24 * 10).to_string(), hour_from_now(24 * 10 + 4).to_string());
    for (by, expected) in [
        (json!({"postcode": "152150", "settlement": "ростов"}), 201),
        (json!({"postcode": " 152150 "}), 201),
        (json!({"postcode": "152150", "settlement": "Углич"}), 422),
        (json!({"postcode": "999999"}), 422),
        (json!({}), 422),
    ] {
        let mut body = json!({"starts_at": from, "ends_at": to, "reason": "ремонт линии"});
        body.as_object_mut().unwrap().extend(by.as_object().unwrap().clone());
        let (status, answer) = app.post("/api/planned-outages", &supervisor, body).await;
        assert_eq!(status, expected, "{by}: {answer}");
        if status == 201 {
            assert_eq!(
                (answer["postcode"].as_str(), answer["settlement"]["name"].as_str()),
                (Some("152150"), Some("Ростов"))
            );
        } else {
            assert!(answer["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{answer}");
        }
    }
    let (_, listed) = app.get("/api/planned-outages?postcode=152150", &supervisor).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2), "{listed}");

    let bad =
        "postcode,settlement,starts_at,ends_at,streets,reason\n152610,Углич,2026-12-01T09:00,2026-12-01T08:00,,\n";
    let (status, body) = app.post_csv("/api/planned-outages/import", &supervisor, bad).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["details"][0]["line"], 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlements_are_found_by_speech_and_nonsense_is_asked_again() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    for (said, expected) in [("ростов великий", "Ростов"), ("Гаврилов Ям", "Гаврилов-Ям"), ("углич", "Углич")]
    {
        let mut caller = Caller::new(&app.base, Dialect::Jambonz, "+79100000400");
        caller.dial().await.unwrap();
        caller.press("2").await.unwrap();
        let heard = caller.say(said).await.unwrap().text();
        assert!(heard.starts_with(&format!("{expected}, верно?")), "{said}: {heard}");
        let status = caller.press("1").await.unwrap().text();
        assert!(status.contains("Сведений об отключении нет"), "{said}: {status}");
    }
    // A name heard wrong is not used: «2» asks again.
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79100000402");
    caller.dial().await.unwrap();
    caller.press("2").await.unwrap();
    caller.say("ростово").await.unwrap();
    let asked = caller.press("2").await.unwrap();
    assert!(asked.text().contains("Назовите его ещё раз"), "{}", asked.text());
    let confirmed = caller.press("152610").await.unwrap().text();
    assert!(confirmed.starts_with("Углич."), "{confirmed}");

    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79100000401");
    caller.dial().await.unwrap();
    caller.press("2").await.unwrap();
    let again = caller.say("абракадабра").await.unwrap();
    assert!(again.text().contains("Не нашла такой населённый пункт"), "{}", again.text());
    assert!(matches!(again.waiting, Waiting::Input { speech: true, .. }));
    let operator = caller.say("тарабарщина").await.unwrap();
    assert!(operator.text().contains("Вам поможет оператор"), "{}", operator.text());
    let tickets = app.get("/api/tickets", &app.login_as(Role::Operator).await).await.1;
    assert_eq!(tickets["items"].as_array().map(Vec::len), Some(0), "no guess made into a ticket: {tickets}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_status_by_number_and_an_unknown_number_offers_the_operator() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let admin = app.login_as(Role::Admin).await;
    let csv = "number,applicant,status,updated_at\n20261234,Иванов И. И.,договор направлен в личный кабинет,2026-11-20T10:00\n";
    assert_eq!(app.post_csv("/api/connection-applications/import", &admin, csv).await.0, 200);
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79100000500");
    caller.dial().await.unwrap();
    caller.press("4").await.unwrap();
    caller.press("3").await.unwrap();
    let heard = caller.press("20261234#").await.unwrap().text();
    assert!(
        heard.contains(
            "Заявка номер 2 0 2 6 1 2 3 4: договор направлен в личный кабинет. Статус обновлён двадцатого ноября."
        ),
        "{heard}"
    );
    caller.press("3").await.unwrap();
    let unknown = caller.press("999#").await.unwrap().text();
    assert!(unknown.contains("не найдена") && unknown.contains("нажмите 0"), "{unknown}");
    let operator = app.login_as(Role::Operator).await;
    let (status, found) = app.get("/api/connection-applications/20261234", &operator).await;
    assert_eq!((status, found["applicant"].as_str()), (200, Some("Иванов И. И.")));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn theft_with_a_recording_gives_a_ticket_with_the_recording_url() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79100000600");
    caller.dial().await.unwrap();
    let heard = caller.press("5").await.unwrap().text();
    assert!(heard.contains("Называть себя не обязательно"), "{heard}");
    let record = caller.press("152150").await.unwrap();
    assert!(matches!(record.waiting, Waiting::Recording { .. }), "{record:?}");
    let done = caller.record("https://api.twilio.com/recordings/RE1.wav", 42).await.unwrap();
    assert!(done.text().contains("Сообщение принято"), "{}", done.text());
    let operator = app.login_as(Role::Operator).await;
    let (_, ticket) = app.get("/api/tickets/100001", &operator).await;
    assert_eq!(ticket["category"], "theft");
    assert_eq!(ticket["priority"], 3);
    assert_eq!(ticket["recording_url"], "https://api.twilio.com/recordings/RE1.wav");
    assert_eq!(ticket["recording_duration_s"], 42);
    assert_eq!(ticket["status"], "queued", "{ticket}");
    let (_, queue) = app.get("/api/queue", &operator).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "the report waits for a person: {queue}");
    assert_eq!((items[0]["kind"].as_str(), items[0]["ticket_number"].as_str()), (Some("ticket"), Some("100001")));
    assert_eq!(items[0]["category"], "theft");

    // jambonz cannot record to a URL: the caller goes to an operator instead, not left hanging.
    let mut caller = Caller::new(&app.base, Dialect::Jambonz, "+79100000601");
    caller.dial().await.unwrap();
    caller.press("5").await.unwrap();
    let fallback = caller.press("152150").await.unwrap();
    assert!(fallback.text().contains("Ваше сообщение примет оператор"), "{}", fallback.text());
    assert!(matches!(fallback.waiting, Waiting::Queue { .. }), "{fallback:?}");
    let (_, ticket) = app.get("/api/tickets/100002", &operator).await;
    assert_eq!((ticket["category"].as_str(), ticket["priority"].as_i64()), (Some("theft"), Some(3)), "{ticket}");
    let (_, queue) = app.get("/api/queue", &operator).await;
    let live = queue["items"].as_array().unwrap().iter().find(|i| i["kind"] == "live_call").cloned();
    assert_eq!(
        live.map(|i| i["ticket_number"].clone()),
        Some(json!("100002")),
        "the operator gets the ticket: {queue}"
    );
    app.stop().await;
}

async fn storm_mode_changes_the_greeting_and_offers_non_hazard_callers_a_call_back(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let operator = app.login_as(Role::Operator).await;
    app.operator_on_shift(None).await;
    let calm = Caller::new(&app.base, Dialect::Twilio, "+79100000700").dial().await;
    assert!(!calm.unwrap().text().contains("перегружена"));
    let response = app
        .http
        .put(app.url("/api/storm-mode"))
        .bearer_auth(&operator)
        .json(&json!({"on": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    let response = app
        .http
        .put(app.url("/api/storm-mode"))
        .bearer_auth(&supervisor)
        .json(&json!({"on": true}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!((status, body["on"].as_bool()), (200, Some(true)), "{body}");

    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79100000701");
    let greeting = caller.dial().await.unwrap().text();
    assert!(greeting.contains("перегружена") && greeting.contains("вне очереди: нажмите 1"), "{greeting}");
    assert!(!greeting.contains("непогод"), "the storm may have any cause: {greeting}");
    let offered = caller.press("0").await.unwrap().text();
    assert!(offered.contains("Чтобы мы вам перезвонили, нажмите 1"), "{offered}");
    let response = app
        .http
        .put(app.url("/api/storm-mode"))
        .bearer_auth(&supervisor)
        .json(&json!({"on": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(status_and_json(response).await.1["on"], false);
    app.stop().await;
}

async fn the_internet_reception_takes_appeals_and_shows_outages(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let response = app
        .http
        .post(app.url("/api/public/appeals"))
        .json(&json!({"text": "Прошу проверить опору у дома 5", "phone": "8 910 000 08 00", "settlement_id": 6}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 201, "{body}");
    let number = body["number"].as_str().unwrap().to_string();
    assert!(number.chars().all(|c| c.is_ascii_digit()));
    let operator = app.login_as(Role::Operator).await;
    let (_, ticket) = app.get(&format!("/api/tickets/{number}"), &operator).await;
    assert_eq!((ticket["channel"].as_str(), ticket["status"].as_str()), (Some("web"), Some("queued")));
    let (_, queue) = app.get("/api/queue", &operator).await;
    assert_eq!(queue["items"][0]["ticket_number"], number);
    let response = app.http.post(app.url("/api/public/appeals")).json(&json!({"text": ""})).send().await.unwrap();
    assert_eq!(response.status(), 422);
    // A client that uses the ticket's field names is understood too.
    let response = app
        .http
        .post(app.url("/api/public/appeals"))
        .json(&json!({"category": "question", "description": "Когда дадут свет?", "caller_number": "+79100000801"}))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 201, "{body}");
    let (_, ticket) = app.get(&format!("/api/tickets/{}", body["number"].as_str().unwrap()), &operator).await;
    assert_eq!(
        (ticket["description"].as_str(), ticket["caller_number"].as_str()),
        (Some("Когда дадут свет?"), Some("+79100000801"))
    );

    let (status, outages) =
        status_and_json(app.http.get(app.url("/api/public/outages?postcode=152610")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(outages[0]["settlement"]["name"], "Углич");
    let (status, faq) = status_and_json(app.http.get(app.url("/api/public/faq")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert!(faq.as_array().unwrap().len() >= 5);
    app.stop().await;
}
