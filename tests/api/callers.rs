//! No caller left behind (SPEC §4a), through the simulator: a hazard is never lost, no path
//! dead-ends, withheld numbers are never promised a call back, and what callers hear is words.

use std::collections::BTreeMap;
use std::time::Duration;

use hotline::auth::Role;
use hotline::ivr::engine::{self, CallState, Effects, Input, StepUrls};
use hotline::ivr::flow::NodeKind;
use hotline::telephony::{Action, Dialect};
use hotline::tools::simulator::{Caller, Turn, Waiting};
use serde_json::{Value, json};

use crate::helpers::{SmtpSink, TestApp, TestDb, eventually};
use crate::on_both_backends;

on_both_backends!(
    a_hazard_exists_from_the_key_press_and_escalates_when_the_call_ends,
    a_hazard_whose_place_is_not_found_escalates_to_the_region_with_the_callers_words,
    a_hazard_still_answering_questions_escalates_on_the_timer,
);

async fn ticket(app: &TestApp, number: &str) -> Value {
    let operator = app.login_as(Role::Operator).await;
    let (status, ticket) = app.get(&format!("/api/tickets/{number}"), &operator).await;
    assert_eq!(status, 200, "{ticket}");
    ticket
}

async fn escalations(app: &TestApp) -> Vec<Value> {
    let dispatcher = app.login_as(Role::Dispatcher).await;
    let (_, all) = app.get("/api/escalations", &dispatcher).await;
    all.as_array().unwrap().clone()
}

/// No figures a voice would read its own way: numbers are words, ticket numbers single digits.
fn assert_in_words(turn: &Turn) {
    for said in &turn.heard {
        let chars: Vec<char> = said.chars().collect();
        let figures = chars.windows(2).any(|w| w[0].is_ascii_digit() && w[1].is_ascii_digit());
        let clock = chars.windows(3).any(|w| w[0].is_ascii_digit() && w[1] == ':' && w[2].is_ascii_digit());
        assert!(!figures && !clock, "a number in figures: {said}");
        for abbreviation in ["ул.", "пер.", "пр-т", " д. "] {
            assert!(!said.contains(abbreviation), "an abbreviation read as is: {said}");
        }
    }
}

async fn a_hazard_exists_from_the_key_press_and_escalates_when_the_call_ends(db: TestDb) {
    let app = TestApp::spawn(db).await;
    for (dialect, number) in [(Dialect::Twilio, "100001"), (Dialect::Jambonz, "100002")] {
        let mut caller = Caller::new(&app.base, dialect, "+79101234567");
        caller.dial().await.unwrap();
        let asked = caller.press("1").await.unwrap();
        assert!(asked.text().contains("сто двенадцать") && asked.text().contains("почтовый индекс"), "{asked:?}");
        let pending = ticket(&app, number).await;
        assert_eq!((pending["category"].as_str(), pending["priority"].as_i64()), (Some("hazard"), Some(1)));
        assert_eq!(pending["status"], "new", "the place is not known yet: {pending}");
        // The caller hangs up before saying where: the hazard escalates with what is known.
        assert_eq!(caller.status("completed", 5).await.unwrap(), 200);
        let escalated = ticket(&app, number).await;
        assert_eq!(escalated["status"], "escalated", "{escalated}");
        let all = escalations(&app).await;
        let mine = all.iter().find(|e| e["ticket_number"] == number).expect("an escalation");
        assert_eq!(mine["policy"], "hazard", "no place known: the region's duty policy");
    }
    app.stop().await;
}

async fn a_hazard_whose_place_is_not_found_escalates_to_the_region_with_the_callers_words(db: TestDb) {
    let smtp = SmtpSink::start().await;
    let app = TestApp::spawn_with(db, &[("HOTLINE_SMTP_URL", &smtp.url())]).await;
    app.operator_on_shift(None).await;
    // Someone already waits with a question: the hazard caller still goes first.
    let mut asking = Caller::new(&app.base, Dialect::Twilio, "+79101230000");
    asking.dial().await.unwrap();
    assert!(matches!(asking.press("0").await.unwrap().waiting, Waiting::Queue { .. }));

    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    caller.dial().await.unwrap();
    caller.press("1").await.unwrap();
    let again = caller.press("999999").await.unwrap();
    assert!(again.text().contains("Назовите его ещё раз"), "{}", again.text());
    assert!(escalations(&app).await.is_empty(), "one unknown postcode is asked again first");
    let record = caller.press("999998").await.unwrap();
    assert!(record.text().contains("Диспетчер уже оповещён") && record.text().contains("адрес"), "{record:?}");
    assert!(matches!(record.waiting, Waiting::Recording { .. }), "{record:?}");
    let started = escalations(&app).await;
    assert_eq!(started.len(), 1, "escalated as soon as the place failed: {started:?}");
    assert_eq!(started[0]["policy"], "hazard");
    let mail = smtp.wait_for("cus-duty@yarenergo.example", 1).await;
    assert!(mail[0].body.contains("Населённый пункт: не определён"), "{}", mail[0].body);
    assert!(mail[0].body.contains("Заявка №100001") && mail[0].body.contains("Время обращения"), "{}", mail[0].body);

    let kind = caller.record("https://api.twilio.com/recordings/RE7.wav", 12).await.unwrap();
    assert!(kind.text().contains("Что случилось?"), "{}", kind.text());
    let registered = caller.press("1").await.unwrap();
    assert!(registered.text().contains("1 0 0 0 0 1"), "{}", registered.text());
    for advice in ["восьми метров", "не трогайте ничего, чего он касается", "мелкими шажками", "Не тушите водой"]
    {
        assert!(registered.text().contains(advice), "{advice}: {}", registered.text());
    }
    assert!(matches!(registered.waiting, Waiting::Queue { .. }), "{registered:?}");
    assert_in_words(&registered);

    let hazard = ticket(&app, "100001").await;
    assert_eq!(hazard["recording_url"], "https://api.twilio.com/recordings/RE7.wav");
    assert_eq!(hazard["description"], "Оборван или упал провод");
    assert_eq!(hazard["settlement"], Value::Null);
    let operator = app.login_as(Role::Operator).await;
    let (_, queue) = app.get("/api/queue", &operator).await;
    assert_eq!(queue["items"][0]["ticket_number"], "100001", "the hazard is served first: {queue}");
    assert_eq!(queue["items"][0]["kind"], "live_call");

    // The link in the e-mail leads to the caller's words.
    let link = mail[0].body.lines().find(|l| l.contains("/ack/")).unwrap().trim().to_string();
    let page = app.http.get(&link).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("https://api.twilio.com/recordings/RE7.wav"), "{page}");
    assert!(page.contains("населённый пункт не определён"), "{page}");
    app.stop().await;
}

async fn a_hazard_still_answering_questions_escalates_on_the_timer(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    caller.dial().await.unwrap();
    caller.press("1").await.unwrap();
    assert!(escalations(&app).await.is_empty());
    // The caller is still thinking over the postcode; the key press was a quarter minute ago.
    app.execute("UPDATE tickets SET created_at = created_at - 16000 WHERE number = 100001").await;
    let escalated = eventually("the worker to escalate the waiting hazard", Duration::from_secs(10), || async {
        escalations(&app).await.first().cloned()
    })
    .await;
    assert_eq!((escalated["ticket_number"].as_str(), escalated["policy"].as_str()), (Some("100001"), Some("hazard")));
    // The place given afterwards still reaches the ticket.
    caller.press("152610").await.unwrap();
    assert_eq!(ticket(&app, "100001").await["settlement"]["name"], "Углич");
    assert_eq!(escalations(&app).await.len(), 1, "escalated once");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_through_that_fails_returns_the_caller_to_the_head_and_pauses_the_operator() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    for dialect in [Dialect::Twilio, Dialect::Jambonz] {
        let operator = app.operator_on_shift(Some("+79990001122")).await;
        let mut first = Caller::new(&app.base, dialect, "+79101230001");
        first.dial().await.unwrap();
        first.press("0").await.unwrap();
        let mut second = Caller::new(&app.base, dialect, "+79101230002");
        second.dial().await.unwrap();
        second.press("0").await.unwrap();
        second.press("2").await.unwrap();
        let (status, taken) = app.post("/api/queue/next", &operator, json!({})).await;
        assert_eq!(status, 200, "{taken}");
        assert_eq!(first.wait_in_queue().await.unwrap().waiting, Waiting::Left);
        let dialed = first.leave_queue("leave").await.unwrap();
        assert!(matches!(&dialed.waiting, Waiting::Dialed { action_url: Some(_), .. }), "{dialed:?}");

        let back = first.dial_ends("no-answer").await.unwrap();
        assert!(back.text().contains("Вы снова в начале очереди"), "{}", back.text());
        assert!(matches!(back.waiting, Waiting::Queue { .. }), "{back:?}");
        let (_, me) = app.get("/api/operators/me", &operator).await;
        assert_eq!(me["operator"]["status"], "paused", "{me}");
        assert_eq!(me["operator"]["pause_reason"], "не ответил на звонок");
        let (_, queue) = app.get("/api/queue", &operator).await;
        assert_eq!(queue["items"][0]["id"], taken["item"]["id"], "back at the head: {queue}");
        let call = app.store.call_by_provider_id(dialect.as_str(), &first.call_id).await.unwrap().unwrap();
        assert_eq!(call.status.to_string(), "queued");

        // Another operator answers this time; after the conversation the call ends.
        let other = app.operator_on_shift(Some("sip:anna@pbx.example")).await;
        let (status, _) = app.post("/api/queue/next", &other, json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(first.wait_in_queue().await.unwrap().waiting, Waiting::Left);
        let dialed = first.leave_queue("leave").await.unwrap();
        assert!(matches!(&dialed.waiting, Waiting::Dialed { target, .. } if target == "sip:anna@pbx.example"));
        assert_eq!(first.dial_ends("completed").await.unwrap().waiting, Waiting::Ended);
        for caller in [&mut first, &mut second] {
            caller.status("completed", 20).await.unwrap();
        }
        for token in [&operator, &other] {
            app.http
                .put(app.url("/api/operators/me"))
                .bearer_auth(token)
                .json(&json!({"status": "offline"}))
                .send()
                .await
                .unwrap();
        }
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_caller_can_turn_the_wait_into_a_call_back_that_keeps_the_place() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let operator = app.operator_on_shift(Some("+79990001122")).await;
    let mut busy = Caller::new(&app.base, Dialect::Jambonz, "+79101230009");
    busy.dial().await.unwrap();
    busy.press("0").await.unwrap();
    assert_eq!(app.post("/api/queue/next", &operator, json!({})).await.0, 200);
    let mut ahead = Caller::new(&app.base, Dialect::Twilio, "+79101230008");
    ahead.dial().await.unwrap();
    ahead.press("0").await.unwrap();
    ahead.press("2").await.unwrap();

    for dialect in [Dialect::Twilio, Dialect::Jambonz] {
        let mut caller = Caller::new(&app.base, dialect, "+79101234567");
        caller.dial().await.unwrap();
        caller.press("0").await.unwrap();
        caller.press("2").await.unwrap();
        let (_, before) = app.get("/api/queue", &operator).await;
        let place = before["items"].as_array().unwrap().iter().position(|i| i["caller_number"] == "+79101234567");
        assert_eq!(place, Some(1), "behind the caller ahead: {before}");
        let hold = caller.wait_in_queue().await.unwrap();
        assert!(hold.text().contains("Ваш номер в очереди — второй"), "{}", hold.text());
        assert_in_words(&hold);
        // A minute later the caller is taken out of the queue for a moment and offered a call back.
        app.execute("UPDATE calls SET queued_at = queued_at - 61000 WHERE status = 'queued'").await;
        assert_eq!(caller.wait_in_queue().await.unwrap().waiting, Waiting::Left);
        let offer = caller.leave_queue("leave").await.unwrap();
        assert!(offer.text().contains("очередь сохранилась, нажмите 1"), "{}", offer.text());
        assert_in_words(&offer);
        let done = caller.press("1").await.unwrap();
        assert!(done.text().contains("Оператор перезвонит вам"), "{}", done.text());
        assert_eq!(done.waiting, Waiting::Ended);
        let (_, after) = app.get("/api/queue", &operator).await;
        let items = after["items"].as_array().unwrap();
        assert_eq!(items.len(), 2, "{after}");
        assert_eq!(
            (items[1]["kind"].as_str(), items[1]["caller_number"].as_str()),
            (Some("callback"), Some("+79101234567"))
        );
        assert_eq!(items[1]["position"], 2, "the call back keeps the place the caller had");
        // The next caller of the loop is the same number: the call back is already there.
        let (_, list) = app.get("/api/queue", &operator).await;
        let id = list["items"][1]["id"].as_str().unwrap().to_string();
        app.execute(&format!("UPDATE queue_items SET state = 'cancelled' WHERE id = '{id}'")).await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withheld_numbers_are_never_offered_or_promised_a_call_back() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    // Nobody on shift: a withheld caller may leave a message; no call back is offered.
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "anonymous");
    caller.dial().await.unwrap();
    let nobody = caller.press("0").await.unwrap();
    assert!(nobody.text().contains("нет ни одного оператора"), "{}", nobody.text());
    assert!(!nobody.text().contains("перезвон"), "{}", nobody.text());
    assert!(matches!(nobody.waiting, Waiting::Recording { .. }), "{nobody:?}");
    let taken = caller.record("https://api.twilio.com/recordings/RE9.wav", 20).await.unwrap();
    assert!(taken.text().contains("Сообщение принято") && !taken.text().contains("перезвон"), "{}", taken.text());
    let message = ticket(&app, "100001").await;
    assert_eq!((message["category"].as_str(), message["status"].as_str()), (Some("question"), Some("queued")));
    // jambonz cannot record: the caller is told plainly to call later, with 112 for danger.
    let mut caller = Caller::new(&app.base, Dialect::Jambonz, "anonymous");
    caller.dial().await.unwrap();
    let later = caller.press("0").await.unwrap();
    assert!(later.text().contains("позвоните позже") && later.text().contains("сто двенадцать"), "{later:?}");
    assert_eq!(later.waiting, Waiting::Ended);

    // The only operator busy: a long wait is said, and the withheld caller waits, never leaving
    // the queue for an offer.
    let operator = app.operator_on_shift(Some("+79990001122")).await;
    let mut busy = Caller::new(&app.base, Dialect::Twilio, "+79101230009");
    busy.dial().await.unwrap();
    busy.press("0").await.unwrap();
    assert_eq!(app.post("/api/queue/next", &operator, json!({})).await.0, 200);
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "anonymous");
    caller.dial().await.unwrap();
    let told = caller.press("0").await.unwrap();
    assert!(told.text().contains("Все операторы заняты. Ожидание —"), "{}", told.text());
    assert!(!told.text().contains("перезвон"), "{}", told.text());
    assert!(matches!(told.waiting, Waiting::Queue { .. }), "{told:?}");
    app.execute("UPDATE calls SET queued_at = queued_at - 600000 WHERE status = 'queued'").await;
    let poll = caller.wait_in_queue().await.unwrap();
    assert_ne!(poll.waiting, Waiting::Left, "no offer for a number that cannot be rung back");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_nobody_on_shift_a_hazard_is_put_through_to_the_duty_dispatcher() {
    let app = TestApp::spawn_with(TestDb::sqlite().await, &[("HOTLINE_DUTY_PHONE", "+7 (4852) 79-00-00")]).await;
    for (dialect, from) in [(Dialect::Twilio, "+79101234567"), (Dialect::Jambonz, "+79101234568")] {
        let mut caller = Caller::new(&app.base, dialect, from);
        caller.dial().await.unwrap();
        caller.press("1").await.unwrap();
        caller.press("152610").await.unwrap();
        let through = caller.press("2").await.unwrap();
        assert!(through.text().contains("Соединяю с дежурным диспетчером"), "{}", through.text());
        assert!(
            matches!(&through.waiting, Waiting::Dialed { target, action_url: Some(_) } if target == "+74852790000"),
            "{through:?}"
        );
        // The duty phone is busy: the caller is not dropped, and may be rung back.
        let busy = caller.dial_ends("busy").await.unwrap();
        assert!(busy.text().contains("диспетчеры вашу заявку получили"), "{}", busy.text());
        assert!(busy.text().contains("перезвонил вам, когда начнёт работу, нажмите 1"), "{}", busy.text());
        let done = caller.press("1").await.unwrap();
        assert!(done.text().contains("перезвонит"), "{}", done.text());
        caller.status("completed", 9).await.unwrap();
        let operator = app.login_as(Role::Operator).await;
        let (_, queue) = app.get("/api/queue", &operator).await;
        let callback = queue["items"].as_array().unwrap().iter().find(|i| i["kind"] == "callback").cloned();
        assert!(callback.is_some(), "{queue}");
        app.execute("UPDATE queue_items SET state = 'cancelled' WHERE kind = 'callback'").await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planned_outages_incidents_and_waits_are_said_in_words() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let now = jiff::Timestamp::now();
    let at = |minutes: i64| (now + jiff::SignedDuration::from_mins(minutes)).to_string();
    for (settlement, from, to, streets) in [
        (7, at(24 * 60 + 7), at(24 * 60 + 250), "ул. Кирова, д. 3/1; пер. Школьный"),
        (5, at(-30), at(95), "пр-т Ленина"),
    ] {
        let body = json!({"settlement_id": settlement, "starts_at": from, "ends_at": to, "streets": streets});
        assert_eq!(app.post("/api/planned-outages", &supervisor, body).await.0, 201);
    }
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    caller.dial().await.unwrap();
    caller.press("3").await.unwrap();
    let schedule = caller.press("152240").await.unwrap();
    assert!(
        schedule.text().contains("завтра") && schedule.text().contains("улица Кирова, дом три дробь один"),
        "{schedule:?}"
    );
    assert!(schedule.text().contains("переулок Школьный"), "{}", schedule.text());
    assert_in_words(&schedule);
    // A planned outage in force: said, with no emergency report offered, the operator one key away.
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234568");
    caller.dial().await.unwrap();
    caller.press("2").await.unwrap();
    let planned = caller.press("152150").await.unwrap();
    assert!(planned.text().contains("плановое отключение") && planned.text().contains("нажмите 0"), "{planned:?}");
    assert!(!planned.text().contains("сообщить об отключении"), "{}", planned.text());
    assert_in_words(&planned);
    let operator = app.login_as(Role::Operator).await;
    let (_, tickets) = app.get("/api/tickets", &operator).await;
    assert_eq!(tickets["items"].as_array().map(Vec::len), Some(0), "no emergency ticket for a planned outage");
    app.stop().await;
}

/// Effects for the engine alone: every action takes its first outcome.
struct FirstOutcomes;

impl Effects for FirstOutcomes {
    async fn perform(
        &mut self,
        action: &str,
        _: &toml::Table,
        vars: &mut BTreeMap<String, String>,
        _: &mut Option<hotline::tickets::TicketNumber>,
    ) -> anyhow::Result<String> {
        vars.insert("ticket_number".into(), "100001".into());
        Ok(hotline::ivr::actions::find(action).expect("a known action").outcomes[0].into())
    }
    async fn settlement_names(&mut self) -> anyhow::Result<Vec<String>> {
        Ok(Vec::new())
    }
}

fn spoken(actions: &[Action]) -> String {
    let mut text = Vec::new();
    for action in actions {
        match action {
            Action::Say { text: said, .. } => text.push(said.clone()),
            Action::Gather(g) => text.extend(g.prompts.iter().filter_map(|p| match p {
                hotline::telephony::Prompt::Say { text, .. } => Some(text.clone()),
                _ => None,
            })),
            _ => {}
        }
    }
    text.join(" ")
}

async fn press(flow: &hotline::ivr::Flow, urls: &StepUrls, at: CallState, key: &str) -> engine::Step {
    engine::step(flow, at, Input::Digits(key.into()), urls, &mut FirstOutcomes).await.unwrap()
}

#[tokio::test]
async fn every_menu_obeys_one_navigation_grammar() {
    let flow = hotline::ivr::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-scripts")).unwrap();
    let urls = StepUrls { action: "http://x/a".into(), no_input: "http://x/n".into(), wait: "http://x/w".into() };
    let menu = flow.menu.clone().expect("a main menu");
    let mut menus: Vec<(&String, &NodeKind)> = flow
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n.kind, NodeKind::Menu { .. }))
        // A dispatcher on a call the hotline placed is no caller (see outbound.rs).
        .filter(|(id, _)| !flow.outbound.keys().any(|script| id.starts_with(&format!("{script}."))))
        .map(|(id, n)| (id, &n.kind))
        .collect();
    menus.sort_by_key(|(id, _)| id.as_str());
    assert!(menus.len() >= 10, "{menus:?}");
    for (id, kind) in menus {
        let NodeKind::Menu { branches, .. } = kind else { unreachable!() };
        let at = CallState { node: id.clone(), ..Default::default() };
        let press = |key: &'static str| press(&flow, &urls, at.clone(), key);
        let repeat = press("*").await;
        assert_eq!(&repeat.state.node, id, "{id}: * repeats the menu");
        if !branches.contains_key("0") {
            let operator = press("0").await;
            assert!(spoken(&operator.actions).contains("Соединяю с оператором"), "{id}: 0 is the operator");
        }
        if *id != menu && !branches.contains_key("9") {
            let main = press("9").await;
            assert_eq!(main.state.node, menu, "{id}: 9 is the main menu");
        }
        let wrong = press("#").await;
        assert_eq!(&wrong.state.node, id, "{id}: a wrong key is asked again once");
        let twice = self::press(&flow, &urls, wrong.state, "#").await;
        assert_ne!(&twice.state.node, id, "{id}: ... and only once");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_in_the_list_of_a_shared_postcode_is_asked_again() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let admin = app.login_as(Role::Admin).await;
    let csv =
        "name,type,district,postcode\nПокровское,село,Угличский район,152615\nИвановское,село,Угличский район,152615\n";
    assert_eq!(app.post_csv("/api/settlements/import", &admin, csv).await.0, 200);
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    caller.dial().await.unwrap();
    caller.press("2").await.unwrap();
    let list = caller.press("152615").await.unwrap().text();
    assert!(list.contains("несколько населённых пунктов") && list.contains("нажмите 2"), "{list}");
    let again = caller.press("7").await.unwrap();
    assert!(again.text().starts_with("Такого номера нет в списке."), "{}", again.text());
    assert!(matches!(again.waiting, Waiting::Input { .. }));
    let chosen = caller.press("2").await.unwrap().text();
    let second = if list.find("Ивановское") < list.find("Покровское") {
        "Покровское"
    } else {
        "Ивановское"
    };
    assert!(chosen.starts_with(&format!("{second}.")), "{chosen}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_web_appeal_may_name_its_kind_as_spec_does() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let response = app
        .http
        .post(app.url("/api/public/appeals"))
        .json(&json!({"kind": "question", "text": "Когда дадут свет на улице Мира?", "phone": "+79100000900"}))
        .send()
        .await
        .unwrap();
    let (status, body) = crate::helpers::status_and_json(response).await;
    assert_eq!(status, 201, "{body}");
    let ticket = ticket(&app, body["number"].as_str().unwrap()).await;
    assert_eq!(ticket["category"], "question");
    app.stop().await;
}
