//! The data lifecycle (SPEC §2, §6): retention applied by `hotline prune` and the server's
//! hourly round, and the erasure of one number, searched for afterwards in every text column of
//! every table.

use std::time::Duration;

use hotline::auth::Role;
use hotline::clock::Clock;
use hotline::store::{AnswerDictionary, ERASED_COLUMNS, ERASED_TEXT, KEPT_COLUMNS, StoreError, StoredAnswer};
use hotline::telephony::Dialect;
use hotline::tools::simulator::{Caller, Waiting};
use serde_json::{Value, json};
use sqlx::{Connection, Row};

use crate::helpers::{TestApp, TestDb, eventually, hotline_command, settings_for, status_and_json};
use crate::on_both_backends;

on_both_backends!(
    pruning_with_zero_retention_leaves_only_tickets_without_personal_data,
    an_erased_number_appears_nowhere_in_the_database,
    the_hourly_round_prunes_what_is_due_and_leaves_recent_calls_alone,
    erasure_is_for_admins_and_a_bad_phone_changes_nothing,
    every_text_column_is_either_erased_or_kept_for_a_reason,
    a_call_on_the_line_keeps_its_answers_but_not_the_number,
);

const NUMBER: &str = "+79101234567";
/// What every spelling of NUMBER holds (+79101234567, 79101234567, 89101234567).
const DIGITS: &str = "9101234567";
const MASKED: &str = "+7910***4567";

async fn connect(url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url).await.unwrap()
}

async fn count(url: &str, sql: &str) -> i64 {
    let mut conn = connect(url).await;
    let n: i64 = sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.unwrap();
    n
}

async fn texts(url: &str, sql: &str) -> Vec<Option<String>> {
    let mut conn = connect(url).await;
    let values = sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    conn.close().await.unwrap();
    values
}

/// Every text column of every table, as the database itself lists them.
async fn text_columns(url: &str) -> Vec<(String, String)> {
    let sql = if url.starts_with("sqlite:") {
        "SELECT m.name AS t, p.name AS c FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND lower(p.type) = 'text' ORDER BY 1, 2"
    } else {
        "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c FROM information_schema.columns \
         WHERE table_schema = current_schema() AND data_type IN ('text', 'character varying') ORDER BY 1, 2"
    };
    let mut conn = connect(url).await;
    let rows = sqlx::query(sql).fetch_all(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    let columns: Vec<(String, String)> = rows.iter().map(|r| (r.get("t"), r.get("c"))).collect();
    assert!(columns.len() > 50, "the schema's text columns were not found: {columns:?}");
    columns
}

/// Where `digits` appear in the database: (table, column, a value holding them).
async fn occurrences(url: &str, digits: &str) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    let mut conn = connect(url).await;
    for (table, column) in text_columns(url).await {
        let sql = format!("SELECT \"{column}\" FROM \"{table}\" WHERE \"{column}\" LIKE '%{digits}%'");
        let values: Vec<String> = sqlx::query_scalar(&sql).fetch_all(&mut conn).await.unwrap();
        found.extend(values.into_iter().map(|v| (table.clone(), column.clone(), v)));
    }
    conn.close().await.unwrap();
    // The stored answers are packed: the store unpacks them to look.
    let store = hotline::store::Store::connect(url).await.unwrap();
    let answers = store.stored_answers_containing(digits).await.unwrap();
    found
        .extend(answers.into_iter().map(|(call, seq)| ("call_steps".into(), "answer".into(), format!("{call}:{seq}"))));
    store.close().await;
    found
}

/// Creates a ticket by hand as `token`; returns its number.
async fn ticket_by_hand(app: &TestApp, token: &str, body: Value) -> String {
    let (status, ticket) = app.post("/api/tickets", token, body).await;
    assert_eq!(status, 201, "{ticket}");
    ticket["number"].as_str().unwrap().to_string()
}

async fn web_appeal(app: &TestApp, body: Value) -> String {
    let response = app.http.post(app.url("/api/public/appeals")).json(&body).send().await.unwrap();
    let (status, answer) = status_and_json(response).await;
    assert_eq!(status, 201, "{answer}");
    answer["number"].as_str().unwrap().to_string()
}

/// A hazard from `from`, queued for an operator, and the caller hanging up while waiting.
async fn hazard_call(app: &TestApp, dialect: Dialect, from: &str) {
    let mut caller = Caller::new(&app.base, dialect, from);
    caller.dial().await.unwrap();
    caller.press("1").await.unwrap();
    caller.press("152610").await.unwrap();
    let queued = caller.press("1").await.unwrap();
    assert!(matches!(queued.waiting, Waiting::Queue { .. }), "{queued:?}");
    caller.leave_queue("hangup").await.unwrap();
    assert_eq!(caller.status("completed", 9).await.unwrap(), 200);
}

/// A theft report from `from` with a recording of what was seen.
async fn theft_call(app: &TestApp, from: &str) {
    let mut caller = Caller::new(&app.base, Dialect::Twilio, from);
    caller.dial().await.unwrap();
    caller.press("5").await.unwrap();
    caller.press("152150").await.unwrap();
    let done = caller.record("https://api.twilio.com/recordings/RE1.wav", 42).await.unwrap();
    assert!(done.text().contains("Сообщение принято"), "{}", done.text());
    assert_eq!(caller.status("completed", 9).await.unwrap(), 200);
}

/// Waits until the escalation worker has put a message in the outbox (it copies the ticket's facts).
async fn a_mail_is_queued(app: &TestApp) {
    let url = app.db.url.clone();
    eventually("the escalation's e-mail in the outbox", Duration::from_secs(20), || {
        let url = url.clone();
        async move { (count(&url, "SELECT COUNT(*) FROM outbox").await > 0).then_some(()) }
    })
    .await;
}

async fn pruning_with_zero_retention_leaves_only_tickets_without_personal_data(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let operator = app.operator_on_shift(None).await;
    let admin = app.login_as(Role::Admin).await;
    // Enough calls that the answers and logs they leave take pages the vacuum can give back.
    for n in 0..12 {
        hazard_call(&app, if n % 2 == 0 { Dialect::Twilio } else { Dialect::Jambonz }, &format!("+7910555{n:04}"))
            .await;
    }
    theft_call(&app, "+79105550100").await;
    let by_hand = ticket_by_hand(
        &app,
        &operator,
        json!({"category": "question", "caller_number": NUMBER, "address": "ул. Ленина, д. 5",
               "description": "Иванов Иван просит перезвонить"}),
    )
    .await;
    let (status, _) =
        app.post(&format!("/api/tickets/{by_hand}/notes"), &operator, json!({"text": "Перезвонил Иванову"})).await;
    assert_eq!(status, 201);
    web_appeal(
        &app,
        json!({"kind": "appeal", "text": "Прошу заменить опору", "phone": "+79105550200", "name": "Петров Пётр",
               "address": "ул. Мира, д. 1"}),
    )
    .await;
    a_mail_is_queued(&app).await;
    // Every ticket is worked to its end.
    let (_, page) = app.get("/api/tickets?limit=100", &admin).await;
    let numbers: Vec<String> =
        page["items"].as_array().unwrap().iter().map(|t| t["number"].as_str().unwrap().into()).collect();
    assert_eq!(numbers.len(), 15, "{page}");
    for number in &numbers {
        for to in ["resolved", "closed"] {
            let (status, body) =
                app.post(&format!("/api/tickets/{number}/transition"), &admin, json!({"to": to})).await;
            assert_eq!(status, 200, "{number} to {to}: {body}");
        }
    }
    let settings = settings_for(&app.db.url, "127.0.0.1:1".parse().unwrap(), &[]);
    let figures_before = hotline::metrics::current(&app.store, &settings, Clock::system().now()).await.unwrap();
    assert_eq!(figures_before.calls_ended, 13);
    let url = app.db.url.clone();
    assert_eq!(count(&url, "SELECT COUNT(*) FROM calls").await, 13);
    let db = app.stop_keeping_db().await;
    // Zero retention removes what ended before now: the clock must have moved past the last end.
    let last_end = Clock::system().now();
    eventually("the clock to pass the calls' ends", Duration::from_secs(5), || async {
        (Clock::system().now() > last_end).then_some(())
    })
    .await;

    let output = hotline_command(db.dir.path())
        .args(["prune", "--vacuum"])
        .env("HOTLINE_DATABASE_URL", &db.url)
        .env("HOTLINE_RETAIN_REPLAYS", "0s")
        .env("HOTLINE_RETAIN_CALLS", "0s")
        .env("HOTLINE_RETAIN_TICKETS", "0d")
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{printed}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains("calls: removed 13 call records"), "{printed}");
    assert!(printed.contains("tickets: erased the personal data of 15 closed tickets"), "{printed}");

    // No call, answer or webhook log of an ended call is left; the tickets are, without personal data.
    for table in ["calls", "call_steps", "call_events"] {
        assert_eq!(count(&db.url, &format!("SELECT COUNT(*) FROM {table}")).await, 0, "{table}");
    }
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM tickets").await, 15);
    let holding = "SELECT COUNT(*) FROM tickets WHERE caller_number IS NOT NULL OR address IS NOT NULL \
                   OR recording_url IS NOT NULL OR personal_data_erased_at IS NULL";
    assert_eq!(count(&db.url, holding).await, 0);
    let kept =
        count(&db.url, "SELECT COUNT(*) FROM tickets WHERE category = 'hazard' AND priority = 1 AND status = 'closed'");
    assert_eq!(kept.await, 12, "the tickets, their categories, priorities and statuses stay");
    for (sql, what) in [
        ("SELECT body FROM ticket_notes", "notes"),
        ("SELECT description FROM tickets WHERE channel <> 'phone'", "people's own words"),
        ("SELECT body FROM outbox", "e-mail copies"),
    ] {
        let values = texts(&db.url, sql).await;
        assert!(!values.is_empty() && values.iter().all(|v| v.as_deref() == Some(ERASED_TEXT)), "{what}: {values:?}");
    }
    let items = texts(&db.url, "SELECT kind || ' ' || state || ' ' || COALESCE(caller_number, '-') || ' ' || COALESCE(call_id, '-') FROM queue_items WHERE caller_number IS NOT NULL OR call_id IS NOT NULL").await;
    assert!(items.is_empty(), "{items:?}");
    assert!(count(&db.url, "SELECT COUNT(*) FROM queue_items").await >= 12, "queue items stay for the figures");
    for number in [NUMBER, "+7910555", "+79105550100", "+79105550200"] {
        let digits = &number[2..];
        let found: Vec<_> = occurrences(&db.url, digits)
            .await
            .into_iter()
            // What the reception's limits count (a day) is kept for that purpose.
            .filter(|(table, ..)| table != "web_submissions")
            .collect();
        assert!(found.is_empty(), "{number}: {found:?}");
    }
    // Today's figures read the same on pruned data.
    let store = db.store().await;
    let figures_after = hotline::metrics::current(&store, &settings, Clock::system().now()).await.unwrap();
    assert_eq!(
        (figures_after.calls_ended, figures_after.ivr_containment),
        (figures_before.calls_ended, figures_before.ivr_containment)
    );
    store.close().await;

    // --vacuum gives the space back.
    let sizes = printed
        .lines()
        .find_map(|l| l.split_once('(').and_then(|(_, r)| r.strip_suffix(" bytes)")).and_then(|r| r.split_once(" -> ")))
        .unwrap_or_else(|| panic!("no sizes printed: {printed}"));
    let (before, after): (u64, u64) = (sizes.0.parse().unwrap(), sizes.1.parse().unwrap());
    if db.url.starts_with("sqlite:") {
        let file = std::fs::metadata(db.dir.path().join("hotline.db")).unwrap().len();
        eprintln!("SQLite before pruning {before} bytes, after pruning and vacuum {after} bytes, file {file} bytes");
        assert!(after < before, "{printed}");
        assert!(file < before, "the file itself shrinks: {file} bytes of {before}");
        let mode = count(&db.url, "PRAGMA auto_vacuum").await;
        assert_eq!(mode, 2, "incremental auto-vacuum from now on");
    }
}

async fn an_erased_number_appears_nowhere_in_the_database(db: TestDb) {
    // Each call walks the menu as a first-time caller would.
    let app = TestApp::spawn_with(db, &[("HOTLINE_RETURNING_HOURS", "0")]).await;
    let admin = app.login_as(Role::Admin).await;
    // Nobody on shift: the caller asks to be rung back.
    let mut first = Caller::new(&app.base, Dialect::Twilio, NUMBER);
    first.dial().await.unwrap();
    first.silence().await.unwrap();
    let offer = first.silence().await.unwrap();
    assert!(offer.text().contains("нажмите 1"), "{}", offer.text());
    let done = first.press("1").await.unwrap();
    assert!(done.text().contains("перезвонит"), "{}", done.text());
    first.status("completed", 5).await.unwrap();
    // Then reports a hazard (through jambonz) and hangs up in the queue, and a theft with a recording.
    let operator = app.operator_on_shift(None).await;
    hazard_call(&app, Dialect::Jambonz, NUMBER).await;
    theft_call(&app, NUMBER).await;
    // A web appeal and a ticket by hand that spell it their own ways, a note and a disposition too.
    web_appeal(
        &app,
        json!({"kind": "appeal", "text": "Прошу перезвонить по номеру 8 (910) 123-45-67", "phone": "89101234567",
               "name": "Иванов Иван", "address": "ул. Ленина, д. 5"}),
    )
    .await;
    let by_hand = ticket_by_hand(
        &app,
        &operator,
        json!({"category": "question", "caller_number": "8 910 123 45 67", "description": "Звонил с 89101234567"}),
    )
    .await;
    let note = json!({"text": "Перезвонить +7 910 123-45-67 после обеда"});
    assert_eq!(app.post(&format!("/api/tickets/{by_hand}/notes"), &operator, note).await.0, 201);
    let step = json!({"to": "in_progress", "disposition": "перезвонить 79101234567"});
    assert_eq!(app.post(&format!("/api/tickets/{by_hand}/transition"), &operator, step).await.0, 200);
    // Someone else calls too.
    let other = "+79107654321";
    let mut neighbour = Caller::new(&app.base, Dialect::Twilio, other);
    neighbour.dial().await.unwrap();
    neighbour.status("completed", 2).await.unwrap();
    a_mail_is_queued(&app).await;
    let url = app.db.url.clone();
    let before = occurrences(&url, DIGITS).await;
    // The webhooks' log keeps what callers did, not the provider's fields: the number is not there.
    for table in ["calls", "tickets", "ticket_events", "queue_items", "events", "outbox", "web_submissions"] {
        assert!(before.iter().any(|(t, ..)| t == table), "the number was in {table} before: {before:?}");
    }

    let (status, erased) = app.post("/api/personal-data/erase", &admin, json!({"phone": "8 (910) 123-45-67"})).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["phone"], MASKED);
    assert_eq!(erased["changed"]["callbacks_cancelled"], 1, "{erased}");
    assert!(erased["changed"]["tickets"].as_u64() >= Some(4), "{erased}");
    assert!(erased["changed"]["calls"].as_u64() >= Some(3), "{erased}");
    assert!(erased["rows"].as_u64() > Some(20), "{erased}");

    let left = occurrences(&url, DIGITS).await;
    assert!(left.is_empty(), "the number is still there: {left:?}");
    // Spelled with separators in the caller's own texts, it is found there too.
    let spelled = occurrences(&url, "123-45-67").await;
    assert!(spelled.is_empty(), "{spelled:?}");
    let masked_note = format!("SELECT COUNT(*) FROM ticket_notes WHERE body = 'Перезвонить {MASKED} после обеда'");
    assert_eq!(count(&url, &masked_note).await, 1);
    // Its masked form may be, and where the number was it is.
    assert_eq!(count(&url, &format!("SELECT COUNT(*) FROM tickets WHERE caller_number = '{MASKED}'")).await, 4);
    assert_eq!(
        count(&url, "SELECT COUNT(*) FROM tickets WHERE recording_url IS NOT NULL").await,
        0,
        "its recording links"
    );
    assert_eq!(count(&url, &format!("SELECT COUNT(*) FROM calls WHERE caller_number = '{MASKED}'")).await, 3);
    assert_eq!(count(&url, &format!("SELECT COUNT(*) FROM calls WHERE caller_number = '{other}'")).await, 1);
    let (_, queue) = app.get("/api/queue", &operator).await;
    assert!(queue["items"].as_array().unwrap().iter().all(|i| i["kind"] != "callback"), "{queue}");
    // The erasure is audited, without the number in clear.
    let mut conn = connect(&url).await;
    let audit = sqlx::query("SELECT actor, action, subject, detail FROM audit_log").fetch_all(&mut conn).await.unwrap();
    conn.close().await.unwrap();
    assert_eq!(audit.len(), 1);
    let (actor, action, subject, detail): (String, String, String, String) =
        (audit[0].get("actor"), audit[0].get("action"), audit[0].get("subject"), audit[0].get("detail"));
    assert!(actor.starts_with("admin-"), "{actor}");
    assert_eq!((action.as_str(), subject.as_str()), ("personal_data_erased", MASKED));
    assert!(detail.contains("\"tickets\"") && !detail.contains(DIGITS), "{detail}");
    // Erasing it again finds nothing to change.
    let (status, again) = app.post("/api/personal-data/erase", &admin, json!({"phone": NUMBER})).await;
    assert_eq!((status, again["rows"].as_u64()), (200, Some(0)), "{again}");

    // `hotline erase` does the same from the command line.
    let db = app.stop_keeping_db().await;
    let output = hotline_command(db.dir.path())
        .args(["erase", other])
        .env("HOTLINE_DATABASE_URL", &db.url)
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(output.status.success(), "{printed}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(printed.starts_with("erased +7910***4321:") && printed.contains("calls: 1"), "{printed}");
    let left = occurrences(&db.url, "9107654321").await;
    assert!(left.is_empty(), "{left:?}");
    let bad = hotline_command(db.dir.path()).args(["erase", "12345"]).env("HOTLINE_DATABASE_URL", &db.url).output();
    let bad = bad.await.unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a phone number"));
}

async fn the_hourly_round_prunes_what_is_due_and_leaves_recent_calls_alone(db: TestDb) {
    // The round runs every 200 ms here instead of every hour.
    let app = TestApp::spawn_adjusted(db, &[("HOTLINE_RETAIN_REPLAYS", "1h"), ("HOTLINE_RETAIN_CALLS", "2h")], |s| {
        s.retention.every = Duration::from_millis(200)
    })
    .await;
    let url = app.db.url.clone();
    let mut recent = Caller::new(&app.base, Dialect::Twilio, "+79101110001");
    let greeting = recent.dial().await.unwrap();
    let answer = recent.last_answer.clone().unwrap();
    recent.press("3").await.unwrap();
    recent.status("completed", 3).await.unwrap();
    let mut old = Caller::new(&app.base, Dialect::Jambonz, "+79101110002");
    old.dial().await.unwrap();
    old.status("completed", 2).await.unwrap();
    let mut middle = Caller::new(&app.base, Dialect::Twilio, "+79101110003");
    middle.dial().await.unwrap();
    middle.status("completed", 2).await.unwrap();
    let steps_of = |call: &str| {
        format!(
            "SELECT COUNT(*) FROM call_steps s JOIN calls c ON c.id = s.call_id WHERE c.provider_call_id = '{call}'"
        )
    };
    let recent_steps = count(&url, &steps_of(&recent.call_id)).await;
    assert_eq!(recent_steps, 2);
    // One call ended three hours ago (past both retentions), one ninety minutes ago (past the
    // replays' only).
    for (call, minutes) in [(&old.call_id, 180), (&middle.call_id, 90)] {
        let ms = minutes * 60_000;
        app.execute(&format!(
            "UPDATE calls SET ended_at = ended_at - {ms}, updated_at = updated_at - {ms} WHERE provider_call_id = '{call}'"
        ))
        .await;
    }
    let calls_of = |call: &str| format!("SELECT COUNT(*) FROM calls WHERE provider_call_id = '{call}'");
    eventually("a round removes the call ended three hours ago", Duration::from_secs(20), || {
        let (url, sql) = (url.clone(), calls_of(&old.call_id));
        async move { (count(&url, &sql).await == 0).then_some(()) }
    })
    .await;
    eventually("a round removes the answers of the call ended ninety minutes ago", Duration::from_secs(20), || {
        let (url, sql) = (url.clone(), steps_of(&middle.call_id));
        async move { (count(&url, &sql).await == 0).then_some(()) }
    })
    .await;
    assert_eq!(count(&url, &calls_of(&middle.call_id)).await, 1, "its record stays for two hours");
    // Rounds go on (a later round removes one more call ended three hours ago); the call within
    // both retentions is left as it was, and a retry of its first webhook is answered with the
    // very same bytes.
    let mut later = Caller::new(&app.base, Dialect::Twilio, "+79101110004");
    later.dial().await.unwrap();
    later.status("completed", 2).await.unwrap();
    app.execute(&format!(
        "UPDATE calls SET ended_at = ended_at - 10800000, updated_at = updated_at - 10800000 \
         WHERE provider_call_id = '{}'",
        later.call_id
    ))
    .await;
    eventually("a later round removes another call ended three hours ago", Duration::from_secs(20), || {
        let (url, sql) = (url.clone(), calls_of(&later.call_id));
        async move { (count(&url, &sql).await == 0).then_some(()) }
    })
    .await;
    assert_eq!(count(&url, &calls_of(&recent.call_id)).await, 1);
    assert_eq!(count(&url, &steps_of(&recent.call_id)).await, recent_steps);
    let mut retry = Caller::new(&app.base, Dialect::Twilio, "+79101110001");
    retry.call_id = recent.call_id.clone();
    let again = retry.dial().await.unwrap();
    assert_eq!(again, greeting);
    assert_eq!(retry.last_answer.as_deref(), Some(answer.as_str()), "byte-identical");
    assert_eq!(
        count(&url, "SELECT CAST(COALESCE(SUM(ended), 0) AS BIGINT) FROM call_tallies").await,
        2,
        "the pruned calls are counted"
    );
    app.stop().await;
}

/// A call still going may be retried: a step whose packed answer (and whose input) holds the
/// number keeps every other byte, unpacks, and no longer holds it.
async fn a_call_on_the_line_keeps_its_answers_but_not_the_number(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let admin = app.login_as(Role::Admin).await;
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79160000001");
    caller.dial().await.unwrap();
    let call = app.store.call_by_provider_id("twilio", &caller.call_id).await.unwrap().unwrap();
    let said = format!("<Response><Say>Перезвоните мне на {NUMBER}, пожалуйста.</Say></Response>");
    let dictionary = AnswerDictionary::new(b"<Response><Say>, </Say></Response>".to_vec());
    let (step, now) = (call.seq, Clock::system().now());
    app.store.keep_answer_dictionary(&dictionary, now).await.unwrap();
    let mut moved = call.clone();
    moved.seq += 1;
    let answer = StoredAnswer { content_type: "text/xml".into(), body: said.clone() };
    app.store
        .write(move |tx| {
            let (moved, answer, dictionary) = (moved.clone(), answer.clone(), dictionary.clone());
            Box::pin(async move {
                tx.finish_step(&moved, step, "speech=89101234567", &answer, &dictionary, now).await?;
                Ok::<_, StoreError>(())
            })
        })
        .await
        .unwrap();
    assert_eq!(app.store.stored_answers_containing(DIGITS).await.unwrap(), vec![(call.id.clone(), step)]);

    let (status, erased) = app.post("/api/personal-data/erase", &admin, json!({"phone": NUMBER})).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["changed"]["call_steps"], 1, "{erased}");
    let left = occurrences(&app.db.url, DIGITS).await;
    assert!(left.is_empty(), "{left:?}");
    let replayed = app
        .store
        .write(move |tx| {
            let call = call.clone();
            Box::pin(async move { tx.stored_answer(&call, step).await })
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(replayed.body, said.replace(NUMBER, MASKED));
    assert_eq!(replayed.content_type, "text/xml; charset=utf-8", "the dialect's, as every Twilio answer");
    app.stop().await;
}

async fn erasure_is_for_admins_and_a_bad_phone_changes_nothing(db: TestDb) {
    let app = TestApp::spawn(db).await;
    web_appeal(&app, json!({"kind": "question", "text": "Когда дадут свет?", "phone": NUMBER})).await;
    let url = app.db.url.clone();
    let before = occurrences(&url, DIGITS).await;
    assert!(!before.is_empty());
    let request = json!({"phone": NUMBER});
    for role in [Role::Operator, Role::Dispatcher, Role::Supervisor] {
        let token = app.login_as(role).await;
        let (status, body) = app.post("/api/personal-data/erase", &token, request.clone()).await;
        assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")), "{role}: {body}");
        // Refused before the body is read, whatever it is.
        let (status, _) = app.post("/api/personal-data/erase", &token, json!({"phone": 7})).await;
        assert_eq!(status, 403, "{role}");
    }
    let response = app.http.post(app.url("/api/personal-data/erase")).json(&request).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let admin = app.login_as(Role::Admin).await;
    for phone in ["12345", "позвоните мне", "+7910***4567", ""] {
        let (status, body) = app.post("/api/personal-data/erase", &admin, json!({"phone": phone})).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_phone")), "{phone}: {body}");
    }
    for body in [json!({}), json!({"phone": 79101234567_i64}), json!({"phone": "8".repeat(33)})] {
        let (status, answer) = app.post("/api/personal-data/erase", &admin, body).await;
        assert_eq!(status, 422, "{answer}");
    }
    assert_eq!(occurrences(&url, DIGITS).await, before, "nothing changed");
    assert_eq!(count(&url, "SELECT COUNT(*) FROM audit_log").await, 0);
    app.stop().await;
}

/// A text column added later must be looked through by an erasure, or kept for a stated reason.
async fn every_text_column_is_either_erased_or_kept_for_a_reason(db: TestDb) {
    db.store().await.close().await;
    let listed = |table: &str, column: &str| {
        ERASED_COLUMNS.iter().any(|(t, cs)| *t == table && cs.contains(&column))
            || KEPT_COLUMNS.iter().any(|(t, cs, _)| *t == table && cs.contains(&column))
    };
    let unlisted: Vec<_> = text_columns(&db.url).await.into_iter().filter(|(t, c)| !listed(t, c)).collect();
    assert!(unlisted.is_empty(), "text columns neither erased nor kept: {unlisted:?}");
}
