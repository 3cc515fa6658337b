//! The internet reception in a real browser, as a resident uses it on a phone (360×640) and on
//! a desktop (1366×768): search outages, send each kind of report and read its number, look up
//! the status of an appeal and of a connection application, open a sample application to print,
//! and see a form's Russian errors. On each page axe-core checks WCAG 2 A and AA and fails on
//! any serious or critical violation. Screenshots go to `target/reception-screenshots/`.
//! Skipped like the console's browser tests without chromedriver.

use std::io::Write;
use std::path::Path;
use std::sync::Once;
use std::time::Duration;

use hotline::auth::Role;
use serde_json::{Value, json};

use crate::console::{Browser, browser_turn};
use crate::helpers::{TestApp, TestDb};

async fn screenshot(browser: &Browser, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("reception-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), browser.client.screenshot().await.unwrap()).unwrap();
}

/// axe-core's `axe.min.js`, named by HOTLINE_TEST_AXE. Without it the accessibility check is
/// skipped, said once and loudly, unless `CI` is set: CI must run it, so there it fails.
fn axe_source() -> Option<String> {
    let Some(path) = std::env::var_os("HOTLINE_TEST_AXE") else {
        let missing = "HOTLINE_TEST_AXE is not set: the reception's accessibility check needs the path of axe-core's \
                       axe.min.js (.ci/run installs it with `npm install --no-save --prefix \"$HOME/.cache/hotline-axe\" \
                       axe-core@4` and exports HOTLINE_TEST_AXE=$HOME/.cache/hotline-axe/node_modules/axe-core/axe.min.js)";
        assert!(std::env::var_os("CI").is_none(), "CI is set, so the accessibility check must run, but {missing}");
        static SAID: Once = Once::new();
        SAID.call_once(|| {
            // Straight to the terminal: the test harness would swallow a print!.
            let _ = writeln!(std::io::stderr(), "\n{missing}; the accessibility check is skipped\n");
        });
        return None;
    };
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("HOTLINE_TEST_AXE={}: cannot read axe-core: {e}", path.to_string_lossy()));
    Some(text)
}

/// Runs axe-core on the page the browser shows (`what` names it in a failure) for WCAG 2 A and
/// AA, and fails listing every serious or critical violation: its rule, what it asks, where.
async fn accessible(browser: &Browser, axe: Option<&str>, what: &str) {
    let Some(axe) = axe else { return };
    browser.client.execute(axe, vec![]).await.unwrap_or_else(|e| panic!("{what}: axe-core not injected: {e}"));
    let script = r#"
        const done = arguments[arguments.length - 1];
        axe.run(document, {runOnly: ['wcag2a', 'wcag2aa']})
            .then(result => done({passed: result.passes.length, violations: result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            target: v.nodes.length ? v.nodes[0].target.join(' ') : '', nodes: v.nodes.length}))}))
            .catch(error => done({error: String(error)}));
    "#;
    let found = browser.client.execute_async(script, vec![]).await.unwrap_or_else(|e| panic!("{what}: axe.run: {e}"));
    // Guards the check itself: a run that tested nothing would pass everything.
    assert!(found["passed"].as_u64().is_some_and(|n| n >= 10), "{what}: axe.run checked nothing: {found}");
    let Value::Array(violations) = &found["violations"] else { panic!("{what}: axe.run failed: {found}") };
    let listed: Vec<String> = violations
        .iter()
        .map(|v| {
            let text = |key: &str| v[key].as_str().unwrap_or_default().to_string();
            format!(
                "{} ({}): {} — first at `{}`, {} element(s)",
                text("id"),
                text("impact"),
                text("help"),
                text("target"),
                v["nodes"]
            )
        })
        .collect();
    assert!(listed.is_empty(), "{what}: axe-core finds serious accessibility problems:\n{}", listed.join("\n"));
}

/// Nothing on the page is wider than the window.
async fn fits(browser: &Browser, width: u32, what: &str) {
    let overflow = browser
        .client
        .execute("return document.documentElement.scrollWidth > window.innerWidth", vec![])
        .await
        .unwrap();
    assert_eq!(overflow, json!(false), "{what} scrolls sideways at {width}px");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_uses_the_reception_on_a_phone() {
    walk_through(360, 640, "phone").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_uses_the_reception_on_a_desktop() {
    walk_through(1366, 768, "desktop").await;
}

async fn walk_through(width: u32, height: u32, size: &str) {
    let Some(turn) = browser_turn().await else { return };
    let axe = axe_source();
    let axe = axe.as_deref();
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let supervisor = app.login_as(Role::Supervisor).await;
    let day = jiff::Zoned::now().date().tomorrow().and_then(|d| d.tomorrow()).unwrap();
    let (status, body) = app
        .post(
            "/api/planned-outages",
            &supervisor,
            json!({"postcode": "152610", "starts_at": format!("{day}T09:00:00"), "ends_at": format!("{day}T17:00:00"),
                   "streets": "ул. Ленина, ул. Победы", "reason": "замена опор"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let admin = app.login_as(Role::Admin).await;
    let csv = "number,applicant,status,updated_at\n\
               20261234,Иванов И. И.,технические условия направлены в личный кабинет,2026-11-20T10:00\n";
    let (status, body) = app.post_csv("/api/connection-applications/import", &admin, csv).await;
    assert_eq!(status, 200, "{body}");

    let browser = Browser::start(&turn).await;
    browser.client.set_window_size(width, height).await.unwrap();
    // axe-core takes a few seconds on a long page of a loaded machine.
    let mut timeouts = browser.client.get_timeouts().await.unwrap();
    timeouts.set_script(Some(Duration::from_secs(120)));
    browser.client.update_timeouts(timeouts).await.unwrap();
    browser.client.goto(&app.url("/reception/")).await.unwrap();
    browser.wait_for("h1").await;
    screenshot(&browser, &format!("{size}-home")).await;
    accessible(&browser, axe, "the front page").await;

    // Outages by name, with the street list of works of the day after tomorrow.
    browser.type_into("#q", "Углич").await;
    browser.click("form[role=search] button").await;
    browser.wait_for_text("#outages", "Найдено населённых пунктов: 1").await;
    let outages = browser.wait_for_text("#outages", "ул. Ленина, ул. Победы").await;
    assert!(outages.contains("09:00") && outages.contains("17:00"), "{outages}");
    screenshot(&browser, &format!("{size}-outages")).await;
    accessible(&browser, axe, "the outages found").await;

    // A form sent empty explains itself in Russian next to its fields.
    browser.client.goto(&app.url("/reception/report")).await.unwrap();
    browser.click("form button[type=submit]").await;
    browser.wait_for_text("#kind-error", "Выберите, о чём вы сообщаете").await;
    browser.wait_for_text("#text-error", "Опишите, что случилось").await;
    screenshot(&browser, &format!("{size}-errors")).await;
    accessible(&browser, axe, "the report form with errors").await;

    // Each kind, answered with its number; the question leaves a phone to look the status up by.
    let mut question_number = String::new();
    for (kind, text, phone) in [
        ("hazard", "Оборван провод у остановки", ""),
        ("no_power", "Нет света во всём доме", ""),
        ("theft", "Подключение в обход счётчика в доме 7", ""),
        ("appeal", "Прошу обрезать деревья у линии", ""),
        ("question", "Когда закончатся работы на улице Ленина?", "+7 910 555-12-34"),
    ] {
        browser.client.goto(&app.url("/reception/report")).await.unwrap();
        browser.click(&format!("#kind-{kind}")).await;
        browser.type_into("#text", text).await;
        browser.type_into("#place", "Углич").await;
        if !phone.is_empty() {
            browser.type_into("#phone", phone).await;
        }
        browser.click("form button[type=submit]").await;
        let number = browser.wait_for_text("#ticket-number", "").await;
        assert!(!number.is_empty() && number.chars().all(|c| c.is_ascii_digit()), "{kind}: {number}");
        if kind == "hazard" {
            browser.wait_for_text("main", "передано дежурному диспетчеру").await;
            screenshot(&browser, &format!("{size}-hazard-accepted")).await;
            accessible(&browser, axe, "the hazard's number").await;
        }
        question_number = number;
    }

    // The status by number and the last four digits.
    browser.client.goto(&app.url("/reception/status")).await.unwrap();
    browser.type_into("#number", &question_number).await;
    browser.type_into("#phone_last4", "1234").await;
    browser.click("form button[type=submit]").await;
    browser.wait_for_text("#status-text", "ожидает рассмотрения").await;
    screenshot(&browser, &format!("{size}-status")).await;
    accessible(&browser, axe, "the appeal's status").await;
    fits(&browser, width, "the appeal's status").await;

    // Technological connection: the application's status by its number, then a sample to print.
    browser.client.goto(&app.url("/reception/connection")).await.unwrap();
    browser.wait_for_text("h1", "Технологическое присоединение").await;
    screenshot(&browser, &format!("{size}-connection")).await;
    accessible(&browser, axe, "the connection page").await;
    browser.type_into("#application-number", "20261234").await;
    browser.click(r#"form[action="/reception/connection/status"] button"#).await;
    browser.wait_for_text("#application-status-text", "технические условия направлены в личный кабинет").await;
    browser.wait_for_text("#application-updated", "20 ноября 2026 г.").await;
    // On a phone the answer is below the first screen: the screenshot is of the answer.
    browser.client.execute("document.querySelector('.result').scrollIntoView()", vec![]).await.unwrap();
    screenshot(&browser, &format!("{size}-application-status")).await;
    accessible(&browser, axe, "the application's status").await;
    fits(&browser, width, "the application's status").await;

    browser.click(r#"a[href="/reception/connection/samples/zayavka-do-15-kvt"]"#).await;
    browser.wait_for_text(".sample h1", "до 15 кВт").await;
    browser.wait_for_text(".sample", "Кадастровый номер земельного участка").await;
    screenshot(&browser, &format!("{size}-sample")).await;
    accessible(&browser, axe, "the sample application").await;
    fits(&browser, width, "the sample application").await;
    browser.close().await;
    app.stop().await;
}
