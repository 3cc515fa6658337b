//! The operator queue: serving order under any sequence of operations, a live call end to end,
//! callbacks that keep their place, and exactly-once hand-out across two server processes.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use hotline::auth::Role;
use hotline::clock::Timestamp;
use hotline::queue::{ItemState, Kind, NewItem, Ordering};
use hotline::store::{NewCall, Store};
use hotline::telephony::Dialect;
use hotline::tickets::Category;
use hotline::tools::simulator::{Caller, Waiting};
use proptest::prelude::*;
use serde_json::json;

use crate::helpers::{Process, TestApp, TestDb, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    a_callback_keeps_its_place_and_a_second_one_is_refused,
    work_resolved_elsewhere_leaves_the_queue_and_a_waiting_caller_stays
);

const T0: Timestamp = Timestamp(1_796_000_000_000);
const CATEGORIES: [Category; 5] =
    [Category::Hazard, Category::Outage, Category::Theft, Category::Question, Category::Appeal];

const KINDS: [Kind; 3] = [Kind::LiveCall, Kind::Callback, Kind::Ticket];

#[derive(Debug, Clone)]
enum Op {
    /// An item of a kind (a live call can hang up) and a category, `age_s` seconds before now.
    Enqueue {
        kind: usize,
        category: usize,
        age_s: i64,
    },
    Next {
        operator: usize,
    },
    Release {
        operator: usize,
    },
    Complete {
        operator: usize,
    },
    HangUp {
        call: usize,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (0..KINDS.len(), 0..CATEGORIES.len(), 0..900i64)
            .prop_map(|(kind, category, age_s)| Op::Enqueue { kind, category, age_s }),
        3 => (0..3usize).prop_map(|operator| Op::Next { operator }),
        1 => (0..3usize).prop_map(|operator| Op::Release { operator }),
        2 => (0..3usize).prop_map(|operator| Op::Complete { operator }),
        1 => (0..40usize).prop_map(|call| Op::HangUp { call }),
    ]
}

/// The serving order as SPEC §4 and §6 state it, written out apart from `Ordering::tier`:
/// hazards before everything; then, within hazards and within the rest, a caller (on the line
/// or to ring back) before work without one; then by the wait with the category's offset.
fn model_key(kind: Kind, category: Category, enqueued_at: Timestamp, id: &str) -> (bool, bool, i64, String) {
    let offset = match category {
        Category::Outage => 300,
        Category::Theft => 120,
        _ => 0,
    };
    (category != Category::Hazard, kind == Kind::Ticket, enqueued_at.millis() - offset * 1000, id.to_string())
}

type ModelKey = (bool, bool, i64, String);

/// Runs one sequence against a fresh store and a model of what the order must be.
async fn check_sequence(ops: Vec<Op>) {
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    let ordering = Ordering::default();
    let mut operators = Vec::new();
    for i in 0..3 {
        operators.push(store.create_user(&format!("op{i}"), "x", Role::Operator, T0).await.unwrap());
    }
    // The model: waiting items in serving order; who holds what; what is finished.
    let mut waiting: BTreeSet<ModelKey> = BTreeSet::new();
    let mut keys: HashMap<String, ModelKey> = HashMap::new();
    let mut items: HashMap<String, (Kind, Category)> = HashMap::new();
    let mut held: HashMap<usize, String> = HashMap::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut calls: Vec<(String, String)> = Vec::new(); // (call id, live-call item id)
    let mut handed_out: HashSet<String> = HashSet::new();
    for (step, op) in ops.into_iter().enumerate() {
        let now = T0.plus_seconds(1000 + step as i64);
        match op {
            Op::Enqueue { kind, category, age_s } => {
                let kind = KINDS[kind];
                let provider_id = format!("CA{step}");
                let call = store
                    .write(move |tx| {
                        let provider_id = provider_id.clone();
                        Box::pin(async move {
                            let caller = hotline::calls::CallerId::parse("+79101234567");
                            let new_call = NewCall {
                                provider_call_id: &provider_id,
                                dialect: hotline::telephony::Dialect::Twilio,
                                caller_number: Some(&caller),
                                called_number: None,
                                status: hotline::calls::CallStatus::Queued,
                                state: "{}",
                            };
                            tx.lock_or_create(&new_call, true, now).await.map(|(call, _)| call)
                        })
                    })
                    .await
                    .unwrap();
                let category = CATEGORIES[category];
                let enqueued_at = now.plus_seconds(-age_s);
                let item = NewItem {
                    kind,
                    ticket_id: None,
                    call_id: (kind != Kind::Ticket).then(|| call.id.clone()),
                    // One number per step: a number has one call back waiting at most.
                    caller_number: (kind == Kind::Callback).then(|| format!("+7910{step:07}")),
                    category,
                    priority: category.default_priority(),
                    enqueued_at,
                };
                let item = store.enqueue(&item, &ordering, now).await.unwrap();
                let key = model_key(kind, category, enqueued_at, &item.id);
                waiting.insert(key.clone());
                keys.insert(item.id.clone(), key);
                items.insert(item.id.clone(), (kind, category));
                if kind == Kind::LiveCall {
                    calls.push((call.id, item.id));
                }
            }
            Op::Next { operator } => {
                let result = store.take_next(&operators[operator], true, now.plus_seconds(3600), now).await;
                if held.contains_key(&operator) {
                    assert!(result.is_err(), "an operator holds at most one item");
                    continue;
                }
                let item = result.unwrap();
                let expected = waiting.iter().next().cloned();
                match (item, expected) {
                    (None, None) => {}
                    (Some(item), Some(key)) => {
                        // The promises themselves, whatever the model: no hazard waits behind
                        // anything else, no caller behind web work of the same priority.
                        let (kind, category) = items[&item.id];
                        for other in waiting.iter().filter(|k| k.3 != item.id) {
                            let (other_kind, other_category) = items[&other.3];
                            assert!(
                                !(other_category == Category::Hazard && category != Category::Hazard),
                                "a {kind} of {category} was handed out while a hazard waited"
                            );
                            assert!(
                                !(kind == Kind::Ticket
                                    && other_kind != Kind::Ticket
                                    && other_category.default_priority() == category.default_priority()),
                                "web work of {category} was handed out while a {other_kind} of {other_category} waited"
                            );
                        }
                        assert_eq!(item.id, key.3, "the serving order holds");
                        assert!(!finished.contains(&item.id), "a finished item is never handed out");
                        waiting.remove(&key);
                        held.insert(operator, item.id.clone());
                        handed_out.insert(item.id);
                    }
                    (got, want) => panic!("handed out {got:?}, the model expected {want:?}"),
                }
            }
            Op::Release { operator } => {
                let Some(id) = held.remove(&operator) else { continue };
                let released = store.release(&id, &operators[operator], now).await.unwrap();
                assert_eq!(released.state, ItemState::Waiting);
                waiting.insert(keys[&id].clone());
            }
            Op::Complete { operator } => {
                let Some(id) = held.remove(&operator) else { continue };
                store.complete(&id, &operators[operator], "resolved", None, now).await.unwrap();
                finished.insert(id);
            }
            Op::HangUp { call } => {
                let Some((call_id, item_id)) = calls.get(call).cloned() else { continue };
                store
                    .write(move |tx| {
                        let call_id = call_id.clone();
                        Box::pin(async move { tx.abandon_call(&call_id, now).await })
                    })
                    .await
                    .unwrap();
                // Waiting or already taken, the caller's item is finished; an operator who held
                // it is told and free to take the next.
                if waiting.remove(&keys[&item_id]) || held.values().any(|h| *h == item_id) {
                    held.retain(|_, h| *h != item_id);
                    finished.insert(item_id);
                }
            }
        }
        let listed: Vec<String> = store.waiting_items().await.unwrap().into_iter().map(|i| i.id).collect();
        let model: Vec<String> = waiting.iter().map(|k| k.3.clone()).collect();
        assert_eq!(listed, model, "GET /api/queue lists the model's order");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn any_sequence_keeps_the_serving_order_and_hands_out_nothing_twice(ops in proptest::collection::vec(op(), 1..40)) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(check_sequence(ops));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_call_is_put_through_to_the_operator_who_takes_it() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    for dialect in [Dialect::Twilio, Dialect::Jambonz] {
        let operator = app.operator_on_shift(Some("sip:olga@pbx.example")).await;
        let mut caller = Caller::new(&app.base, dialect, "+79101234567");
        caller.dial().await.unwrap();
        // An operator is free: no call-back offer, straight to the queue.
        let queued = caller.press("0").await.unwrap();
        assert!(matches!(queued.waiting, Waiting::Queue { .. }), "{queued:?}");
        assert!(!queued.text().contains("заняты"), "{}", queued.text());
        let first_poll = caller.wait_in_queue().await.unwrap();
        assert!(first_poll.text().contains("Ваш номер в очереди — первый."), "{}", first_poll.text());
        let second_poll = caller.wait_in_queue().await.unwrap();
        assert!(!second_poll.text().contains("номер в очереди"), "the same place is not announced twice");

        let (status, taken) = app.post("/api/queue/next", &operator, json!({})).await;
        assert_eq!(status, 200, "{taken}");
        assert_eq!(taken["item"]["kind"], "live_call");
        assert_eq!(taken["item"]["caller_number"], "+79101234567");

        let leave = caller.wait_in_queue().await.unwrap();
        assert_eq!(leave.waiting, Waiting::Left, "the next poll leaves the queue: {leave:?}");
        let dialed = caller.leave_queue("leave").await.unwrap();
        assert!(
            matches!(&dialed.waiting, Waiting::Dialed { target, action_url: Some(_) } if target == "sip:olga@pbx.example"),
            "{dialed:?}"
        );
        let call = app.store.call_by_provider_id(dialect.as_str(), &caller.call_id).await.unwrap().unwrap();
        assert_eq!(call.status.to_string(), "connected");

        caller.status("completed", 9).await.unwrap();
        let (_, me) = app.get("/api/operators/me", &operator).await;
        assert_eq!(me["operator"]["status"], "wrap_up", "{me}");
        let item_id = taken["item"]["id"].as_str().unwrap();
        let (status, body) =
            app.post(&format!("/api/queue/{item_id}/complete"), &operator, json!({"disposition": "teleport"})).await;
        assert_eq!(status, 422, "{body}");
        let (status, done) = app
            .post(
                &format!("/api/queue/{item_id}/complete"),
                &operator,
                json!({"disposition": "resolved", "note": "Проконсультирована"}),
            )
            .await;
        assert_eq!(status, 200, "{done}");
        assert_eq!(done["state"], "done");
        let (_, me) = app.get("/api/operators/me", &operator).await;
        assert_eq!(me["operator"]["status"], "available");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_hangs_up_first_is_abandoned_with_the_wait_and_not_handed_out() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let operator = app.operator_on_shift(Some("+79990001122")).await;
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    caller.dial().await.unwrap();
    caller.press("0").await.unwrap();
    caller.leave_queue("hangup").await.unwrap();
    caller.status("completed", 5).await.unwrap();
    let call = app.store.call_by_provider_id("twilio", &caller.call_id).await.unwrap().unwrap();
    assert_eq!(call.status.to_string(), "abandoned");
    assert!(call.queued_at.is_some() && call.ended_at.is_some(), "the wait is kept: {call:?}");
    let item = app.store.call_item(&call.id).await.unwrap().unwrap();
    assert_eq!(item.state, ItemState::Abandoned);
    let supervisor = app.login_as(Role::Supervisor).await;
    let (status, abandoned) = app.get("/api/queue/abandoned", &supervisor).await;
    assert_eq!(status, 200);
    assert_eq!(abandoned[0]["caller_number"], "+79101234567", "{abandoned}");
    assert!(abandoned[0]["waited_s"].as_i64().is_some_and(|w| w >= 0));
    let response = app.http.post(app.url("/api/queue/next")).bearer_auth(&operator).send().await.unwrap();
    assert_eq!(response.status(), 204, "an abandoned call is not handed out");

    // Taken, then the caller hangs up before the next poll: the operator sees it and moves on.
    let mut impatient = Caller::new(&app.base, Dialect::Twilio, "+79101234568");
    impatient.dial().await.unwrap();
    impatient.press("0").await.unwrap();
    let (_, taken) = app.post("/api/queue/next", &operator, json!({})).await;
    impatient.status("completed", 5).await.unwrap();
    let (_, me) = app.get("/api/operators/me", &operator).await;
    assert_eq!(me["item"]["state"], "abandoned", "{me}");
    let item_id = taken["item"]["id"].as_str().unwrap();
    let (status, _) =
        app.post(&format!("/api/queue/{item_id}/complete"), &operator, json!({"disposition": "resolved"})).await;
    assert_eq!(status, 200);
    app.stop().await;
}

async fn a_callback_keeps_its_place_and_a_second_one_is_refused(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    caller.dial().await.unwrap();
    caller.press("0").await.unwrap();
    let asked = caller.press("1").await.unwrap();
    assert!(asked.text().contains("перезвонит"), "{}", asked.text());
    let operator = app.login_as(Role::Operator).await;
    // A ticket made later waits behind the callback: the callback kept the caller's place.
    let (status, _) =
        app.post("/api/tickets", &operator, json!({"category": "question", "description": "Вопрос по договору"})).await;
    assert_eq!(status, 201);
    let (_, queue) = app.get("/api/queue", &operator).await;
    let items = queue["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["kind"], "callback");
    assert_eq!(items[0]["position"], 1);
    assert!(items[0]["enqueued_at"].as_str() < items[1]["enqueued_at"].as_str());

    let mut again = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    again.dial().await.unwrap();
    again.press("0").await.unwrap();
    let refused = again.press("1").await.unwrap();
    assert!(refused.text().contains("Вы уже записаны на обратный звонок"), "{}", refused.text());
    let (_, queue) = app.get("/api/queue", &operator).await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 2, "no second callback");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_operator_loses_the_item_back_to_the_queue_in_its_place() {
    let db = TestDb::sqlite().await;
    let store = db.store().await;
    let ordering = Ordering::default();
    let olga = store.create_user("olga", "x", Role::Operator, T0).await.unwrap();
    let ivan = store.create_user("ivan", "x", Role::Operator, T0).await.unwrap();
    let item = |category: Category, at: Timestamp| NewItem {
        kind: Kind::Ticket,
        ticket_id: None,
        call_id: None,
        caller_number: None,
        category,
        priority: category.default_priority(),
        enqueued_at: at,
    };
    let first = store.enqueue(&item(Category::Question, T0), &ordering, T0).await.unwrap();
    store.enqueue(&item(Category::Question, T0.plus_seconds(10)), &ordering, T0).await.unwrap();
    let taken = store.take_next(&olga, false, T0.plus_seconds(90), T0.plus_seconds(20)).await.unwrap().unwrap();
    assert_eq!(taken.id, first.id);
    store.touch_operator(&olga, T0.plus_seconds(150), T0.plus_seconds(60)).await.unwrap();
    assert_eq!(store.expire_leases(T0.plus_seconds(120)).await.unwrap(), 0, "a renewed lease holds");
    assert_eq!(store.expire_leases(T0.plus_seconds(151)).await.unwrap(), 1);
    let again = store.take_next(&ivan, false, T0.plus_seconds(300), T0.plus_seconds(152)).await.unwrap().unwrap();
    assert_eq!(again.id, first.id, "the returned item kept its place at the head");
}

/// What one operator took, for checking exactly-once across processes.
type Taken = Arc<Mutex<Vec<String>>>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_postgres_hand_out_2000_items_exactly_once_to_16_operators() {
    let Some(db) = TestDb::postgres().await else { return };
    let store: Store = db.store().await;
    let ordering = Ordering::default();
    let total = std::env::var("QUEUE_ITEMS").ok().and_then(|n| n.parse().ok()).unwrap_or(2000usize);
    for i in 0..total {
        let category = CATEGORIES[i % CATEGORIES.len()];
        let item = NewItem {
            kind: Kind::Ticket,
            ticket_id: None,
            call_id: None,
            caller_number: None,
            category,
            priority: category.default_priority(),
            enqueued_at: T0.plus_seconds(i as i64),
        };
        store.enqueue(&item, &ordering, T0).await.unwrap();
    }
    let env = [("HOTLINE_DATABASE_URL", db.url.as_str())];
    let servers = [Process::serve(db.dir.path(), &env).await, Process::serve(db.dir.path(), &env).await];
    let http = reqwest::Client::new();
    let mut tokens = Vec::new();
    for i in 0..16 {
        let name = format!("operator{i}");
        hotline::auth::add_user(&store, &name, "password123", Role::Operator, T0).await.unwrap();
        let server = &servers[i % 2];
        let response = http
            .post(server.url("/api/auth/login"))
            .json(&json!({"username": name, "password": "password123"}))
            .send()
            .await
            .unwrap();
        let (_, body) = status_and_json(response).await;
        tokens.push((server.url(""), body["token"].as_str().unwrap().to_string()));
    }
    let taken: Taken = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = tokens
        .into_iter()
        .map(|(base, token)| {
            let (http, taken) = (http.clone(), taken.clone());
            tokio::spawn(async move {
                loop {
                    let response =
                        http.post(format!("{base}/api/queue/next")).bearer_auth(&token).send().await.unwrap();
                    if response.status() == 204 {
                        break;
                    }
                    let (status, body) = status_and_json(response).await;
                    assert_eq!(status, 200, "{body}");
                    let id = body["item"]["id"].as_str().unwrap().to_string();
                    let done = http
                        .post(format!("{base}/api/queue/{id}/complete"))
                        .bearer_auth(&token)
                        .json(&json!({"disposition": "resolved"}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(done.status(), 200);
                    taken.lock().unwrap().push(id);
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let taken = taken.lock().unwrap().clone();
    let unique: HashSet<&String> = taken.iter().collect();
    assert_eq!(taken.len(), total, "every item was handed out");
    assert_eq!(unique.len(), total, "no item was handed out twice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returning_caller_is_offered_their_settlement_and_linked_to_their_open_ticket() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let mut first = Caller::new(&app.base, Dialect::Twilio, "89101234567");
    first.dial().await.unwrap();
    first.press("2").await.unwrap();
    first.press("152610").await.unwrap();
    let reported = first.press("1").await.unwrap();
    assert!(reported.text().contains("1 0 0 0 0 1"), "{}", reported.text());

    // The same number, written the international way, calls again.
    // Before the menu they hear what is known of their settlement's outage.
    let mut again = Caller::new(&app.base, Dialect::Jambonz, "+79101234567");
    let greeting = again.dial().await.unwrap().text();
    let news = "Об отключении в населённом пункте Углич уже сообщили.";
    assert!(greeting.contains(news) && greeting.find(news) < greeting.find("Нет света"), "{greeting}");
    let offered = again.press("2").await.unwrap();
    assert!(offered.text().contains("Вы звоните по поводу населённого пункта Углич?"), "{}", offered.text());
    let known = again.press("1").await.unwrap();
    assert!(known.text().contains(news), "{}", known.text());

    let operator = app.operator_on_shift(Some("+79990001122")).await;
    let mut third = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    third.dial().await.unwrap();
    third.press("0").await.unwrap();
    let (status, taken) = app.post("/api/queue/next", &operator, json!({})).await;
    assert_eq!(status, 200, "{taken}");
    assert_eq!(taken["item"]["ticket_number"], "100001", "linked to the open ticket: {taken}");
    assert_eq!(taken["ticket"]["category"], "outage");
    app.stop().await;
}

/// The console shows a taken item from one answer: the ticket with its trail, notes and the steps
/// its lifecycle allows, and the caller's path through the IVR.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taking_an_item_answers_with_all_the_console_shows_of_it() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let operator = app.operator_on_shift(Some("+79990001122")).await;
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    caller.dial().await.unwrap();
    for key in ["1", "152610", "1"] {
        caller.press(key).await.unwrap();
    }
    if !matches!(caller.waiting, Waiting::Queue { .. }) {
        caller.press("2").await.unwrap();
    }
    let (status, taken) = app.post("/api/queue/next", &operator, json!({})).await;
    assert_eq!(status, 200, "{taken}");
    let ticket = &taken["ticket"];
    assert_eq!(ticket["status"], "in_progress", "{taken}");
    assert!(ticket["events"].as_array().is_some_and(|e| !e.is_empty()), "{taken}");
    assert!(ticket["notes"].is_array(), "{taken}");
    assert_eq!(ticket["allowed_transitions"], json!(["queued", "escalated", "resolved", "cancelled"]), "{taken}");
    let answers = taken["answers"].as_array().expect("a call's item has its IVR path");
    assert_eq!(answers[0]["input"], "1", "{taken}");

    let (_, detail) = app.get(&format!("/api/tickets/{}", ticket["number"].as_str().unwrap()), &operator).await;
    assert_eq!(detail["allowed_transitions"], ticket["allowed_transitions"], "{detail}");
    assert_eq!(detail["events"], ticket["events"], "{detail}");
    app.stop().await;
}

/// A web appeal answered from its ticket page (or a dispatcher's board) is finished: its work
/// item no longer waits for an operator. A caller on the line with a ticket keeps their turn.
async fn work_resolved_elsewhere_leaves_the_queue_and_a_waiting_caller_stays(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let response = app
        .http
        .post(app.url("/api/public/appeals"))
        .json(&json!({"kind": "question", "text": "Когда дадут свет на улице Мира?", "phone": "+79100000901"}))
        .send()
        .await
        .unwrap();
    let (status, appeal) = crate::helpers::status_and_json(response).await;
    assert_eq!(status, 201, "{appeal}");
    let number = appeal["number"].as_str().unwrap();
    let supervisor = app.login_as(Role::Supervisor).await;
    let (_, before) = app.get("/api/queue", &supervisor).await;
    assert_eq!(before["items"].as_array().map(Vec::len), Some(1), "{before}");

    let other = app.login_as(Role::Operator).await;
    let (status, body) =
        app.post(&format!("/api/tickets/{number}/transition"), &other, json!({"to": "resolved"})).await;
    assert_eq!(status, 200, "{body}");
    let (_, after) = app.get("/api/queue", &supervisor).await;
    assert_eq!(after["items"].as_array().map(Vec::len), Some(0), "{after}");
    let operator = app.operator_on_shift(Some("+79990001123")).await;
    let response = app.http.post(app.url("/api/queue/next")).bearer_auth(&operator).send().await.unwrap();
    assert_eq!(response.status(), 204, "finished work is not handed out");

    // A hazard caller waits with their ticket; the dispatcher resolving it does not drop the call.
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234569");
    caller.dial().await.unwrap();
    caller.press("1").await.unwrap();
    caller.press("152610").await.unwrap();
    let queued = caller.press("1").await.unwrap();
    assert!(matches!(queued.waiting, Waiting::Queue { .. }), "{queued:?}");
    let hazard = queued.text().split("номер: ").nth(1).unwrap().split('.').next().unwrap().replace(' ', "");
    let dispatcher = app.login_as(Role::Dispatcher).await;
    let (status, body) =
        app.post(&format!("/api/tickets/{hazard}/transition"), &dispatcher, json!({"to": "resolved"})).await;
    assert_eq!(status, 200, "{body}");
    let (_, taken) = app.post("/api/queue/next", &operator, json!({})).await;
    assert_eq!(taken["item"]["kind"], "live_call", "{taken}");
    app.stop().await;
}
