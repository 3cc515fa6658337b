//! Escalations: started with a hazard ticket under a snapshot of its policy, worked by dispatchers.

use std::time::Duration;

use hotline::auth::Role;
use hotline::outages::spoken_until;
use hotline::telephony::Dialect;
use hotline::tools::simulator::Caller;
use serde_json::{Value, json};

use crate::helpers::{Mail, Process, SmtpSink, TestApp, TestDb, eventually, free_port, scratch_file, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    a_hazard_ticket_starts_one_escalation_that_dispatchers_acknowledge_and_resolve,
    a_hazard_is_mailed_at_once_then_to_the_next_until_the_link_is_posted,
    mail_waits_out_an_smtp_outage_and_arrives_once,
    a_crew_sent_with_a_restoration_time_changes_what_the_next_caller_hears,
    a_step_due_while_the_server_is_down_fires_after_the_restart_once,
);

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

/// The people of the drills.
const RECIPIENTS: &str = r#"
[recipients.first]
name = "Первый диспетчер"
email = "first@drill.example"

[recipients.second]
name = "Второй диспетчер"
email = "second@drill.example"

[recipients.third]
name = "Главный инженер"
email = "third@drill.example"
"#;

/// A drill policy: first, then second, then third, seconds apart; reminders soon after an acknowledgement.
const DRILL: &str = r#"
[[policies]]
name = "drill"
categories = ["hazard"]
remind_after_s = 10
steps = [
    { notify = ["first"], wait_s = 2 },
    { notify = ["second"], wait_s = 8 },
    { notify = ["third"], wait_s = 60 },
]
"#;

fn ack_link(mail: &Mail) -> String {
    let start = mail.body.find("http://").expect("a link in the message");
    let link: String = mail.body[start..].chars().take_while(|c| !c.is_whitespace()).collect();
    assert!(link.contains("/ack/"), "{link}");
    link
}

async fn hazard(app: &TestApp, token: &str, description: &str) -> Value {
    let body =
        json!({"category": "hazard", "settlement_id": 13, "address": "ул. Новая, 5", "description": description});
    let (status, ticket) = app.post("/api/tickets", token, body).await;
    assert_eq!(status, 201, "{ticket}");
    ticket
}

async fn escalation_of(app: &TestApp, token: &str, ticket: &Value) -> Value {
    let (_, all) = app.get("/api/escalations", token).await;
    let found = all.as_array().unwrap().iter().find(|e| e["ticket_id"] == ticket["id"]).cloned();
    let id = found.expect("the ticket's escalation")["id"].as_str().unwrap().to_string();
    let (status, detail) = app.get(&format!("/api/escalations/{id}"), token).await;
    assert_eq!(status, 200, "{detail}");
    detail
}

async fn a_hazard_is_mailed_at_once_then_to_the_next_until_the_link_is_posted(db: TestDb) {
    let smtp = SmtpSink::start().await;
    let policy = scratch_file(db.dir.path(), "drill.toml", &format!("{RECIPIENTS}{DRILL}")).display().to_string();
    let app =
        TestApp::spawn_with(db, &[("HOTLINE_SMTP_URL", &smtp.url()), ("HOTLINE_ESCALATION_POLICIES", &policy)]).await;
    let operator = app.login_as(Role::Operator).await;
    let dispatcher = app.login_as(Role::Dispatcher).await;
    let ticket = hazard(&app, &operator, "Оборван провод, лежит на дороге").await;
    let number = ticket["number"].as_str().unwrap();

    // The first step: at once, to the first recipient, with everything a dispatcher needs.
    let first = smtp.wait_for("first@drill.example", 1).await;
    let mail = &first[0];
    assert!(mail.subject.contains(number) && mail.subject.contains("АВАРИЯ"), "{}", mail.subject);
    for expected in [
        format!("Заявка №{number}"),
        "Опасность для жизни".to_string(),
        ticket["settlement"]["name"].as_str().unwrap().to_string(),
        "ул. Новая, 5".to_string(),
        "Оборван провод".to_string(),
        "Время обращения:".to_string(),
        format!("Заявка в консоли диспетчера: {}/#ticket/{number}", app.base),
        format!("{}/ack/", app.base),
    ] {
        assert!(mail.body.contains(&expected), "'{expected}' missing from:\n{}", mail.body);
    }
    assert!(smtp.to("second@drill.example").is_empty(), "the second step waits its turn");

    // Nobody acknowledges: the second recipient is told.
    let second = smtp.wait_for("second@drill.example", 1).await;
    let link = ack_link(&second[0]);

    // Opening the link (as a mail scanner would) changes nothing.
    let page = app.http.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Подтвердить аварию") && html.contains(number), "{html}");
    let escalation = escalation_of(&app, &dispatcher, &ticket).await;
    assert_eq!(escalation["state"], "active");

    // The page's button acknowledges, as the person the link was sent to.
    let posted = app.http.post(&link).send().await.unwrap();
    assert_eq!(posted.status(), 200);
    assert!(posted.text().await.unwrap().contains("Авария подтверждена"));
    let escalation = escalation_of(&app, &dispatcher, &ticket).await;
    assert_eq!(escalation["state"], "acknowledged");
    assert_eq!(escalation["acknowledged_by"], "second@drill.example");

    // Used once, the link says so and does nothing more; a forged one is refused.
    let again = app.http.post(&link).send().await.unwrap();
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("уже подтверждена"));
    let forged = app.http.get(app.url("/ack/eyJlIjoieCJ9.AAAA")).send().await.unwrap();
    assert_eq!(forged.status(), 404);

    // Unresolved, it reminds those told so far; the reminder comes after the third step was
    // due, and the third step never fired.
    smtp.wait_for("first@drill.example", 2).await;
    let reminders = smtp.wait_for("second@drill.example", 2).await;
    assert!(reminders.iter().any(|m| m.subject.starts_with("Напоминание")), "{reminders:?}");
    assert!(smtp.to("third@drill.example").is_empty(), "acknowledged: no further steps");
    let escalation = escalation_of(&app, &dispatcher, &ticket).await;
    let steps = escalation["steps"].as_array().unwrap();
    assert!(steps[0]["fired_at"].is_string() && steps[1]["fired_at"].is_string());
    assert!(steps[2]["fired_at"].is_null(), "{steps:?}");
    assert_eq!(steps[0]["recipients"][0]["email"], "first@drill.example");
    assert_eq!(steps[1]["notifications"][0]["status"], "sent");
    let kinds: Vec<&str> = escalation["log"].as_array().unwrap().iter().map(|l| l["kind"].as_str().unwrap()).collect();
    for kind in ["started", "step_fired", "notified", "acknowledged", "reminder"] {
        assert!(kinds.contains(&kind), "{kind} missing from the trail {kinds:?}");
    }
    app.stop().await;
}

async fn mail_waits_out_an_smtp_outage_and_arrives_once(db: TestDb) {
    let port = free_port().port();
    let policy = scratch_file(db.dir.path(), "drill.toml", &format!("{RECIPIENTS}{DRILL}")).display().to_string();
    let smtp_url = format!("smtp://127.0.0.1:{port}");
    let app =
        TestApp::spawn_with(db, &[("HOTLINE_SMTP_URL", &smtp_url), ("HOTLINE_ESCALATION_POLICIES", &policy)]).await;
    let operator = app.login_as(Role::Operator).await;
    let dispatcher = app.login_as(Role::Dispatcher).await;
    let ticket = hazard(&app, &operator, "Искрит на опоре").await;

    // Nobody listens: the attempt fails, is recorded, and waits for a retry.
    let failing = eventually("a failed delivery", Duration::from_secs(20), || async {
        let escalation = escalation_of(&app, &dispatcher, &ticket).await;
        let notification = escalation["steps"][0]["notifications"][0].clone();
        (notification["status"] == "failing").then_some(notification)
    })
    .await;
    assert!(failing["last_error"].as_str().unwrap().contains("SMTP"), "{failing}");
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.contains("hotline_messages_undelivered 1"), "{metrics}");
    assert!(metrics.contains("hotline_escalations_active 1"), "{metrics}");
    assert!(counted(&metrics, r#"hotline_outbox_delivery_failures_total{channel="email"}"#) >= 1.0, "{metrics}");
    assert!(counted(&metrics, "hotline_escalation_steps_fired_total") >= 1.0, "{metrics}");

    // The server comes back: the message arrives, once.
    let smtp = SmtpSink::start_on(port).await;
    let mails = smtp.wait_for("first@drill.example", 1).await;
    assert!(mails[0].subject.contains(ticket["number"].as_str().unwrap()));
    eventually("the delivery recorded as sent", Duration::from_secs(20), || async {
        let escalation = escalation_of(&app, &dispatcher, &ticket).await;
        (escalation["steps"][0]["notifications"][0]["status"] == "sent").then_some(())
    })
    .await;
    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(counted(&metrics, r#"hotline_outbox_messages_sent_total{channel="email"}"#) >= 1.0, "{metrics}");
    // A later message through the same worker shows it has moved on; the first is still single.
    smtp.wait_for("second@drill.example", 1).await;
    assert_eq!(smtp.to("first@drill.example").len(), 1);
    app.stop().await;
}

/// A counter's value in a /metrics text; 0 when it is not there.
fn counted(metrics: &str, name: &str) -> f64 {
    metrics.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok()).unwrap_or(0.0)
}

async fn a_crew_sent_with_a_restoration_time_changes_what_the_next_caller_hears(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let dispatcher = app.login_as(Role::Dispatcher).await;
    let operator = app.login_as(Role::Operator).await;

    // The crews board: refusals first, each with its reason.
    let (status, _) = app.get("/api/crews", &operator).await;
    assert_eq!(status, 403);
    let (status, body) = app.post("/api/crews", &dispatcher, json!({"name": "  "})).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app.post("/api/crews", &dispatcher, json!({"name": "Бригада 3", "email": "нет"})).await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app.post("/api/crews", &dispatcher, json!({"name": "Бригада 3", "status": "asleep"})).await;
    assert_eq!(status, 422, "{body}");
    let (status, resting) =
        app.post("/api/crews", &dispatcher, json!({"name": "Бригада 9", "status": "off_duty"})).await;
    assert_eq!((status, resting["status"].as_str()), (201, Some("off_duty")), "{resting}");
    let (status, crew) = app
        .post(
            "/api/crews",
            &dispatcher,
            json!({"name": "Бригада 3 Угличского РЭС", "phone": "+79200000003", "email": "crew3@res.example"}),
        )
        .await;
    assert_eq!(status, 201, "{crew}");
    assert_eq!(crew["status"], "available");
    let crew_id = crew["id"].as_str().unwrap();
    let (status, body) = app.patch(&format!("/api/crews/{crew_id}"), &dispatcher, json!({"status": "asleep"})).await;
    assert_eq!(status, 422, "{body}");
    let (status, _) = app.patch("/api/crews/nope", &dispatcher, json!({"status": "on_site"})).await;
    assert_eq!(status, 404);

    // An outage report in Углич opens an incident.
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79100000801");
    caller.dial().await.unwrap();
    caller.press("2").await.unwrap();
    caller.press("152610").await.unwrap();
    caller.press("1").await.unwrap();
    let (_, incidents) = app.get("/api/incidents", &dispatcher).await;
    let incident = incidents["items"][0].clone();
    let incident_id = incident["id"].as_str().unwrap();

    // The dispatcher sends the crew and sets the restoration time.
    let (status, assigned) =
        app.post(&format!("/api/incidents/{incident_id}/assign"), &dispatcher, json!({"crew_id": crew_id})).await;
    assert_eq!(status, 200, "{assigned}");
    assert_eq!((assigned["crew_id"].as_str(), assigned["crew_status"].as_str()), (Some(crew_id), Some("en_route")));
    assert_eq!(assigned["status"], "in_progress");
    let etr = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(3);
    let (status, body) =
        app.patch(&format!("/api/incidents/{incident_id}"), &dispatcher, json!({"etr": etr.to_string()})).await;
    assert_eq!(status, 200, "{body}");

    // The next caller from Углич hears both.
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let until = spoken_until(etr.into(), jiff::Timestamp::now().into(), &tz);
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79100000802");
    caller.dial().await.unwrap();
    caller.press("2").await.unwrap();
    let heard = caller.press("152610").await.unwrap().text();
    assert!(heard.contains("бригада выехала на место") && heard.contains(&format!("восстановят {until}")), "{heard}");

    // On site now: the next caller hears that.
    let (status, _) = app.patch(&format!("/api/crews/{crew_id}"), &dispatcher, json!({"status": "on_site"})).await;
    assert_eq!(status, 200);
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79100000803");
    caller.dial().await.unwrap();
    caller.press("2").await.unwrap();
    let heard = caller.press("152610").await.unwrap().text();
    assert!(heard.contains("бригада уже работает на месте"), "{heard}");

    // The crew got its job by e-mail (no SMTP server configured: a file in the mail folder).
    let mail_dir = app.db.dir.path().join("mail-outbox");
    let job = eventually("the crew's job as an .eml file", Duration::from_secs(20), || {
        let mail_dir = mail_dir.clone();
        async move {
            let entries = std::fs::read_dir(&mail_dir).ok()?;
            entries.filter_map(|e| std::fs::read(e.ok()?.path()).ok()).find_map(|raw| {
                let parsed = mailparse::parse_mail(&raw).ok()?;
                let to = parsed.headers.iter().find(|h| h.get_key_ref() == "To")?.get_value();
                to.contains("crew3@res.example").then(|| parsed.get_body().unwrap())
            })
        }
    })
    .await;
    assert!(job.contains("Углич") && job.contains("Бригада 3"), "{job}");

    // A crew off duty cannot be sent; a hazard's escalation takes a crew too.
    let ticket = hazard(&app, &operator, "Упало дерево на провода").await;
    let escalation = escalation_of(&app, &dispatcher, &ticket).await;
    let escalation_id = escalation["id"].as_str().unwrap();
    let (_, off) = app.post("/api/crews", &dispatcher, json!({"name": "Бригада 9"})).await;
    app.patch(&format!("/api/crews/{}", off["id"].as_str().unwrap()), &dispatcher, json!({"status": "off_duty"})).await;
    let (status, body) =
        app.post(&format!("/api/escalations/{escalation_id}/assign"), &dispatcher, json!({"crew_id": off["id"]})).await;
    assert_eq!(status, 409, "{body}");
    let (status, body) =
        app.post(&format!("/api/escalations/{escalation_id}/assign"), &dispatcher, json!({"crew_id": crew_id})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["crew_id"], crew_id);
    let (status, _) =
        app.post(&format!("/api/escalations/{escalation_id}/assign"), &operator, json!({"crew_id": crew_id})).await;
    assert_eq!(status, 403);
    app.stop().await;
}

/// Three steps a second apart, the last one far off: enough to see what fires after a restart.
const RESTART_DRILL: &str = r#"
[[policies]]
name = "drill"
categories = ["hazard"]
steps = [
    { notify = ["first"], wait_s = 2 },
    { notify = ["second"], wait_s = 1 },
    { notify = ["third"], wait_s = 600 },
]
"#;

async fn create_hazard(server: &Process, token: &str, description: &str) -> Value {
    let response = reqwest::Client::new()
        .post(server.url("/api/tickets"))
        .bearer_auth(token)
        .json(&json!({"category": "hazard", "settlement_id": 6, "description": description}))
        .send()
        .await
        .unwrap();
    let (status, ticket) = status_and_json(response).await;
    assert_eq!(status, 201, "{ticket}");
    ticket
}

async fn a_step_due_while_the_server_is_down_fires_after_the_restart_once(db: TestDb) {
    let smtp = SmtpSink::start().await;
    let policy =
        scratch_file(db.dir.path(), "drill.toml", &format!("{RECIPIENTS}{RESTART_DRILL}")).display().to_string();
    let smtp_url = smtp.url();
    let env = [
        ("HOTLINE_DATABASE_URL", db.url.as_str()),
        ("HOTLINE_BOOTSTRAP_ADMIN", "chief:chief-password"),
        ("HOTLINE_SMTP_URL", smtp_url.as_str()),
        ("HOTLINE_ESCALATION_POLICIES", policy.as_str()),
    ];
    let mut server = Process::serve(db.dir.path(), &env).await;
    let token = server.login("chief", "chief-password").await;
    create_hazard(&server, &token, "Оборван провод").await;
    smtp.wait_for("first@drill.example", 1).await;
    server.child.kill().await.unwrap(); // SIGKILL with the second step pending

    let store = db.store().await;
    let due = store.escalations(None).await.unwrap()[0].steps[1].due_at;
    let restarted_at =
        eventually("the second step to fall due while no server runs", Duration::from_secs(20), || async {
            let now = hotline::clock::Clock::system().now();
            (now > due).then_some(now)
        })
        .await;
    let _server = Process::serve(db.dir.path(), &env).await;

    // Late, not lost: the second and third steps fire after the restart.
    smtp.wait_for("second@drill.example", 1).await;
    smtp.wait_for("third@drill.example", 1).await;
    let steps = &store.escalations(None).await.unwrap()[0].steps;
    let fired = steps[1].fired_at.expect("the second step fired");
    assert!(fired >= restarted_at && fired > due, "fired {fired}, due {due}, restarted {restarted_at}");
    // Not twice: each step told its recipient once, the first step was not repeated.
    for address in ["first@drill.example", "second@drill.example", "third@drill.example"] {
        assert_eq!(smtp.to(address).len(), 1, "{address}");
    }
    // And the check `hotline storm --target` makes reads the same from the database.
    let firings = store.step_firings(hotline::clock::Timestamp(0)).await.unwrap();
    assert_eq!((firings.escalations, firings.steps), (1, steps.len()), "{firings:?}");
    assert!(firings.fired >= 3 && firings.fired_twice.is_empty() && firings.mismatched.is_empty(), "{firings:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_fire_each_step_once() {
    let Some(db) = TestDb::postgres().await else { return };
    let smtp = SmtpSink::start().await;
    let policy = r#"
[recipients.a]
name = "A"
email = "a@drill.example"

[recipients.b]
name = "B"
email = "b@drill.example"

[[policies]]
name = "drill"
categories = ["hazard"]
repeat = 1
steps = [{ notify = ["a"], wait_s = 1 }, { notify = ["b"], wait_s = 1 }]
"#;
    let policy = scratch_file(db.dir.path(), "drill.toml", policy).display().to_string();
    let smtp_url = smtp.url();
    let env = [
        ("HOTLINE_DATABASE_URL", db.url.as_str()),
        ("HOTLINE_BOOTSTRAP_ADMIN", "chief:chief-password"),
        ("HOTLINE_SMTP_URL", smtp_url.as_str()),
        ("HOTLINE_ESCALATION_POLICIES", policy.as_str()),
    ];
    let first = Process::serve(db.dir.path(), &env).await;
    let second = Process::serve(db.dir.path(), &env).await;
    let servers = [
        (first.login("chief", "chief-password").await, &first),
        (second.login("chief", "chief-password").await, &second),
    ];
    const TICKETS: usize = 12;
    let mut numbers = Vec::new();
    for i in 0..TICKETS {
        let (token, server) = &servers[i % 2];
        numbers
            .push(create_hazard(server, token, &format!("Авария {i}")).await["number"].as_str().unwrap().to_string());
    }

    // Four steps each (two, repeated once), both servers' workers racing for every one.
    let expected = TICKETS * 4;
    let store = db.store().await;
    eventually("every step fired and delivered", Duration::from_secs(60), || async {
        let all = store.escalations(None).await.unwrap();
        let done = all.iter().all(|e| e.steps.iter().all(|s| s.notifications.iter().any(|n| n.sent_at.is_some())));
        (all.len() == TICKETS && done).then_some(())
    })
    .await;
    let mails = smtp.messages();
    let mut keys: Vec<(String, String, String)> = mails
        .iter()
        .map(|m| {
            let number = numbers.iter().find(|n| m.subject.contains(n.as_str())).expect("a ticket's number").clone();
            let step =
                m.body.split("шаг эскалации ").nth(1).unwrap().chars().take_while(char::is_ascii_digit).collect();
            (number, step, m.to.clone())
        })
        .collect();
    keys.sort();
    keys.dedup();
    assert_eq!(mails.len(), expected, "one message per step of each escalation");
    assert_eq!(keys.len(), expected, "no step mailed twice");
}
