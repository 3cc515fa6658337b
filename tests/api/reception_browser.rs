//! The internet reception in a real browser, as a resident uses it on a phone (360×640) and on
//! a desktop (1366×768): search outages, send each kind of report and read its number, look up
//! the status, and see a form's Russian errors. Screenshots go to
//! `target/reception-screenshots/`. Skipped like the console's browser tests without chromedriver.

use std::path::Path;

use hotline::auth::Role;
use serde_json::json;

use crate::console::{Browser, browser_turn};
use crate::helpers::{TestApp, TestDb};

async fn screenshot(browser: &Browser, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target").join("reception-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.png")), browser.client.screenshot().await.unwrap()).unwrap();
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

    let browser = Browser::start(&turn).await;
    browser.client.set_window_size(width, height).await.unwrap();
    browser.client.goto(&app.url("/reception/")).await.unwrap();
    browser.wait_for("h1").await;
    screenshot(&browser, &format!("{size}-home")).await;

    // Outages by name, with the street list of works of the day after tomorrow.
    browser.type_into("#q", "Углич").await;
    browser.click("form[role=search] button").await;
    browser.wait_for_text("#outages", "Найдено населённых пунктов: 1").await;
    let outages = browser.wait_for_text("#outages", "ул. Ленина, ул. Победы").await;
    assert!(outages.contains("09:00") && outages.contains("17:00"), "{outages}");
    screenshot(&browser, &format!("{size}-outages")).await;

    // A form sent empty explains itself in Russian next to its fields.
    browser.client.goto(&app.url("/reception/report")).await.unwrap();
    browser.click("form button[type=submit]").await;
    browser.wait_for_text("#kind-error", "Выберите, о чём вы сообщаете").await;
    browser.wait_for_text("#text-error", "Опишите, что случилось").await;
    screenshot(&browser, &format!("{size}-errors")).await;

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

    // Nothing on the page is wider than the window.
    let overflow = browser
        .client
        .execute("return document.documentElement.scrollWidth > window.innerWidth", vec![])
        .await
        .unwrap();
    assert_eq!(overflow, json!(false), "the page scrolls sideways at {width}px");
    browser.close().await;
    app.stop().await;
}
