//! The web console in a real browser: headless Chromium driven through chromedriver (WebDriver)
//! against the app started like `serve`. Each view is used as its people use it, live updates
//! are awaited without reloading the page, and a screenshot of each view is saved under
//! `target/console-screenshots/` for a look at the layout at 1366×768.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Once;
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use hotline::auth::{self, Role};
use hotline::clock::Clock;
use hotline::telephony::Dialect;
use hotline::tools::simulator::{Caller, Waiting};
use serde_json::json;
use tokio::process::{Child, Command};

use crate::helpers::{TestApp, TestDb, eventually, free_port};

/// Long enough for a loaded 2-core machine; a condition that holds returns at once.
const DEADLINE: Duration = Duration::from_secs(30);
const PASSWORD: &str = "password123";
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER_NAMES: &[&str] = &["chromedriver", "chromium-driver"];

/// One Chromium at a time: several at once starve a small machine and time the tests out.
static ONE_BROWSER_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// chromedriver on a free port and a headless Chromium session through it.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
}

impl Drop for Browser {
    /// A failing test never reaches `close`: end chromedriver and the Chromium it started together
    /// (its own process group), so no browser outlives the test.
    fn drop(&mut self) {
        if let Some(pid) = self.driver.id() {
            // SAFETY: kill(2) on a process group this test created; no memory is involved.
            unsafe { libc::kill(-(pid as i32), libc::SIGKILL) };
        }
    }
}

/// A test's turn at the browser: chromedriver's path, and the lock that keeps browsers one at a time.
pub(crate) struct BrowserTurn {
    chromedriver: PathBuf,
    _one_at_a_time: tokio::sync::MutexGuard<'static, ()>,
}

/// The one place that decides whether the browser tests run. With chromedriver on PATH they do;
/// without it they are skipped, said once and loudly, as the PostgreSQL half is, unless `CI` is
/// set: CI must run them, so there a missing chromedriver fails the test.
pub(crate) async fn browser_turn() -> Option<BrowserTurn> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let found = std::env::split_paths(&path)
        .flat_map(|dir| CHROMEDRIVER_NAMES.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file());
    let Some(chromedriver) = found else {
        let missing = "chromedriver is not on PATH: the console's browser tests need the Debian packages \
                       `chromium` and `chromium-driver` (apt-get install chromium chromium-driver; .ci/run does)";
        assert!(std::env::var_os("CI").is_none(), "CI is set, so the browser tests must run, but {missing}");
        static SAID: Once = Once::new();
        SAID.call_once(|| {
            // Straight to the terminal: the test harness would swallow a print!.
            let _ = writeln!(std::io::stderr(), "\n{missing}; the browser tests are skipped\n");
        });
        return None;
    };
    Some(BrowserTurn { chromedriver, _one_at_a_time: ONE_BROWSER_AT_A_TIME.lock().await })
}

impl Browser {
    pub(crate) async fn start(turn: &BrowserTurn) -> Self {
        let port = free_port().port();
        let driver = Command::new(&turn.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver could not be started");
        eventually("chromedriver to listen", DEADLINE, || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port)).await.ok()
        })
        .await;
        let mut options = json!({"args": ["--headless", "--no-sandbox", "--disable-gpu", "--window-size=1366,768"]});
        if Path::new(CHROMIUM).exists() {
            options["binary"] = json!(CHROMIUM);
        }
        let capabilities = json!({"goog:chromeOptions": options});
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities.as_object().unwrap().clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("chromedriver did not open a Chromium session (is the chromium package installed?)");
        Self { client, driver }
    }

    /// Ends the session the way a user closes the browser; dropping the Browser then stops chromedriver.
    pub(crate) async fn close(&self) {
        let _ = self.client.clone().close().await;
    }

    /// Opens the console and logs in; returns once the user's first view is on screen.
    async fn log_in(&self, app: &TestApp, username: &str) {
        self.follow_link_and_log_in(&app.url("/"), username).await;
    }

    /// Opens a link into the console (as from an e-mail) and logs in.
    async fn follow_link_and_log_in(&self, link: &str, username: &str) {
        self.client.goto(link).await.unwrap();
        let form = self.wait_for("#login [name=username]").await;
        form.send_keys(username).await.unwrap();
        self.find("#login [name=password]").await.send_keys(PASSWORD).await.unwrap();
        self.click("#login button[type=submit]").await;
        self.wait_for_text("#who", username).await;
        self.wait_for_text("#live", "онлайн").await;
    }

    pub(crate) async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    /// Waits until an element matching `css` is displayed.
    pub(crate) async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        eventually(&format!("{css} to be shown"), DEADLINE, || async {
            let element = self.client.find(Locator::Css(css)).await.ok()?;
            element.is_displayed().await.ok()?.then_some(element)
        })
        .await
    }

    /// Waits until the text of the element matching `css` contains `expected`.
    pub(crate) async fn wait_for_text(&self, css: &str, expected: &str) -> String {
        eventually(&format!("{css} to show “{expected}”"), DEADLINE, || async {
            let text = self.client.find(Locator::Css(css)).await.ok()?.text().await.ok()?;
            text.contains(expected).then_some(text)
        })
        .await
    }

    /// The text of the element matching `css`; one replaced by a live update between finding
    /// and reading is found again.
    async fn text(&self, css: &str) -> String {
        eventually(&format!("{css} to be read"), DEADLINE, || async {
            self.client.find(Locator::Css(css)).await.ok()?.text().await.ok()
        })
        .await
    }

    /// The cells of a table's body, row by row.
    async fn table_rows(&self, css: &str) -> Vec<Vec<String>> {
        let mut rows = Vec::new();
        for row in self.client.find_all(Locator::Css(&format!("{css} tbody tr"))).await.unwrap() {
            let mut cells = Vec::new();
            for cell in row.find_all(Locator::Css("td")).await.unwrap() {
                cells.push(cell.text().await.unwrap());
            }
            rows.push(cells);
        }
        rows
    }

    /// Clicks the element matching `css`; one replaced by a live update between finding and
    /// clicking is found again.
    pub(crate) async fn click(&self, css: &str) {
        eventually(&format!("{css} to take a click"), DEADLINE, || async {
            self.client.find(Locator::Css(css)).await.ok()?.click().await.ok()
        })
        .await
    }

    /// Picks the option `value` of the select matching `css`, once it is offered; a select
    /// replaced by a live update meanwhile is found again.
    async fn select(&self, css: &str, value: &str) {
        eventually(&format!("{css} to offer {value}"), DEADLINE, || async {
            self.client.find(Locator::Css(css)).await.ok()?.select_by_value(value).await.ok()
        })
        .await
    }

    /// Types into a field, replacing what it held.
    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// A shortcut: `key` pressed while `modifier` is held, sent to the page.
    async fn press(&self, modifier: Key, key: char) {
        let body = self.find("body").await;
        let chord = format!("{}{key}{}", char::from(modifier), char::from(Key::Null));
        body.send_keys(&chord).await.unwrap();
    }

    /// Saves what the browser shows as `target/console-screenshots/NAME.png`.
    async fn screenshot(&self, name: &str) {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("console-screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

async fn user(app: &TestApp, role: Role) -> String {
    let name = format!("{role}-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    auth::add_user(&app.store, &name, PASSWORD, role, Clock::system().now()).await.unwrap();
    name
}

/// A caller who goes through the IVR until the operator queue.
async fn caller_waiting(app: &TestApp, from: &str, keys: &[&str]) -> Caller {
    let mut caller = Caller::new(&app.base, Dialect::Twilio, from);
    caller.dial().await.unwrap();
    for key in keys {
        caller.press(key).await.unwrap();
    }
    if !matches!(caller.waiting, Waiting::Queue { .. }) {
        // Asked whether to wait or be called back: wait.
        caller.press("2").await.unwrap();
    }
    assert!(matches!(caller.waiting, Waiting::Queue { .. }), "the caller is not in the queue");
    caller
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sees_a_call_arrive_live_takes_it_notes_and_wraps_it_up() {
    let Some(turn) = browser_turn().await else { return };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let olga = user(&app, Role::Operator).await;
    let colleague = app.login_as(Role::Operator).await;
    // The caller phoned before: the operator sees that ticket next to the new call.
    let (status, earlier) = app
        .post(
            "/api/tickets",
            &colleague,
            json!({"category": "question", "caller_number": "+79101234567", "description": "Спрашивал о счёте за электроэнергию",
                "assign_to_me": true}),
        )
        .await;
    assert_eq!(status, 201, "{earlier}");

    let browser = Browser::start(&turn).await;
    browser.log_in(&app, &olga).await;
    browser.wait_for("#operator-view").await;
    browser.type_into("#operator-state [name=contact]", "+79990001122").await;
    browser.click("#operator-state button[type=submit]").await;
    browser.wait_for_text("#notice", "Статус: На линии").await;

    // A hazard call through the IVR: 1 hazard, postcode of Углич, 1 broken wire. The page is not reloaded.
    let _caller = caller_waiting(&app, "+79101234567", &["1", "152610", "1"]).await;
    browser.wait_for_text("#queue-list", "+79101234567").await;
    browser.wait_for_text("#queue-list", "Звонок на линии · Опасность").await;
    browser.screenshot("operator-queue").await;

    browser.press(Key::Alt, 'n').await;
    let facts = browser.wait_for_text("#current-facts", "Углич (152610)").await;
    assert!(facts.contains("+79101234567"), "{facts}");
    assert!(facts.contains("Оборван или упал провод"), "{facts}");
    let path = browser.wait_for_text("#current-path", "Главное меню: 1 (опасность)").await;
    assert!(path.contains("Индекс или населённый пункт: 152610"), "{path}");
    assert!(path.contains("Что случилось: 1"), "{path}");
    browser.wait_for_text("#history", "Спрашивал о счёте").await;
    // The steps offered are the ones the ticket's lifecycle allows, as the server says.
    let steps = browser.wait_for_text("#lifecycle", "Передать диспетчеру").await;
    assert!(steps.contains("Решено") && !steps.contains("Закрыть"), "{steps}");

    browser.type_into("#note-form [name=text]", "Провод лежит на дороге у дома 5").await;
    // A reload (a crash of the tab, F5) loses neither the call in hand nor the unsent note.
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("#current-facts", "Углич (152610)").await;
    let draft = eventually("the unsent note to be back", DEADLINE, || async {
        let value =
            browser.client.find(Locator::Css("#note-form [name=text]")).await.ok()?.prop("value").await.ok()??;
        (!value.is_empty()).then_some(value)
    })
    .await;
    assert_eq!(draft, "Провод лежит на дороге у дома 5");
    browser.click("#note-form button[type=submit]").await;
    browser.wait_for_text("#notes", "Провод лежит на дороге у дома 5").await;
    browser.screenshot("operator-current").await;

    // Wrap-up by keyboard: pick the disposition, then Alt+W.
    browser.find("#wrapup-form [name=disposition]").await.select_by_value("hazard_dispatched").await.unwrap();
    browser.press(Key::Alt, 'w').await;
    browser.wait_for_text("#notice", "Обращение завершено").await;
    browser.wait_for("#current-empty").await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let (_, tickets) = app.get("/api/tickets?category=hazard", &supervisor).await;
    let number = tickets["items"][0]["number"].as_str().unwrap().to_string();
    let (_, hazard) = app.get(&format!("/api/tickets/{number}"), &supervisor).await;
    assert_eq!(hazard["notes"][0]["text"], "Провод лежит на дороге у дома 5", "{hazard}");
    let (_, done) = app.get("/api/metrics", &supervisor).await;
    assert_eq!(done["waiting"], 0, "{done}");

    // A caller who pressed 0 has no ticket: the operator makes one by hand while talking.
    let _direct = caller_waiting(&app, "+79107654321", &["0"]).await;
    browser.wait_for_text("#queue-list", "+79107654321").await;
    browser.click("#take-next").await;
    browser.wait_for_text("#current-path", "Главное меню: 0 (оператор)").await;
    browser.wait_for_text("#current-facts", "нет — создайте вручную").await;
    let prefilled = browser.find("#new-ticket [name=caller_number]").await.prop("value").await.unwrap();
    assert_eq!(prefilled.as_deref(), Some("+79107654321"));
    browser.find("#new-ticket [name=category]").await.select_by_value("connection").await.unwrap();
    browser.type_into("#new-ticket [name=description]", "Как подключить садовый дом").await;
    browser.click("#new-ticket button[type=submit]").await;
    browser.wait_for_text("#current-facts", "Техприсоединение").await;
    browser.find("#wrapup-form [name=disposition]").await.select_by_value("connection_info").await.unwrap();
    browser.click("#wrapup-form button[type=submit]").await;
    browser.wait_for_text("#notice", "Обращение завершено").await;
    let (_, made) = app.get("/api/tickets?category=connection", &supervisor).await;
    assert_eq!(made["items"][0]["caller_number"], "+79107654321", "{made}");
    assert_eq!(made["items"][0]["channel"], "operator");
    assert_eq!(made["items"][0]["status"], "resolved");

    browser.click("#logout").await;
    browser.wait_for("#login").await;
    browser.close().await;
    app.stop().await;
}

/// SPEC §6: recording URLs are http(s) only. The server keeps no other since issue 17; a row from
/// before, or one written by hand, must still never become a link the operator could click.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_url_that_is_not_http_is_shown_as_text_never_as_a_link() {
    let Some(turn) = browser_turn().await else { return };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let olga = user(&app, Role::Operator).await;
    let colleague = app.login_as(Role::Operator).await;
    let (status, ticket) = app
        .post("/api/tickets", &colleague, json!({"category": "theft", "description": "Подключились мимо счётчика"}))
        .await;
    assert_eq!(status, 201, "{ticket}");
    let (id, number) = (ticket["id"].as_str().unwrap(), ticket["number"].as_str().unwrap());
    app.execute(&format!("UPDATE tickets SET recording_url = 'javascript:alert(document.domain)' WHERE id = '{id}'"))
        .await;

    let browser = Browser::start(&turn).await;
    browser.log_in(&app, &olga).await;
    browser.wait_for("#operator-view").await;
    browser.wait_for_text("#queue-list", number).await;
    browser.click("#take-next").await;
    let facts = browser.wait_for_text("#current-facts", "ссылка не открывается").await;
    assert!(facts.contains("javascript:alert(document.domain)"), "shown as text: {facts}");
    let links = browser.client.find_all(Locator::Css("#current-facts a")).await.unwrap();
    assert!(links.is_empty(), "a javascript: recording became a link");
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_sees_hazard_escalations_arrive_live_and_acknowledges_one() {
    let Some(turn) = browser_turn().await else { return };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let dispatcher = user(&app, Role::Dispatcher).await;
    let operator = app.login_as(Role::Operator).await;

    let browser = Browser::start(&turn).await;
    browser.log_in(&app, &dispatcher).await;
    browser.wait_for_text("#escalations", "Открытых эскалаций нет").await;

    let hazard = json!({"category": "hazard", "settlement_id": 13, "description": "Искрит провод на столбе"});
    let (status, ticket) = app.post("/api/tickets", &operator, hazard).await;
    assert_eq!(status, 201, "{ticket}");
    let number = ticket["number"].as_str().unwrap();
    let card = browser.wait_for_text("#escalations", &format!("Заявка № {number}")).await;
    assert!(card.contains("ждёт подтверждения"), "{card}");
    assert!(card.contains("Искрит провод на столбе"), "{card}");
    assert!(card.contains("Шаг 1"), "the steps are shown: {card}");
    browser.screenshot("dispatcher").await;

    browser.click(".escalation.active button.ack").await;
    let card = browser.wait_for_text("#escalations", &format!("Принял: {dispatcher}")).await;
    assert!(card.contains("принята"), "{card}");
    let (_, escalations) = app.get("/api/escalations", &app.login_as(Role::Supervisor).await).await;
    assert_eq!(escalations[0]["state"], "acknowledged", "{escalations}");
    assert_eq!(escalations[0]["acknowledged_by"], dispatcher.as_str());
    browser.screenshot("dispatcher-acknowledged").await;

    // A crew added on the board is sent to the escalation from its card.
    browser.type_into("#new-crew input[name=name]", "Бригада 7 Ростовского РЭС").await;
    browser.type_into("#new-crew input[name=email]", "crew7@res.example").await;
    browser.click("#new-crew button[type=submit]").await;
    browser.wait_for_text("#crews", "Бригада 7 Ростовского РЭС").await;
    let (_, crews) = app.get("/api/crews", &app.login_as(Role::Dispatcher).await).await;
    let crew_id = crews[0]["id"].as_str().unwrap().to_string();
    let picker = ".escalation select[aria-label='Бригада']";
    browser.select(picker, &crew_id).await;
    browser.click(".escalation form:has(select[aria-label='Бригада']) button[type=submit]").await;
    let card = browser.wait_for_text("#escalations", "Бригада: Бригада 7 Ростовского РЭС").await;
    assert!(card.contains("Принял"), "{card}");
    assert!(
        card.contains("не понадобился") && !card.contains("сработает"),
        "acknowledged: no step is still to come: {card}"
    );
    let (_, escalations) = app.get("/api/escalations", &app.login_as(Role::Supervisor).await).await;
    assert_eq!(escalations[0]["crew_id"], crew_id.as_str(), "{escalations}");
    browser.wait_for_text("#crews", "в пути").await;
    browser.screenshot("dispatcher-crew-sent").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_sets_an_incidents_status_and_restoration_time_and_a_crews_status_from_the_board() {
    let Some(turn) = browser_turn().await else { return };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let dispatcher = user(&app, Role::Dispatcher).await;
    let api = app.login_as(Role::Dispatcher).await;
    let (status, crew) = app.post("/api/crews", &api, json!({"name": "Бригада 5 Угличского РЭС"})).await;
    assert_eq!(status, 201, "{crew}");
    // An outage report from Углич opens an incident.
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79100000901");
    caller.dial().await.unwrap();
    for keys in ["2", "152610", "1"] {
        caller.press(keys).await.unwrap();
    }

    let browser = Browser::start(&turn).await;
    browser.log_in(&app, &dispatcher).await;
    browser.wait_for_text("#incidents", "Углич").await;
    // The restoration time, three hours on, as the dispatcher would pick it in the browser's own
    // time zone; the page reports the instant it stands for.
    let picked: String = browser
        .client
        .execute(
            "const at = new Date(Date.now() + 3 * 3600 * 1000); at.setSeconds(0, 0);
             const pad = (n) => String(n).padStart(2, '0');
             const input = document.querySelector(\"#incidents input[aria-label='Восстановление']\");
             input.value = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}`;
             return at.toISOString();",
            vec![],
        )
        .await
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    browser.select("#incidents select[aria-label='Статус']", "in_progress").await;
    browser.click("#incidents .incident form button[type=submit]").await;
    browser.wait_for_text("#incidents .incident .badge", "бригада работает").await;
    let card = browser.text("#incidents .incident").await;
    assert!(!card.contains("Восстановление: не назначено"), "the restoration time is shown: {card}");

    let (_, incidents) = app.get("/api/incidents", &api).await;
    let incident = &incidents["items"][0];
    assert_eq!(incident["status"], "in_progress", "{incident}");
    let etr: jiff::Timestamp = incident["etr"].as_str().unwrap().parse().unwrap();
    assert_eq!(etr, picked.parse::<jiff::Timestamp>().unwrap(), "{incident}");

    // The next caller from Углич hears the time the dispatcher set.
    let tz = jiff::tz::TimeZone::get("Europe/Moscow").unwrap();
    let until = hotline::outages::spoken_until(etr.into(), jiff::Timestamp::now().into(), &tz);
    let mut next = Caller::new(&app.base, Dialect::Twilio, "+79100000902");
    next.dial().await.unwrap();
    next.press("2").await.unwrap();
    let heard = next.press("152610").await.unwrap().text();
    assert!(heard.contains(&format!("восстановят {until}")), "{heard}");

    // The crews board: the crew is on site now.
    let crew_status = "select[aria-label='Статус бригады Бригада 5 Угличского РЭС']";
    browser.select(crew_status, "on_site").await;
    eventually("the crew's new status to be saved", DEADLINE, || async {
        let (_, crews) = app.get("/api/crews", &api).await;
        (crews[0]["status"] == "on_site").then_some(())
    })
    .await;
    browser.screenshot("dispatcher-incident-set").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_in_an_escalation_mail_opens_its_ticket_in_the_dispatchers_view() {
    let Some(turn) = browser_turn().await else { return };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let dispatcher = user(&app, Role::Dispatcher).await;
    let operator = app.login_as(Role::Operator).await;
    let mut numbers = Vec::new();
    for description in ["Упала опора", "Искрит провод у школы"] {
        let hazard = json!({"category": "hazard", "settlement_id": 13, "description": description});
        let (status, ticket) = app.post("/api/tickets", &operator, hazard).await;
        assert_eq!(status, 201, "{ticket}");
        numbers.push(ticket["number"].as_str().unwrap().to_string());
    }

    // The link names the older ticket: after logging in, that one is shown and its card marked.
    let browser = Browser::start(&turn).await;
    browser.follow_link_and_log_in(&app.url(&format!("/#ticket/{}", numbers[0])), &dispatcher).await;
    let panel = browser.wait_for_text("#focused-ticket", &format!("Заявка № {}", numbers[0])).await;
    assert!(panel.contains("Упала опора") && panel.contains("отмечена"), "{panel}");
    let marked = browser.wait_for_text("#escalations .escalation.focused", "Упала опора").await;
    assert!(marked.contains(&format!("Заявка № {}", numbers[0])), "{marked}");
    let marked = browser.client.find_all(Locator::Css("#escalations .escalation.focused")).await.unwrap();
    assert_eq!(marked.len(), 1, "only the linked ticket's card is marked");
    browser.screenshot("dispatcher-linked-ticket").await;

    // Putting the panel away leaves the board as it was.
    browser.click("#focused-ticket button").await;
    eventually("the panel to close", DEADLINE, || async {
        let shown = browser.find("#focused-ticket").await.is_displayed().await.ok()?;
        let marked = browser.client.find_all(Locator::Css(".escalation.focused")).await.ok()?;
        (!shown && marked.is_empty()).then_some(())
    })
    .await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_sees_the_metrics_move_switches_storm_mode_and_gets_csv_errors_by_line() {
    let Some(turn) = browser_turn().await else { return };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let supervisor = user(&app, Role::Supervisor).await;
    let operator = app.login_as(Role::Operator).await;

    let browser = Browser::start(&turn).await;
    browser.log_in(&app, &supervisor).await;
    browser.wait_for_text("[data-metric=waiting] .value", "0").await;
    for description in ["Вопрос о тарифе", "Жалоба на счёт"] {
        let (status, body) =
            app.post("/api/tickets", &operator, json!({"category": "question", "description": description})).await;
        assert_eq!(status, 201, "{body}");
    }
    browser.wait_for_text("[data-metric=waiting] .value", "2").await;
    browser.wait_for_text("#supervisor-queue", "Заявка · Вопрос").await;

    browser.wait_for_text("#storm-state", "Выключен").await;
    browser.press(Key::Alt, 's').await;
    browser.wait_for_text("#storm-state", "Включён").await;
    let (_, storm) = app.get("/api/storm-mode", &operator).await;
    assert_eq!(storm["on"], true, "{storm}");

    let csv = "postcode,settlement,starts_at,ends_at,streets,reason\n\
               152610,Углич,2026-12-01T09:00,2026-12-01T17:00,Ленина,ремонт\n\
               999999,Нигде,2026-12-01T09:00,2026-12-01T17:00,,\n\
               152610,Углич,завтра,2026-12-01T17:00,,\n";
    let file = app.db.dir.path().join("planned.csv");
    std::fs::write(&file, csv).unwrap();
    browser.find("#import-form [name=file]").await.send_keys(&file.display().to_string()).await.unwrap();
    browser.click("#import-form button[type=submit]").await;
    browser.wait_for_text("#import-errors", "нет населённого пункта «Нигде» с индексом 999999").await;
    let rows = browser.table_rows("#import-errors").await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0], ["3", "нет населённого пункта «Нигде» с индексом 999999"]);
    assert_eq!(rows[1][0], "4");
    assert!(rows[1][1].starts_with("начало «завтра» — не время"), "{rows:?}");
    browser.wait_for_text("#import-result", "Ничего не загружено").await;
    browser.screenshot("supervisor").await;
    browser.close().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_from_the_binary_with_its_types_and_revalidated_by_entity_tag() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/console/app.js", "text/javascript; charset=utf-8"),
        ("/console/operator.js", "text/javascript; charset=utf-8"),
        ("/console/console.css", "text/css; charset=utf-8"),
    ] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let header = |name: &str| response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
        assert_eq!(header("content-type"), content_type, "{path}");
        assert_eq!(header("cache-control"), "no-cache", "{path}");
        assert!(header("content-security-policy").contains("default-src 'self'"), "{path}");
        let etag = header("etag");
        assert!(etag.starts_with('"'), "{path}: {etag}");
        let again = app.http.get(app.url(path)).header("if-none-match", &etag).send().await.unwrap();
        assert_eq!(again.status(), 304, "{path}: an unchanged file is not sent again");
    }
    let page = app.http.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<html lang=\"ru\">") && page.contains("/console/app.js"), "{page}");
    assert!(!page.contains("http://") && !page.contains("https://"), "the page loads nothing from elsewhere");
    let missing = app.http.get(app.url("/console/nothing.js")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
    let page_by_name = app.http.get(app.url("/console/index.html")).send().await.unwrap();
    assert_eq!(page_by_name.status(), 404, "the page has one address, /");
    app.stop().await;
}
