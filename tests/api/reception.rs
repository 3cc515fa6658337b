//! The internet reception under abuse (SPEC §6, §7): submissions limited per client address and
//! per phone in the database, repeats answered with the number they had, the client address
//! from X-Forwarded-For only through a trusted proxy, and a flood of appeals that leaves a
//! caller who presses 0 at the head of the queue.

use std::sync::Arc;

use futures_util::StreamExt;
use hotline::auth::Role;
use hotline::telephony::Dialect;
use hotline::tools::simulator::{Caller, Waiting};
use serde_json::{Value, json};

use crate::helpers::{Process, TestApp, TestDb, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    appeals_are_limited_per_address_and_per_phone_and_a_repeat_creates_nothing,
    a_flood_of_web_appeals_leaves_a_caller_who_presses_0_at_the_head_of_the_queue,
);

/// The test's requests all come from 127.0.0.1, which it declares its proxy, so each request
/// can say which client it stands for.
const TRUSTED_LOOPBACK: (&str, &str) = ("HOTLINE_TRUSTED_PROXIES", "127.0.0.1");

/// POSTs an appeal as the client `from` (sent as X-Forwarded-For); status, body, Retry-After.
async fn appeal(http: &reqwest::Client, base: &str, from: &str, body: Value) -> (u16, Value, Option<u64>) {
    let response = http
        .post(format!("{base}/api/public/appeals"))
        .header("X-Forwarded-For", from)
        .json(&body)
        .send()
        .await
        .unwrap();
    let retry_after = response.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    let (status, body) = status_and_json(response).await;
    (status, body, retry_after)
}

async fn waiting_count(app: &TestApp, token: &str) -> i64 {
    let (status, queue) = app.get("/api/queue", token).await;
    assert_eq!(status, 200, "{queue}");
    queue["stats"]["waiting"].as_i64().unwrap()
}

fn assert_limited(status: u16, body: &Value, retry_after: Option<u64>, whose: &str) {
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"]["code"], "too_many_requests", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.starts_with(&format!("Слишком много обращений {whose}")), "{message}");
    assert!(message.contains("8-800-50-50-115") && message.contains("112"), "where to turn meanwhile: {message}");
    let retry_after = retry_after.expect("a 429 says when to come back");
    assert!((1..=3600).contains(&retry_after), "Retry-After: {retry_after}");
}

async fn appeals_are_limited_per_address_and_per_phone_and_a_repeat_creates_nothing(db: TestDb) {
    let app = TestApp::spawn_with(db, &[TRUSTED_LOOPBACK]).await;
    let (http, base) = (&app.http, app.base.as_str());
    let operator = app.login_as(Role::Operator).await;

    // Ten an hour from one address; the eleventh is refused and nothing is created.
    for i in 0..10 {
        let (status, body, _) = appeal(http, base, "203.0.113.7", json!({"text": format!("Вопрос номер {i}")})).await;
        assert_eq!(status, 201, "appeal {i}: {body}");
    }
    let (status, body, retry_after) = appeal(http, base, "203.0.113.7", json!({"text": "Ещё вопрос"})).await;
    assert_limited(status, &body, retry_after, "с вашего адреса");
    assert_eq!(waiting_count(&app, &operator).await, 10, "the refused appeal created nothing");
    // Another address is another client.
    let (status, body, _) = appeal(http, base, "203.0.113.8", json!({"text": "Ещё вопрос"})).await;
    assert_eq!(status, 201, "{body}");

    // Three an hour for one phone, from whatever addresses.
    let phone = "+79101112233";
    let mut first_number = String::new();
    for i in 0..3 {
        let from = format!("198.51.100.{i}");
        let (status, body, _) =
            appeal(http, base, &from, json!({"text": format!("Нет света, дом {i}"), "phone": phone})).await;
        assert_eq!(status, 201, "{body}");
        if i == 0 {
            first_number = body["number"].as_str().unwrap().to_string();
        }
    }
    // The same phone written the Russian way is the same phone.
    let (status, body, retry_after) =
        appeal(http, base, "198.51.100.50", json!({"text": "Нет света, дом 9", "phone": "8 (910) 111-22-33"})).await;
    assert_limited(status, &body, retry_after, "с этим номером телефона");

    // The same text from the same phone within a day: the number it got, and nothing new, even
    // with its limit used up, from another address, and typed with other spaces and capitals.
    let before = waiting_count(&app, &operator).await;
    let (status, body, _) =
        appeal(http, base, "192.0.2.1", json!({"text": "  нет света,   ДОМ 0 ", "phone": "89101112233"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["number"], first_number.as_str());
    assert_eq!(waiting_count(&app, &operator).await, before, "a repeat creates nothing");
    let (_, tickets) = app.get("/api/tickets?q=%D0%B4%D0%BE%D0%BC%200&limit=50", &operator).await;
    assert_eq!(tickets["items"].as_array().unwrap().len(), 1, "one ticket for the text: {tickets}");

    // An hour later the address and the phone may submit again; a day later a repeat is new.
    app.execute("UPDATE web_submissions SET at = at - 3600 * 1000 - 1").await;
    let (status, body, _) = appeal(http, base, "203.0.113.7", json!({"text": "Вопрос через час"})).await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _) = appeal(http, base, "198.51.100.1", json!({"text": "Свет дали", "phone": phone})).await;
    assert_eq!(status, 201, "{body}");
    app.execute("UPDATE web_submissions SET at = at - 24 * 3600 * 1000").await;
    let (status, body, _) = appeal(http, base, "192.0.2.2", json!({"text": "Нет света, дом 0", "phone": phone})).await;
    assert_eq!(status, 201, "a day later the same text is a new appeal: {body}");
    assert_ne!(body["number"], first_number.as_str());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_counts_only_from_a_trusted_proxy() {
    // No proxy is trusted: every request is the loopback peer, whatever its header says.
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    for i in 0..10 {
        let from = format!("203.0.113.{i}");
        let (status, body, _) = appeal(&app.http, &app.base, &from, json!({"text": format!("Вопрос {i}")})).await;
        assert_eq!(status, 201, "{body}");
    }
    let (status, body, retry_after) =
        appeal(&app.http, &app.base, "203.0.113.99", json!({"text": "Подделанный адрес"})).await;
    assert_limited(status, &body, retry_after, "с вашего адреса");
    app.stop().await;
}

/// 2,000 appeals from 200 addresses and 333 phones (every second appeal gives one), each
/// within its limits, then 100 more over them; then a caller presses 0. Web work never
/// delays a caller, so the caller is first.
async fn a_flood_of_web_appeals_leaves_a_caller_who_presses_0_at_the_head_of_the_queue(db: TestDb) {
    let app = TestApp::spawn_with(db, &[TRUSTED_LOOPBACK]).await;
    let operator = app.operator_on_shift(Some("sip:olga@pbx.example")).await;
    let attempts: Vec<(String, Value)> = (0..2000usize)
        .map(|i| {
            let from = format!("10.{}.{}.1", i / 10 / 100, i / 10 % 100);
            let mut body = json!({"category": if i % 2 == 0 { "appeal" } else { "question" },
                "text": format!("Обращение {i}: прошу разобраться")});
            if i % 2 == 0 {
                body["phone"] = json!(format!("+7910{:07}", i / 2 / 3));
            }
            (from, body)
        })
        .chain((0..100usize).map(|i| (format!("10.{}.{}.1", i / 100, i % 100), json!({"text": "Ещё и ещё"}))))
        .collect();
    let (http, base) = (app.http.clone(), Arc::new(app.base.clone()));
    let statuses: Vec<u16> = futures_util::stream::iter(attempts)
        .map(|(from, body)| {
            let (http, base) = (http.clone(), base.clone());
            async move { appeal(&http, &base, &from, body).await.0 }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 2000, "every appeal within its limits is taken");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 100, "every one over them is refused");
    assert_eq!(waiting_count(&app, &operator).await, 2000);

    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    caller.dial().await.unwrap();
    let queued = caller.press("0").await.unwrap();
    // A free operator and nobody ahead: no "all operators are busy", no call-back offer.
    assert!(matches!(queued.waiting, Waiting::Queue { .. }), "{queued:?}");
    assert!(!queued.text().contains("заняты"), "{}", queued.text());
    let first_poll = caller.wait_in_queue().await.unwrap();
    assert!(first_poll.text().contains("Ваш номер в очереди — первый."), "{}", first_poll.text());
    let (_, queue) = app.get("/api/queue", &operator).await;
    assert_eq!(queue["items"][0]["kind"], "live_call", "{}", queue["items"][0]);
    assert_eq!(queue["items"][0]["position"], 1);
    assert_eq!(queue["stats"]["waiting"], 2001);
    let (status, taken) = app.post("/api/queue/next", &operator, json!({})).await;
    assert_eq!(status, 200, "{taken}");
    assert_eq!(taken["item"]["caller_number"], "+79101234567", "the operator gets the caller, not the flood");
    app.stop().await;
}

/// Two servers on one PostgreSQL database: 40 appeals from one address at once, half to each,
/// let exactly ten through between them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_let_one_address_through_ten_times_an_hour_between_them() {
    let Some(db) = TestDb::postgres().await else { return };
    let store = db.store().await;
    let env = [("HOTLINE_DATABASE_URL", db.url.as_str()), TRUSTED_LOOPBACK];
    let servers = [Process::serve(db.dir.path(), &env).await, Process::serve(db.dir.path(), &env).await];
    let http = reqwest::Client::new();
    let requests = (0..40usize).map(|i| {
        let (http, base) = (http.clone(), servers[i % 2].url(""));
        async move { appeal(&http, &base, "203.0.113.7", json!({"text": format!("Обращение {i}")})).await.0 }
    });
    let statuses: Vec<u16> = futures_util::stream::iter(requests).buffer_unordered(40).collect().await;
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 10, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 30, "{statuses:?}");
    assert_eq!(store.waiting_items().await.unwrap().len(), 10);
}
