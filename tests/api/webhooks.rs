//! Telephony webhooks end to end through the simulator: signatures, idempotent replays, silence,
//! and status callbacks that come late, twice or out of order.

use hotline::auth::Role;
use hotline::calls::CallStatus;
use hotline::clock::Timestamp;
use hotline::store::{NewCall, Store, StoreError};
use hotline::telephony::{Dialect, jambonz, twilio};
use hotline::tools::simulator::{Caller, Turn, Waiting};

use crate::helpers::{TestApp, TestDb};
use crate::on_both_backends;

on_both_backends!(
    with_the_database_down_callers_still_hear_what_to_do_and_the_service_recovers,
    a_failing_step_undoes_only_itself,
    replaying_every_step_of_a_twilio_call_changes_nothing,
    replaying_every_step_of_a_jambonz_call_changes_nothing,
    a_step_replayed_after_the_scripts_changed_gets_the_bytes_it_got_before,
    deliveries_of_one_step_at_once_get_one_answer_and_move_the_call_once
);

async fn replaying_every_step_of_a_twilio_call_changes_nothing(db: TestDb) {
    replay_every_step(db, Dialect::Twilio).await
}

async fn replaying_every_step_of_a_jambonz_call_changes_nothing(db: TestDb) {
    replay_every_step(db, Dialect::Jambonz).await
}

/// Walks a hazard report; after each step the same webhook is delivered again, and the answer
/// must be the same and no table may gain a row.
async fn replay_every_step(db: TestDb, dialect: Dialect) {
    let app = TestApp::spawn(db).await;
    app.operator_on_shift(None).await;
    let mut caller = Caller::new(&app.base, dialect, "+79101234567");
    let mut turns: Vec<Turn> = Vec::new();
    turns.push(caller.dial().await.unwrap());
    assert!(turns[0].text().contains("Оператор — 0"), "{}", turns[0].text());
    for keys in ["1", "152610", "1"] {
        let counts = app.store.call_table_counts().await.unwrap();
        let again = caller.replay_last().await.unwrap();
        assert_eq!(&again, turns.last().unwrap(), "a replay answers as the first delivery did");
        assert_eq!(app.store.call_table_counts().await.unwrap(), counts, "a replay adds no row");
        turns.push(caller.press(keys).await.unwrap());
    }
    let last = turns.last().unwrap();
    assert!(last.text().contains("1 0 0 0 0 1") && last.text().contains("восьми метров"), "{}", last.text());
    assert!(matches!(last.waiting, Waiting::Queue { .. }));
    let counts = app.store.call_table_counts().await.unwrap();
    assert_eq!(caller.replay_last().await.unwrap(), *last);
    assert_eq!(app.store.call_table_counts().await.unwrap(), counts);
    assert_eq!(counts[3], 1, "exactly one ticket");

    let token = app.login_as(Role::Operator).await;
    let (_, ticket) = app.get("/api/tickets/100001", &token).await;
    assert_eq!(ticket["category"], "hazard");
    assert_eq!(ticket["priority"], 1);
    assert_eq!(ticket["status"], "escalated");
    assert_eq!(ticket["settlement"]["name"], "Углич");
    assert_eq!(ticket["caller_number"], "+79101234567");
    let dispatcher = app.login_as(Role::Dispatcher).await;
    let (_, escalations) = app.get("/api/escalations?state=active", &dispatcher).await;
    let escalations = escalations.as_array().unwrap();
    assert_eq!(escalations.len(), 1, "one escalation, started with the ticket: {escalations:?}");
    assert_eq!(escalations[0]["ticket_number"], "100001");
    assert_eq!(escalations[0]["policy"], "hazard-uglich");
    assert_eq!(escalations[0]["steps"][0]["recipients"][0]["email"], "uglich-res@yarenergo.example");
    app.stop().await;
}

/// Copies the shipped scripts folder to `to`, with `from` replaced by `by` in every script.
fn scripts_changed(to: &std::path::Path, from: &str, by: &str) {
    fn copy(dir: &std::path::Path, to: &std::path::Path, from: &str, by: &str) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy(&path, &target, from, by);
            } else {
                std::fs::write(&target, std::fs::read_to_string(&path).unwrap().replace(from, by)).unwrap();
            }
        }
    }
    copy(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-scripts"), to, from, by);
}

/// Answers are stored packed against a dictionary of the scripts' words; after a restart on
/// changed scripts (a new dictionary) a provider's retry of an earlier step still gets the bytes
/// it got the first time, in both dialects, and a new call hears the new words.
async fn a_step_replayed_after_the_scripts_changed_gets_the_bytes_it_got_before(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut callers = Vec::new();
    for dialect in [Dialect::Twilio, Dialect::Jambonz] {
        let mut caller = Caller::new(&app.base, dialect, "+79101234567");
        let greeting = caller.dial().await.unwrap();
        assert!(greeting.text().contains("Звонок бесплатный"), "{}", greeting.text());
        caller.press("1").await.unwrap();
        let first = caller.last_answer.clone().unwrap();
        callers.push((caller, first));
    }
    let db = app.stop_keeping_db().await;
    let scripts = db.dir.path().join("changed-scripts");
    scripts_changed(&scripts, "Звонок бесплатный", "Звонок для вас бесплатный");
    let app = TestApp::spawn_with(db, &[("HOTLINE_SCRIPTS_DIR", scripts.to_str().unwrap())]).await;
    for (caller, first) in &mut callers {
        caller.moved_to(&app.base);
        let counts = app.store.call_table_counts().await.unwrap();
        caller.replay_last().await.unwrap();
        assert_eq!(caller.last_answer.as_ref(), Some(&*first), "{:?}: the replay is byte for byte", caller.dialect);
        assert_eq!(app.store.call_table_counts().await.unwrap(), counts, "a replay adds no row");
    }
    let mut newcomer = Caller::new(&app.base, Dialect::Twilio, "+79101234568");
    let greeting = newcomer.dial().await.unwrap();
    assert!(greeting.text().contains("Звонок для вас бесплатный"), "{}", greeting.text());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_twice_at_the_main_menu_reaches_an_operator_in_both_dialects() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    for dialect in [Dialect::Twilio, Dialect::Jambonz] {
        let mut caller = Caller::new(&app.base, dialect, "+79101234567");
        caller.dial().await.unwrap();
        let again = caller.silence().await.unwrap();
        assert!(again.text().starts_with("Вы ничего не выбрали."), "{}", again.text());
        assert!(matches!(again.waiting, Waiting::Input { .. }));
        // Nobody is on shift: said plainly, with a call back offered instead of an endless wait.
        let offer = caller.silence().await.unwrap();
        assert!(offer.text().contains("нет ни одного оператора"), "{}", offer.text());
        assert!(offer.text().contains("перезвонил вам, когда начнёт работу, нажмите 1"), "{}", offer.text());
    }
    // With an operator free, silence twice puts the caller straight in the queue.
    app.operator_on_shift(None).await;
    for dialect in [Dialect::Twilio, Dialect::Jambonz] {
        let mut caller = Caller::new(&app.base, dialect, "+79101234567");
        caller.dial().await.unwrap();
        caller.silence().await.unwrap();
        let queued = caller.silence().await.unwrap();
        assert!(queued.text().contains("Соединяю с оператором"), "{}", queued.text());
        assert!(matches!(queued.waiting, Waiting::Queue { .. }), "{dialect:?}: {queued:?}");
        let hold = caller.wait_in_queue().await.unwrap();
        assert!(
            hold.text().contains("Ваш номер в очереди") && hold.text().contains("оставайтесь на линии"),
            "{}",
            hold.text()
        );
        caller.leave_queue("hangup").await.unwrap();
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_with_bad_or_missing_signatures_are_refused_and_leave_no_trace() {
    let app = TestApp::spawn_with(
        TestDb::sqlite().await,
        &[("HOTLINE_TWILIO_AUTH_TOKEN", "twilio-token"), ("HOTLINE_JAMBONZ_SECRET", "jambonz-secret")],
    )
    .await;
    let http = &app.http;
    let voice = app.url("/telephony/twilio/voice");
    let params: Vec<(String, String)> =
        [("CallSid", "CA1"), ("From", "+79101234567"), ("To", "+78005050115"), ("CallStatus", "ringing")]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
    let form = |params: &[(String, String)]| {
        form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter().map(|(k, v)| (k, v))).finish()
    };
    let signature = twilio::signature("twilio-token", &voice, &params);
    let mut tampered = params.clone();
    tampered[1].1 = "+79999999999".into();
    for (body, header) in
        [(form(&tampered), Some(signature.clone())), (form(&params), None), (form(&params), Some("bm9wZQ==".into()))]
    {
        let mut request = http.post(&voice).header("content-type", "application/x-www-form-urlencoded").body(body);
        if let Some(h) = header {
            request = request.header("X-Twilio-Signature", h);
        }
        let (status, body) = crate::helpers::status_and_json(request.send().await.unwrap()).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "forbidden");
    }

    let jambonz_voice = app.url("/telephony/jambonz/voice");
    let raw = serde_json::to_vec(&serde_json::json!({"call_sid": "j-1", "from": "+79101234567", "to": "+78005050115"}))
        .unwrap();
    let now = jiff::Timestamp::now().as_second();
    for header in [
        None,
        Some(format!("t={now},v1={}", jambonz::signature("wrong-secret", now, &raw))),
        Some(format!("t={},v1={}", now - 600, jambonz::signature("jambonz-secret", now - 600, &raw))),
    ] {
        let mut request = http.post(&jambonz_voice).header("content-type", "application/json").body(raw.clone());
        if let Some(h) = header {
            request = request.header("Jambonz-Signature", h);
        }
        assert_eq!(request.send().await.unwrap().status(), 403);
    }
    assert_eq!(app.store.call_table_counts().await.unwrap(), [0; 9], "a refused webhook leaves no call record");

    for (dialect, secret) in [(Dialect::Twilio, "twilio-token"), (Dialect::Jambonz, "jambonz-secret")] {
        let mut signed = Caller::new(&app.base, dialect, "+79101234567").with_secret(Some(secret.into()));
        assert!(signed.dial().await.unwrap().text().contains("Ярэнерго"));
        assert!(signed.press("0").await.unwrap().text().contains("нет ни одного оператора"));
    }
    app.stop().await;
}

async fn status_of(app: &TestApp, caller: &Caller) -> String {
    let dialect = caller.dialect.as_str();
    app.store.call_by_provider_id(dialect, &caller.call_id).await.unwrap().unwrap().status.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_callbacks_late_twice_or_out_of_order_keep_the_call_right() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;

    // Twice: the second "completed" is the same event and adds nothing.
    let mut twice = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    twice.dial().await.unwrap();
    assert_eq!(twice.status("completed", 3).await.unwrap(), 200);
    let counts = app.store.call_table_counts().await.unwrap();
    assert_eq!(twice.status("completed", 3).await.unwrap(), 200);
    assert_eq!(app.store.call_table_counts().await.unwrap(), counts);
    assert_eq!(status_of(&app, &twice).await, "completed");

    // Out of order: "completed" before "ringing" and "in-progress"; the call stays completed.
    let mut shuffled = Caller::new(&app.base, Dialect::Twilio, "+79101234568");
    shuffled.status("completed", 3).await.unwrap();
    shuffled.status("ringing", 1).await.unwrap();
    shuffled.status("in-progress", 2).await.unwrap();
    assert_eq!(status_of(&app, &shuffled).await, "completed");

    // Late: a step webhook after the call ended still gets an answer and revives nothing.
    let mut late = Caller::new(&app.base, Dialect::Jambonz, "+79101234569");
    late.dial().await.unwrap();
    late.status("completed", 5).await.unwrap();
    late.status("in-progress", 2).await.unwrap();
    late.press("2").await.unwrap();
    assert_eq!(status_of(&app, &late).await, "completed");

    // A caller who hangs up while waiting for an operator is recorded as abandoned.
    app.operator_on_shift(None).await;
    let mut waiting = Caller::new(&app.base, Dialect::Twilio, "+79101234560");
    waiting.dial().await.unwrap();
    waiting.press("0").await.unwrap();
    assert_eq!(status_of(&app, &waiting).await, "queued");
    waiting.status("completed", 4).await.unwrap();
    let call = app.store.call_by_provider_id("twilio", &waiting.call_id).await.unwrap().unwrap();
    assert_eq!(call.status.to_string(), "abandoned");
    assert!(call.queued_at.is_some() && call.ended_at >= call.queued_at);
    app.stop().await;
}

/// Creates the call `provider_id` in a call step, then ends the step as `end` says.
async fn step_creating(store: &Store, provider_id: String, end: &'static str) -> Result<(), StoreError> {
    store
        .write(move |tx| {
            let provider_id = provider_id.clone();
            Box::pin(async move {
                let new = NewCall {
                    provider_call_id: &provider_id,
                    dialect: hotline::telephony::Dialect::Twilio,
                    caller_number: None,
                    called_number: None,
                    status: CallStatus::Ringing,
                    state: "{}",
                };
                tx.lock_or_create(&new, true, Timestamp(1_796_000_000_000)).await?;
                match end {
                    "fails" => Err(StoreError::Invalid("the step failed after writing".into())),
                    "panics" => panic!("a bug in a step"),
                    _ => Ok(()),
                }
            })
        })
        .await
}

/// Steps arriving together share a transaction on SQLite: one that fails or panics after writing
/// undoes only its own writes, the others commit, and the writer goes on serving.
async fn a_failing_step_undoes_only_itself(db: TestDb) {
    let store = db.store().await;
    let ends = ["ok", "fails", "ok", "panics", "ok", "fails", "ok", "ok", "fails", "ok", "ok", "ok"];
    let steps = ends.iter().enumerate().map(|(i, end)| step_creating(&store, format!("CA-group-{i}"), end));
    let results = futures_util::future::join_all(steps).await;
    for (i, (end, result)) in ends.iter().zip(&results).enumerate() {
        assert_eq!(result.is_ok(), *end == "ok", "step {i} ({end}): {result:?}");
        let call = store.call_by_provider_id("twilio", &format!("CA-group-{i}")).await.unwrap();
        assert_eq!(call.is_some(), *end == "ok", "step {i} ({end}) left its call behind only if it succeeded");
    }
    step_creating(&store, "CA-after".into(), "ok").await.expect("the writer still serves after a panic");
    assert!(store.call_by_provider_id("twilio", "CA-after").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_step_number_is_refused_and_changes_nothing() {
    let app = TestApp::spawn_with(TestDb::sqlite().await, &[("HOTLINE_TWILIO_AUTH_TOKEN", "twilio-token")]).await;
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234567").with_secret(Some("twilio-token".into()));
    caller.dial().await.unwrap();
    let counts = app.store.call_table_counts().await.unwrap();
    let params: Vec<(String, String)> = [
        ("CallSid", caller.call_id.as_str()),
        ("From", "+79101234567"),
        ("Digits", "1"),
        ("CallStatus", "in-progress"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let body =
        form_urlencoded::Serializer::new(String::new()).extend_pairs(params.iter().map(|(k, v)| (k, v))).finish();
    for step in ["-5", "-5", "0", "abc", "+1", "9223372036854775807", "100001", "1.5"] {
        let url = app.url(&format!("/telephony/twilio/step/{step}"));
        let response = app
            .http
            .post(&url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("X-Twilio-Signature", twilio::signature("twilio-token", &url, &params))
            .body(body.clone())
            .send()
            .await
            .unwrap();
        let (status, answer) = crate::helpers::status_and_json(response).await;
        assert_eq!(status, 400, "step {step}: {answer}");
        assert_eq!(answer["error"]["code"], "bad_webhook", "step {step}: {answer}");
    }
    assert_eq!(app.store.call_table_counts().await.unwrap(), counts, "a refused step changes nothing");
    // The call goes on as if nothing had happened.
    assert!(caller.press("2").await.unwrap().text().contains("почтовый индекс"));
    app.stop().await;
}

/// SPEC §6: the database down, a webhook still answers 200 with a message that needs no
/// database, status callbacks are accepted, /readyz says 503, and all comes back by itself.
async fn with_the_database_down_callers_still_hear_what_to_do_and_the_service_recovers(db: TestDb) {
    let app = TestApp::spawn_with(db, &[("HOTLINE_DUTY_PHONE", "+74852790000")]).await;
    let mut twilio = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    twilio.dial().await.unwrap();
    let outage = app.db.take_away().await;

    let started = std::time::Instant::now();
    let fallback = twilio.press("1").await.unwrap();
    assert!(started.elapsed() < std::time::Duration::from_secs(12), "answered in time: {:?}", started.elapsed());
    assert!(fallback.text().contains("сто двенадцать"), "{}", fallback.text());
    assert!(fallback.text().contains("Соединяю с дежурным диспетчером"), "{}", fallback.text());
    assert!(matches!(&fallback.waiting, Waiting::Dialed { target, .. } if target == "+74852790000"), "{fallback:?}");
    let mut jambonz = Caller::new(&app.base, Dialect::Jambonz, "+79101234568");
    let new_call = jambonz.dial().await.unwrap();
    assert!(new_call.text().contains("сто двенадцать"), "{}", new_call.text());
    assert_eq!(jambonz.status("completed", 3).await.unwrap(), 200, "status callbacks are accepted");
    if outage.is_postgres() {
        let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
        assert_eq!(ready.status(), 503);
    }

    outage.restore().await;
    crate::helpers::eventually("the service to recover by itself", std::time::Duration::from_secs(30), || async {
        let ready = app.http.get(app.url("/readyz")).send().await.ok()?;
        let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234569");
        let greeting = caller.dial().await.ok()?;
        (ready.status() == 200 && greeting.text().contains("Ярэнерго")).then_some(())
    })
    .await;
    app.stop().await;
}

/// A provider that redelivers a step while the first delivery is still being answered (or two
/// instances behind a balancer get the same step): every delivery hears the same answer, and the
/// call moves once: the call's row lock (PostgreSQL) or the write lane (SQLite) serves them one
/// after the other, and all but the first replay its stored answer.
async fn deliveries_of_one_step_at_once_get_one_answer_and_move_the_call_once(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234568");
    caller.dial().await.unwrap();
    let before = app.store.call_table_counts().await.unwrap();
    let deliveries = (0..8).map(|_| {
        let mut copy = Caller::new(&app.base, Dialect::Twilio, "+79101234568");
        copy.call_id = caller.call_id.clone();
        copy.waiting = caller.waiting.clone();
        async move { copy.press("3").await.unwrap() }
    });
    let turns = futures_util::future::join_all(deliveries).await;
    assert!(turns[0].text().contains("индекс"), "{}", turns[0].text());
    assert!(turns.iter().all(|t| *t == turns[0]), "{turns:#?}");
    let after = app.store.call_table_counts().await.unwrap();
    let call = app.store.call_by_provider_id("twilio", &caller.call_id).await.unwrap().unwrap();
    assert_eq!(call.seq, 2, "the call moved once");
    assert_ne!(after, before);
    // The call goes on from where the one answer left it.
    caller.waiting = turns[0].waiting.clone();
    let schedule = caller.press("152610").await.unwrap();
    assert!(schedule.text().contains("Углич"), "{}", schedule.text());
}
