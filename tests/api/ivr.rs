//! The IVR scripts: the checker over the shipped menus and over broken ones, silence at every
//! question, a custom script loaded from a folder and walked, and the answers a call keeps.

use std::collections::BTreeMap;

use hotline::auth::Role;
use hotline::ivr::engine::{self, CallState, Effects, Input, StepUrls};
use hotline::ivr::flow::NodeKind;
use hotline::ivr::{self, validate};
use hotline::telephony::{Action, Dialect};
use hotline::tools::simulator::{Caller, Waiting};

use serde_json::json;

use crate::helpers::{TestApp, TestDb};

fn scripts_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-scripts")
}

#[test]
fn every_shipped_script_passes_the_checker_and_is_built_in() {
    let flow = ivr::load_dir(&scripts_dir()).unwrap_or_else(|p| panic!("{p}"));
    assert!(flow.nodes.len() > 20);
    let mut on_disk: Vec<(String, String)> = std::fs::read_dir(scripts_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    on_disk.sort();
    let mut built_in: Vec<(String, String)> =
        ivr::BUILT_IN.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    built_in.sort();
    assert_eq!(on_disk, built_in, "ivr::BUILT_IN must list every file of ivr-scripts/");
}

const MAIN: &str = r#"
[flow]
start = "menu"
[nodes.menu]
say = "Нажмите 1."
gather = { digits = 1 }
on = { "1" = "bye" }
no_input = { retries = 1, then = "bye" }
invalid = { retries = 1, then = "bye" }
[nodes.bye]
say = "До свидания."
hangup = true
"#;

fn problems_of(files: &[(&str, &str)]) -> Vec<String> {
    let sources: Vec<(String, String)> = files.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect();
    match validate::check(&sources) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn broken_scripts_are_reported_as_file_node_reason() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "unknown target",
            r#"[nodes.x]
say = "Привет."
next = "nowhere""#,
            "extra.toml:x:goes to 'nowhere', which does not exist",
        ),
        ("unreachable node", "[nodes.x]\nsay = \"Привет.\"\nhangup = true", "extra.toml:x:unreachable from the start"),
        ("duplicate keys", "[nodes.x]\nsay = \"a\"\nsay = \"b\"\nhangup = true", "extra.toml:x:duplicate key"),
        (
            "gather without no-input path",
            r#"[nodes.x]
say = "Нажмите 1."
gather = { digits = 1 }
on = { "1" = "main.bye" }
invalid = { retries = 1, then = "main.bye" }"#,
            "extra.toml:x:a gather needs a no-input path",
        ),
        ("empty prompt", "[nodes.x]\nsay = \"  \"\nhangup = true", "extra.toml:x:an empty prompt"),
        (
            "unknown action",
            "[nodes.x]\ndo = \"launch_rocket\"\nnext = \"main.bye\"",
            "extra.toml:x:unknown action 'launch_rocket'",
        ),
        (
            "unknown variable",
            "[nodes.x]\nsay = \"Номер {ticket_nunber}.\"\nhangup = true",
            "extra.toml:x:unknown variable '{ticket_nunber}'",
        ),
        (
            "loop with no way out",
            r#"[nodes.x]
say = "Нажмите 1."
gather = { digits = 1 }
on = { "1" = "y" }
no_input = { retries = 1, then = "y" }
invalid = { retries = 1, then = "y" }
[nodes.y]
say = "Ещё раз."
next = "x""#,
            "extra.toml:x:a loop with no way out",
        ),
        (
            "loop with no input",
            "[nodes.x]\nsay = \"a\"\nnext = \"y\"\n[nodes.y]\nsay = \"b\"\nnext = \"x\"",
            "extra.toml:x:a loop with no input",
        ),
        (
            "unrouted action outcome",
            "[nodes.x]\ndo = \"lookup_settlement\"\noutcomes = { found = \"main.bye\", unknown = \"main.bye\" }",
            "extra.toml:x:lookup_settlement: outcome 'several' is not routed",
        ),
        (
            "bad action parameter",
            "[nodes.x]\ndo = \"create_ticket\"\nwith = { category = \"ufo\" }\nnext = \"main.bye\"",
            "extra.toml:x:create_ticket: category: 'ufo' is not one of",
        ),
        (
            "a promised call with nothing to say",
            "[nodes.x]\ndo = \"subscribe_power_back\"\noutcomes = { subscribed = \"main.bye\", already = \"main.bye\", over = \"main.bye\" }",
            "extra.toml:x:callers are offered a call when the power returns, but there is no outbound script power_back.toml",
        ),
    ];
    for (what, extra, expected) in cases {
        // Each broken node is made reachable from the menu unless the case is about reachability.
        let main = if *what == "unreachable node" {
            MAIN.to_string()
        } else {
            MAIN.replace("\"1\" = \"bye\"", "\"1\" = \"extra.x\"")
        };
        let problems = problems_of(&[("main.toml", &main), ("extra.toml", extra)]);
        assert!(problems.iter().any(|p| p.starts_with(expected)), "{what}: expected '{expected}' in {problems:#?}");
    }
    assert_eq!(problems_of(&[("main.toml", MAIN)]), Vec::<String>::new(), "the base script is valid");
    assert!(problems_of(&[("other.toml", MAIN)]).iter().any(|p| p.contains("main.toml is missing")));
}

#[tokio::test]
async fn hotline_check_exits_non_zero_and_lists_problems() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.toml"),
        MAIN.replace("then = \"bye\" }\ninvalid", "then = \"gone\" }\ninvalid"),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["check", dir.path().to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("main.toml:menu:goes to 'gone', which does not exist"), "{stdout}");
    let ok = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["check", scripts_dir().to_str().unwrap()])
        .output()
        .await
        .unwrap();
    // Valid; whether they keep their time budgets is tests/api/budget.rs's to judge.
    assert!(String::from_utf8_lossy(&ok.stdout).contains("no problems"), "{}", String::from_utf8_lossy(&ok.stdout));

    // Without a folder it checks the one `serve` would read, named in hotline.toml too.
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("hotline.toml"), format!("HOTLINE_SCRIPTS_DIR = {:?}\n", dir.path())).unwrap();
    let out = crate::helpers::hotline_command(work.path()).arg("check").output().await.unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("main.toml:menu:goes to 'gone'"));
}

/// Effects that always find one settlement and number tickets from 100001.
struct Fake(u32);

impl Effects for Fake {
    async fn perform(
        &mut self,
        action: &str,
        _: &toml::Table,
        vars: &mut BTreeMap<String, String>,
        _: &mut Option<hotline::tickets::TicketNumber>,
    ) -> anyhow::Result<String> {
        Ok(match action {
            "lookup_settlement" | "choose_settlement" => {
                vars.insert("settlement".into(), "Углич".into());
                "found".into()
            }
            "estimate_wait" => {
                vars.insert("wait_range".into(), "от двух до пяти минут".into());
                "long".into()
            }
            "create_ticket" => {
                self.0 += 1;
                vars.insert("ticket_number".into(), format!("{}", 100_000 + self.0));
                "next".into()
            }
            other => hotline::ivr::actions::find(other).expect("a known action").outcomes[0].into(),
        })
    }
    async fn settlement_names(&mut self) -> anyhow::Result<Vec<String>> {
        Ok(vec!["Углич".into()])
    }
}

#[tokio::test]
async fn silence_at_every_question_of_the_default_menus_leads_somewhere() {
    let flow = ivr::load_dir(&scripts_dir()).unwrap();
    let urls = StepUrls { action: "http://x/a".into(), no_input: "http://x/n".into(), wait: "http://x/w".into() };
    let mut questions: Vec<&String> = flow
        .nodes
        .iter()
        .filter(|(_, n)| matches!(n.kind, NodeKind::Menu { .. } | NodeKind::Capture { .. }))
        .map(|(id, _)| id)
        .collect();
    questions.sort();
    assert!(questions.len() >= 7, "{questions:?}");
    for id in questions {
        let mut state = CallState { node: id.clone(), ..Default::default() };
        let mut left = false;
        for _ in 0..8 {
            let step = engine::step(&flow, state.clone(), Input::Silence, &urls, &mut Fake(0)).await.unwrap();
            assert!(!step.actions.is_empty(), "{id}: silence got no answer");
            let asks_again = step.state.node == *id;
            if !asks_again {
                left = true;
                break;
            }
            match &step.actions[0] {
                Action::Gather(g) => assert!(!g.prompts.is_empty(), "{id}: asked again without words"),
                other => panic!("{id}: asked again without a gather: {other:?}"),
            }
            state = step.state;
        }
        assert!(left, "{id}: silence keeps the caller at the same question forever");
    }
}

#[tokio::test]
async fn a_custom_script_from_a_folder_is_what_callers_hear() {
    let scripts = tempfile::tempdir().unwrap();
    std::fs::write(
        scripts.path().join("main.toml"),
        r#"
[flow]
start = "hello"
[nodes.hello]
say = "Тестовая линия. Нажмите 7, чтобы оставить заявку."
gather = { digits = 1, timeout = 3 }
on = { "7" = "ticket" }
no_input = { retries = 0, then = "bye" }
invalid = { say = "Нет такой клавиши.", retries = 1, then = "bye" }
[nodes.ticket]
do = "create_ticket"
with = { category = "question", description = "Вопрос с тестовой линии" }
next = "done"
[nodes.done]
say = "Заявка {ticket_number} принята."
hangup = true
[nodes.bye]
say = "Пока."
hangup = true
"#,
    )
    .unwrap();
    let dir = scripts.path().to_str().unwrap().to_string();
    let app = TestApp::spawn_with(TestDb::sqlite().await, &[("HOTLINE_SCRIPTS_DIR", &dir)]).await;
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    assert_eq!(caller.dial().await.unwrap().text(), "Тестовая линия. Нажмите 7, чтобы оставить заявку.");
    assert_eq!(
        caller.press("3").await.unwrap().text(),
        "Нет такой клавиши. Тестовая линия. Нажмите 7, чтобы оставить заявку."
    );
    let done = caller.press("7").await.unwrap();
    assert_eq!(done.text(), "Заявка 1 0 0 0 0 1 принята.");
    assert_eq!(done.waiting, Waiting::Ended);
    let (_, ticket) = app.get("/api/tickets/100001", &app.login_as(hotline::auth::Role::Operator).await).await;
    assert_eq!(ticket["description"], "Вопрос с тестовой линии");
    assert_eq!(ticket["channel"], "phone");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_shows_the_answers_its_caller_gave_in_the_ivr() {
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    app.operator_on_shift(None).await;
    let mut caller = Caller::new(&app.base, Dialect::Twilio, "+79101234567");
    caller.dial().await.unwrap();
    for key in ["1", "152610", "1"] {
        caller.press(key).await.unwrap();
    }
    assert!(matches!(caller.waiting, Waiting::Queue { .. }), "a hazard caller waits for an operator");
    let operator = app.login_as(Role::Operator).await;
    let call = app.store.call_by_provider_id("twilio", &caller.call_id).await.unwrap().unwrap();
    let (status, shown) = app.get(&format!("/api/calls/{}", call.id), &operator).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["caller_number"], "+79101234567");
    assert_eq!(shown["status"], "queued");
    assert_eq!(
        shown["answers"],
        json!([
            {"node": "main.menu", "input": "1"},
            {"node": "location.ask", "input": "152610"},
            {"node": "hazard.kind", "input": "1"},
        ])
    );
    let (status, _) = app.get("/api/calls/no-such-call", &operator).await;
    assert_eq!(status, 404);
    let response = app.http.get(app.url(&format!("/api/calls/{}", call.id))).send().await.unwrap();
    assert_eq!(response.status(), 401);
    app.stop().await;
}
