//! Calls the hotline places (SPEC §8): stand-ins for Twilio's and jambonz's REST APIs record
//! the call requests, and the simulator then plays the provider driving the placed call.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use base64::Engine;
use hotline::auth::Role;
use hotline::telephony::Dialect;
use hotline::tools::simulator::{Caller, Turn, Waiting};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestDb, eventually, hotline_command, scratch_file, settings_for};
use crate::on_both_backends;
use hotline::clock::{Clock, Timestamp};
use hotline::outbound::dialer::Dialer;

on_both_backends!(
    a_hazard_rings_the_dispatcher_through_twilio_and_1_acknowledges_it,
    a_jambonz_dispatcher_hears_it_again_on_2_and_accepts_on_1,
    no_answer_leaves_it_unacknowledged_and_the_next_step_fires,
    silence_after_one_repeat_is_no_acknowledgement,
    a_refusing_provider_is_retried_with_backoff_and_rings_once,
    two_instances_place_one_call,
    callers_are_called_once_when_the_power_returns_and_1_reopens_the_incident,
    power_back_calls_wait_for_the_morning_and_go_out_one_a_tick,
);

const DUTY_PHONE: &str = "+74852000115";
const DUTY_EMAIL: &str = "duty@drill.example";
const TOKEN: &str = "twilio-token";
const ACCOUNT: &str = "AC0123456789";

/// A drill policy: the first step calls (and mails) the duty dispatcher, the second, `wait_s`
/// later, mails a second dispatcher.
fn policies(wait_s: u32) -> String {
    format!(
        r#"
[recipients.duty]
name = "Дежурный диспетчер"
email = "{DUTY_EMAIL}"
phone = "{DUTY_PHONE}"

[recipients.second]
name = "Второй диспетчер"
email = "second@drill.example"

[[policies]]
name = "hazard"
categories = ["hazard"]
steps = [
    {{ notify = ["duty"], channel = "call", wait_s = {wait_s} }},
    {{ notify = ["second"], wait_s = 600 }},
]
"#
    )
}

/// One request the stand-in received.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    authorization: String,
    content_type: String,
    body: String,
}

impl Received {
    fn form(&self, name: &str) -> String {
        form_urlencoded::parse(self.body.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Clone, Default)]
struct Recorder {
    received: Arc<Mutex<Vec<Received>>>,
    /// Statuses to answer with first; then 201 with a sid.
    failures: Arc<Mutex<VecDeque<u16>>>,
}

/// A provider's REST API on loopback: records every request and answers as the documentation
/// shapes it, 201 with `{"sid": ...}` (after the failures it was told to give first).
struct StandIn {
    url: String,
    recorder: Recorder,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn record(State(recorder): State<Recorder>, request: Request) -> impl IntoResponse {
    let (parts, body) = request.into_parts();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (path, authorization, content_type) =
        (parts.uri.path().to_string(), header("authorization"), header("content-type"));
    let body = axum::body::to_bytes(body, 64 * 1024).await.unwrap();
    let number = {
        let mut received = recorder.received.lock().unwrap();
        received.push(Received {
            path,
            authorization,
            content_type,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        received.len()
    };
    if let Some(status) = recorder.failures.lock().unwrap().pop_front() {
        return (StatusCode::from_u16(status).unwrap(), axum::Json(json!({"message": "try later"})));
    }
    (StatusCode::CREATED, axum::Json(json!({"sid": format!("CA{number:032}")})))
}

impl StandIn {
    async fn start(failures: &[u16]) -> Self {
        let recorder =
            Recorder { failures: Arc::new(Mutex::new(failures.iter().copied().collect())), ..Recorder::default() };
        let router = axum::Router::new().fallback(record).with_state(recorder.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Self { url, recorder, server }
    }

    fn received(&self) -> Vec<Received> {
        self.recorder.received.lock().unwrap().clone()
    }

    /// Waits for the `count`th request.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        eventually(&format!("{count} call request(s)"), Duration::from_secs(30), || async {
            let received = self.received();
            (received.len() >= count).then_some(received)
        })
        .await
    }
}

fn twilio_settings(stand_in: &StandIn, policy_file: &str) -> Vec<(&'static str, String)> {
    vec![
        ("HOTLINE_OUTBOUND", "twilio".into()),
        ("HOTLINE_TWILIO_ACCOUNT_SID", ACCOUNT.into()),
        ("HOTLINE_TWILIO_AUTH_TOKEN", TOKEN.into()),
        ("HOTLINE_TWILIO_API_URL", stand_in.url.clone()),
        ("HOTLINE_ESCALATION_POLICIES", policy_file.into()),
    ]
}

async fn spawn(db: TestDb, settings: &[(&'static str, String)]) -> TestApp {
    let pairs: Vec<(&'static str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestApp::spawn_with(db, &pairs).await
}

/// A hazard reported by an operator: its ticket's number and settlement, as the dispatcher should hear them.
async fn report_hazard(app: &TestApp) -> (String, String) {
    let operator = app.login_as(Role::Operator).await;
    let (status, ticket) = app
        .post(
            "/api/tickets",
            &operator,
            json!({"category": "hazard", "settlement_id": 13, "description": "Оборван провод у школы"}),
        )
        .await;
    assert_eq!(status, 201, "{ticket}");
    let number = ticket["number"].as_str().map(str::to_string).unwrap_or_else(|| ticket["number"].to_string());
    (number, ticket["settlement"]["name"].as_str().unwrap().to_string())
}

async fn the_escalation(app: &TestApp, dispatcher: &str) -> Value {
    let (status, all) = app.get("/api/escalations", dispatcher).await;
    assert_eq!(status, 200, "{all}");
    all[0].clone()
}

/// The placed call as the provider drives it, from the Twilio request the stand-in received.
fn twilio_call(app: &TestApp, request: &Received, sid: &str) -> Caller {
    Caller::placed(
        &app.base,
        Dialect::Twilio,
        sid,
        &request.form("From"),
        &request.form("To"),
        &request.form("Url"),
        &request.form("StatusCallback"),
    )
    .with_secret(Some(TOKEN.into()))
}

fn spaced(number: &str) -> String {
    number.chars().map(String::from).collect::<Vec<_>>().join(" ")
}

fn assert_tells_the_hazard(turn: &Turn, (number, settlement): &(String, String)) {
    let heard = turn.text();
    assert!(heard.contains("Сообщение об опасности: Оборван провод у школы."), "{heard}");
    assert!(heard.contains(&format!("Место: {settlement}.")), "{heard}");
    assert!(heard.contains(&format!("Заявка номер {}", spaced(number))), "{heard}");
    assert!(heard.contains("Нажмите 1, чтобы принять"), "{heard}");
    assert!(matches!(turn.waiting, Waiting::Input { .. }), "{turn:?}");
}

async fn a_hazard_rings_the_dispatcher_through_twilio_and_1_acknowledges_it(db: TestDb) {
    let stand_in = StandIn::start(&[]).await;
    let policy_file = scratch_file(db.dir.path(), "policies.toml", &policies(600)).display().to_string();
    let app = spawn(db, &twilio_settings(&stand_in, &policy_file)).await;
    let hazard = report_hazard(&app).await;

    let request = stand_in.wait_for(1).await.remove(0);
    assert_eq!(request.path, format!("/2010-04-01/Accounts/{ACCOUNT}/Calls.json"));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{ACCOUNT}:{TOKEN}"));
    assert_eq!(request.authorization, format!("Basic {basic}"));
    assert!(request.content_type.starts_with("application/x-www-form-urlencoded"), "{}", request.content_type);
    assert_eq!((request.form("To").as_str(), request.form("From").as_str()), (DUTY_PHONE, "+78005050115"));
    assert!(request.form("Url").starts_with(&format!("{}/telephony/twilio/voice?outbound=", app.base)), "{request:?}");
    assert!(request.form("StatusCallback").starts_with(&format!("{}/telephony/twilio/status?outbound=", app.base)));

    let mut call = twilio_call(&app, &request, "CA00000000000000000000000000000001");
    let turn = call.answer().await.unwrap();
    assert_tells_the_hazard(&turn, &hazard);
    let turn = call.press("1").await.unwrap();
    assert!(turn.text().contains("Принято"), "{}", turn.text());
    assert_eq!(turn.waiting, Waiting::Ended);
    assert_eq!(call.status("completed", 3).await.unwrap(), 200);

    let dispatcher = app.login_as(Role::Dispatcher).await;
    let escalation = the_escalation(&app, &dispatcher).await;
    assert_eq!(escalation["state"], "acknowledged", "{escalation}");
    assert_eq!(escalation["acknowledged_by"], DUTY_EMAIL, "as the e-mail link names the person");
    let step = &escalation["steps"][0];
    assert_eq!(step["channel"], "call");
    assert_eq!(step["calls"][0]["status"], "acknowledged", "{step}");
    assert_eq!(step["calls"][0]["attempts"][0]["provider_sid"], "CA00000000000000000000000000000001");
    assert!(step["calls"][0]["answered_at"].is_string());
    let (_, detail) = app.get(&format!("/api/escalations/{}", escalation["id"].as_str().unwrap()), &dispatcher).await;
    let kinds: Vec<&str> = detail["log"].as_array().unwrap().iter().filter_map(|l| l["kind"].as_str()).collect();
    for kind in ["call_placed", "call_answered", "acknowledged", "call_acknowledged"] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }

    let metrics = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        "hotline_outbound_calls_placed_today 1",
        "hotline_outbound_calls_answered_today 1",
        "hotline_outbound_calls_acknowledged_today 1",
    ] {
        assert!(metrics.contains(line), "no `{line}` in\n{metrics}");
    }
    assert_eq!(stand_in.received().len(), 1, "one call");
    app.stop().await;
}

async fn a_jambonz_dispatcher_hears_it_again_on_2_and_accepts_on_1(db: TestDb) {
    let stand_in = StandIn::start(&[]).await;
    let policy_file = scratch_file(db.dir.path(), "policies.toml", &policies(600)).display().to_string();
    let settings = vec![
        ("HOTLINE_OUTBOUND", "jambonz".to_string()),
        ("HOTLINE_JAMBONZ_API_URL", stand_in.url.clone()),
        ("HOTLINE_JAMBONZ_ACCOUNT_SID", "acct-1".into()),
        ("HOTLINE_JAMBONZ_API_KEY", "key-1".into()),
        ("HOTLINE_ESCALATION_POLICIES", policy_file),
    ];
    let app = spawn(db, &settings).await;
    let hazard = report_hazard(&app).await;

    let request = stand_in.wait_for(1).await.remove(0);
    assert_eq!(request.path, "/v1/Accounts/acct-1/Calls");
    assert_eq!(request.authorization, "Bearer key-1");
    let body = request.json();
    assert_eq!(body["from"], "+78005050115");
    assert_eq!(body["to"], json!({"type": "phone", "number": DUTY_PHONE}));
    assert_eq!(body["call_hook"]["method"], "POST");
    assert_eq!(body["call_status_hook"]["method"], "POST");
    let hook = body["call_hook"]["url"].as_str().unwrap();
    let status_hook = body["call_status_hook"]["url"].as_str().unwrap();
    assert!(hook.starts_with(&format!("{}/telephony/jambonz/voice?outbound=", app.base)), "{hook}");
    assert!(status_hook.starts_with(&format!("{}/telephony/jambonz/status?outbound=", app.base)), "{status_hook}");

    let mut call =
        Caller::placed(&app.base, Dialect::Jambonz, "0190-jambonz-call", "+78005050115", DUTY_PHONE, hook, status_hook);
    assert_tells_the_hazard(&call.answer().await.unwrap(), &hazard);
    assert_tells_the_hazard(&call.press("2").await.unwrap(), &hazard);
    let zero = call.press("0").await.unwrap();
    assert!(
        zero.text().contains("Такой клавиши нет"),
        "a dispatcher is not put in the callers' queue: {}",
        zero.text()
    );
    let turn = call.press("1").await.unwrap();
    assert!(turn.text().contains("Принято"), "{}", turn.text());

    let dispatcher = app.login_as(Role::Dispatcher).await;
    let escalation = the_escalation(&app, &dispatcher).await;
    assert_eq!(escalation["state"], "acknowledged", "{escalation}");
    assert_eq!(escalation["steps"][0]["calls"][0]["status"], "acknowledged");
    app.stop().await;
}

async fn no_answer_leaves_it_unacknowledged_and_the_next_step_fires(db: TestDb) {
    let stand_in = StandIn::start(&[]).await;
    let policy_file = scratch_file(db.dir.path(), "policies.toml", &policies(3)).display().to_string();
    let app = spawn(db, &twilio_settings(&stand_in, &policy_file)).await;
    report_hazard(&app).await;
    let request = stand_in.wait_for(1).await.remove(0);
    let mut call = twilio_call(&app, &request, "CA00000000000000000000000000000001");
    assert_eq!(call.status("no-answer", 1).await.unwrap(), 200);

    let dispatcher = app.login_as(Role::Dispatcher).await;
    let escalation = the_escalation(&app, &dispatcher).await;
    assert_eq!(escalation["state"], "active", "{escalation}");
    assert_eq!(escalation["steps"][0]["calls"][0]["status"], "no-answer");
    eventually("the next step", Duration::from_secs(30), || async {
        let escalation = the_escalation(&app, &dispatcher).await;
        escalation["steps"][1]["fired_at"].is_string().then_some(())
    })
    .await;
    assert_eq!(the_escalation(&app, &dispatcher).await["state"], "active");
    assert_eq!(stand_in.received().len(), 1, "the e-mail step rings nobody");
    app.stop().await;
}

async fn silence_after_one_repeat_is_no_acknowledgement(db: TestDb) {
    let stand_in = StandIn::start(&[]).await;
    let policy_file = scratch_file(db.dir.path(), "policies.toml", &policies(600)).display().to_string();
    let app = spawn(db, &twilio_settings(&stand_in, &policy_file)).await;
    let hazard = report_hazard(&app).await;
    let request = stand_in.wait_for(1).await.remove(0);
    let mut call = twilio_call(&app, &request, "CA00000000000000000000000000000001");
    assert_tells_the_hazard(&call.answer().await.unwrap(), &hazard);
    assert_tells_the_hazard(&call.silence().await.unwrap(), &hazard);
    let turn = call.silence().await.unwrap();
    assert!(turn.text().contains("Вызов не принят"), "{}", turn.text());
    assert_eq!(turn.waiting, Waiting::Ended);

    let dispatcher = app.login_as(Role::Dispatcher).await;
    let escalation = the_escalation(&app, &dispatcher).await;
    assert_eq!(escalation["state"], "active", "{escalation}");
    assert_eq!(escalation["steps"][0]["calls"][0]["status"], "answered");
    app.stop().await;
}

async fn a_refusing_provider_is_retried_with_backoff_and_rings_once(db: TestDb) {
    let stand_in = StandIn::start(&[500]).await;
    let policy_file = scratch_file(db.dir.path(), "policies.toml", &policies(600)).display().to_string();
    let app = spawn(db, &twilio_settings(&stand_in, &policy_file)).await;
    report_hazard(&app).await;
    let dispatcher = app.login_as(Role::Dispatcher).await;

    let failed = eventually("the refused attempt", Duration::from_secs(30), || async {
        let call = the_escalation(&app, &dispatcher).await["steps"][0]["calls"][0].clone();
        (call["attempts"].as_array().is_some_and(|a| a.len() == 1)).then_some(call)
    })
    .await;
    assert_eq!(failed["status"], "pending", "{failed}");
    assert!(failed["attempts"][0]["error"].as_str().unwrap().contains("500"), "{failed}");
    let requests = stand_in.wait_for(2).await;
    let placed = eventually("the call placed", Duration::from_secs(30), || async {
        let call = the_escalation(&app, &dispatcher).await["steps"][0]["calls"][0].clone();
        (call["status"] == "placed").then_some(call)
    })
    .await;
    let attempts = placed["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2, "{placed}");
    assert_eq!(attempts[1]["provider_sid"], "CA00000000000000000000000000000002");
    let first = attempts[0]["at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let second = attempts[1]["at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    assert!(second.duration_since(first).as_secs_f64() >= 2.0, "a retry waits its backoff: {first} → {second}");
    assert_eq!(requests[0].form("Url"), requests[1].form("Url"), "the same call, asked for again");
    assert_eq!(stand_in.received().len(), 2, "placed once");
    app.stop().await;
}

async fn two_instances_place_one_call(db: TestDb) {
    let stand_in = StandIn::start(&[]).await;
    let policy_file = scratch_file(db.dir.path(), "policies.toml", &policies(600)).display().to_string();
    let settings = twilio_settings(&stand_in, &policy_file);
    let db_url = db.url.clone();
    let app = spawn(db, &settings).await;
    // Logged in, the first instance has loaded the settlements: two instances loading them at
    // once into an empty PostgreSQL interleave their ids, and the hazard names settlement 13.
    let dispatcher = app.login_as(Role::Dispatcher).await;
    // A second instance on the same database, with its own dialer and escalation worker.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let pairs: Vec<(&'static str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let second_settings = settings_for(&db_url, listener.local_addr().unwrap(), &pairs);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let second = tokio::spawn(hotline::app::run(second_settings, listener, async {
        let _ = stopped.await;
    }));

    report_hazard(&app).await;
    stand_in.wait_for(1).await;
    eventually("the call placed", Duration::from_secs(30), || async {
        (the_escalation(&app, &dispatcher).await["steps"][0]["calls"][0]["status"] == "placed").then_some(())
    })
    .await;
    assert_eq!(stand_in.received().len(), 1, "one call from two instances");
    let _ = stop.send(());
    second.await.unwrap().unwrap();
    app.stop().await;
}

/// `hotline call --answer URL` plays the provider of a placed call, so staff can try it by hand.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hotline_call_answers_a_placed_call_by_hand() {
    let db = TestDb::sqlite().await;
    let stand_in = StandIn::start(&[]).await;
    let policy_file = scratch_file(db.dir.path(), "policies.toml", &policies(600)).display().to_string();
    let app = spawn(db, &twilio_settings(&stand_in, &policy_file)).await;
    report_hazard(&app).await;
    let request = stand_in.wait_for(1).await.remove(0);
    let output = hotline_command(app.db.dir.path())
        .args(["call", "--url", &app.base, "--from", DUTY_PHONE, "--digits", "1", "--secret", TOKEN])
        .args(["--answer", &request.form("Url")])
        .output()
        .await
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{printed}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(printed.contains("Нажмите 1, чтобы принять") && printed.contains("Принято"), "{printed}");
    let dispatcher = app.login_as(Role::Dispatcher).await;
    assert_eq!(the_escalation(&app, &dispatcher).await["state"], "acknowledged");
    app.stop().await;
}

/// A zone in which it is `hour` o'clock now, so a test may run at any time of day and still be
/// by day or by night where the hotline counts its quiet hours.
fn zone_where_it_is(hour: i64) -> String {
    let utc = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).hour() as i64;
    let ahead = match (hour - utc).rem_euclid(24) {
        h if h > 12 => h - 24,
        h => h,
    };
    // The signs of the Etc zones are the POSIX ones: Etc/GMT-3 is three hours ahead of UTC.
    if ahead == 0 { "Etc/UTC".into() } else { format!("Etc/GMT{:+}", -ahead) }
}

const UGLICH: &str = "152610";

/// A caller reports no power in Углич and, offered it, asks to be called when it returns. A
/// returning caller says yes to the settlement of their last report instead of keying it.
async fn report_and_ask_for_the_call(app: &TestApp, from: &str, returning: bool) -> String {
    let mut caller = Caller::new(&app.base, Dialect::Twilio, from).with_secret(Some(TOKEN.into()));
    caller.dial().await.unwrap();
    caller.press("2").await.unwrap();
    caller.press(if returning { "1" } else { UGLICH }).await.unwrap();
    let reported = caller.press("1").await.unwrap();
    assert!(reported.text().contains("Заявка принята"), "{}", reported.text());
    assert!(
        reported.text().contains("Нажмите 1, и мы позвоним, когда электроснабжение восстановят"),
        "{}",
        reported.text()
    );
    let subscribed = caller.press("1").await.unwrap();
    assert!(subscribed.text().contains("мы позвоним на этот номер"), "{}", subscribed.text());
    assert_eq!(subscribed.waiting, Waiting::Ended);
    subscribed.text()
}

/// The incident of Углич, as dispatchers see it.
async fn uglich_incident(app: &TestApp, dispatcher: &str) -> Value {
    let (status, incidents) = app.get("/api/incidents", dispatcher).await;
    assert_eq!(status, 200, "{incidents}");
    incidents["items"].as_array().unwrap().iter().find(|i| i["settlement"]["name"] == "Углич").unwrap().clone()
}

async fn resolve(app: &TestApp, dispatcher: &str, incident: &Value) {
    let path = format!("/api/incidents/{}", incident["id"].as_str().unwrap());
    let (status, body) = app.patch(&path, dispatcher, json!({"status": "resolved"})).await;
    assert_eq!(status, 200, "{body}");
}

async fn callers_are_called_once_when_the_power_returns_and_1_reopens_the_incident(db: TestDb) {
    let stand_in = StandIn::start(&[]).await;
    let policy_file = scratch_file(db.dir.path(), "policies.toml", &policies(600)).display().to_string();
    let mut settings = twilio_settings(&stand_in, &policy_file);
    settings.push(("HOTLINE_TIMEZONE", zone_where_it_is(13)));
    let app = spawn(db, &settings).await;
    let dispatcher = app.login_as(Role::Dispatcher).await;

    report_and_ask_for_the_call(&app, "+79101110001", false).await;
    report_and_ask_for_the_call(&app, "+79101110002", false).await;
    // Asking again in another call does not make a second call.
    report_and_ask_for_the_call(&app, "+79101110001", true).await;
    // A withheld number is never offered a call.
    let mut anonymous = Caller::new(&app.base, Dialect::Twilio, "anonymous").with_secret(Some(TOKEN.into()));
    anonymous.dial().await.unwrap();
    anonymous.press("2").await.unwrap();
    anonymous.press(UGLICH).await.unwrap();
    let reported = anonymous.press("1").await.unwrap();
    assert!(
        reported.text().contains("Заявка принята") && !reported.text().contains("мы позвоним"),
        "{}",
        reported.text()
    );
    assert_eq!(reported.waiting, Waiting::Ended);

    // A caller still listening to the offer when the incident is resolved is not promised a call.
    let mut late = Caller::new(&app.base, Dialect::Twilio, "+79101110003").with_secret(Some(TOKEN.into()));
    late.dial().await.unwrap();
    late.press("2").await.unwrap();
    late.press(UGLICH).await.unwrap();
    assert!(late.press("1").await.unwrap().text().contains("мы позвоним, когда электроснабжение восстановят"));

    let incident = uglich_incident(&app, &dispatcher).await;
    assert_eq!(incident["power_back_waiting"], 2, "{incident}");
    assert!(stand_in.received().is_empty(), "nobody is called before the incident is resolved");
    resolve(&app, &dispatcher, &incident).await;
    let too_late = late.press("1").await.unwrap();
    assert!(
        too_late.text().contains("Спасибо за звонок") && !too_late.text().contains("мы позвоним"),
        "{}",
        too_late.text()
    );

    let requests = stand_in.wait_for(2).await;
    let mut called: Vec<String> = requests.iter().map(|r| r.form("To")).collect();
    called.sort();
    assert_eq!(called, ["+79101110001", "+79101110002"]);
    assert!(requests[0].form("Url").starts_with(&format!("{}/telephony/twilio/voice?outbound=", app.base)));
    eventually("both calls placed", Duration::from_secs(30), || async {
        (uglich_incident(&app, &dispatcher).await["power_back_waiting"] == 0).then_some(())
    })
    .await;

    // The first hears the news and hangs up; the second still has no power.
    let mut told = twilio_call(&app, &requests[0], "CA00000000000000000000000000000001");
    let news = told.answer().await.unwrap();
    assert!(news.text().contains("Электроснабжение в населённом пункте Углич восстановлено"), "{}", news.text());
    assert!(news.text().contains("Если у вас света всё ещё нет, нажмите 1"), "{}", news.text());
    assert_eq!(told.silence().await.unwrap().waiting, Waiting::Ended);

    let mut still_off = twilio_call(&app, &requests[1], "CA00000000000000000000000000000002");
    still_off.answer().await.unwrap();
    let reported = still_off.press("1").await.unwrap();
    assert!(reported.text().contains("Заявка принята"), "{}", reported.text());
    assert_eq!(reported.waiting, Waiting::Ended);
    let reopened = uglich_incident(&app, &dispatcher).await;
    assert_eq!((reopened["id"].clone(), reopened["status"].as_str()), (incident["id"].clone(), Some("open")));
    assert_eq!(reopened["reports"], incident["reports"].as_i64().unwrap() + 1, "{reopened}");
    let operator = app.login_as(Role::Operator).await;
    let (_, tickets) = app.get("/api/tickets?category=outage&settlement_id=6&limit=50", &operator).await;
    let again = tickets["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["description"].as_str().unwrap().contains("после сообщения о восстановлении"));
    let again = again.expect("a new outage report");
    assert_eq!(again["caller_number"], requests[1].form("To"));
    assert_eq!(again["incident_id"], incident["id"]);
    assert_eq!(stand_in.received().len(), 2, "one call each");
    app.stop().await;
}

async fn power_back_calls_wait_for_the_morning_and_go_out_one_a_tick(db: TestDb) {
    let stand_in = StandIn::start(&[]).await;
    let policy_file = scratch_file(db.dir.path(), "policies.toml", &policies(600)).display().to_string();
    let mut settings = twilio_settings(&stand_in, &policy_file);
    // Two at night where the hotline is: its own dialer places none of these calls.
    settings.push(("HOTLINE_TIMEZONE", zone_where_it_is(2)));
    let app = spawn(db, &settings).await;
    let dispatcher = app.login_as(Role::Dispatcher).await;
    for n in 1..=3 {
        report_and_ask_for_the_call(&app, &format!("+7910222000{n}"), false).await;
    }
    resolve(&app, &dispatcher, &uglich_incident(&app, &dispatcher).await).await;
    assert_eq!(uglich_incident(&app, &dispatcher).await["power_back_waiting"], 3);

    // Dialers of their own, as further instances would run them, at a chosen time.
    let pairs: Vec<(&'static str, &str)> = settings.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let listen = app.base.trim_start_matches("http://").parse().unwrap();
    let instance = settings_for(&app.db.url, listen, &pairs);
    let api = instance.outbound.clone().unwrap();
    let dialer_at =
        |at: Timestamp| Dialer::from_settings(&api, &instance, app.store.clone(), Clock::from_fn(move || at)).unwrap();
    let now = Timestamp::from(jiff::Timestamp::now());
    dialer_at(now).round().await.unwrap();
    dialer_at(now.plus_seconds(4 * 3600)).round().await.unwrap();
    assert!(stand_in.received().is_empty(), "nobody is called between 22:00 and 08:00");

    // After eight in the morning: one call a tick, each number once, whichever instance dials.
    let morning = now.plus_seconds(6 * 3600 + 60);
    for expected in 1..=3 {
        dialer_at(morning).round().await.unwrap();
        assert_eq!(stand_in.received().len(), expected);
    }
    dialer_at(morning.plus_seconds(60)).round().await.unwrap();
    let mut called: Vec<String> = stand_in.received().iter().map(|r| r.form("To")).collect();
    called.sort();
    assert_eq!(called, ["+79102220001", "+79102220002", "+79102220003"]);
    assert_eq!(uglich_incident(&app, &dispatcher).await["power_back_waiting"], 0);
    app.stop().await;
}
