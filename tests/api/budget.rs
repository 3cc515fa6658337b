//! `hotline check` times the key moments of the menus (SPEC §4a): the table for the shipped
//! scripts, and a non-zero exit with `file:node:reason` when a budget is exceeded.

use std::path::Path;

async fn check(dir: &Path) -> (Option<i32>, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_hotline"))
        .args(["check", dir.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A `file.toml:node:reason` line.
fn is_failure(line: &str) -> bool {
    line.split_once(".toml:").is_some_and(|(file, rest)| !file.contains(' ') && rest.contains(':'))
}

#[tokio::test]
async fn hotline_check_prints_the_time_table_for_the_shipped_scripts() {
    let (code, stdout) = check(&Path::new(env!("CARGO_MANIFEST_DIR")).join("ivr-scripts")).await;
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].ends_with("no problems"), "{stdout}");
    assert!(lines[1].starts_with("seconds from the answer"), "{stdout}");
    let header: Vec<&str> = lines[2].split_whitespace().collect();
    assert_eq!(header, ["main-menu", "branch", "key", "moment", "direct", "slowest", "budget"], "{stdout}");
    let table: Vec<&str> = lines[1..].iter().copied().take_while(|l| !is_failure(l)).collect();
    assert!(table.iter().all(|l| l.chars().count() <= 100), "wider than 100 columns:\n{stdout}");
    let row = |key: &str| table.iter().find(|l| l.starts_with(&format!("{key} "))).copied().unwrap_or_default();
    assert!(row("1").contains("hazard escalation started"), "{stdout}");
    assert!(row("2").contains("no-power status"), "{stdout}");
    assert!(row("3").contains("first planned-outage time"), "{stdout}");
    for key in ["4", "5"] {
        assert!(!row(key).is_empty(), "no row for branch {key}:\n{stdout}");
    }
    // A figure row: moment, direct, slowest, budget and the paths it holds for.
    let hazard: Vec<&str> = row("1").split_whitespace().collect();
    assert_eq!(hazard[hazard.len() - 2..], ["45", "all"], "{stdout}");
    let slowest: f64 = hazard[hazard.len() - 3].parse().unwrap();
    assert!(slowest <= 45.0, "every path escalates a hazard within 45 s:\n{stdout}");
    // The shipped menus are within their budgets, storm mode included.
    assert_eq!(code, Some(0), "{stdout}");
    assert!(!lines.iter().any(|l| is_failure(l)), "{stdout}");
}

#[tokio::test]
async fn a_budget_overrun_fails_the_check_as_file_node_reason() {
    let dir = tempfile::tempdir().unwrap();
    let long = "а".repeat(14 * 50); // 50 s of speech
    let main = format!(
        r#"
[flow]
start = "menu"
[nodes.menu]
say = "{long}"
gather = {{ digits = 1 }}
on = {{ "1" = "hazard" }}
no_input = {{ retries = 1, then = "hazard" }}
invalid = {{ retries = 1, then = "hazard" }}
[nodes.hazard]
do = "create_ticket"
with = {{ category = "hazard" }}
next = "bye"
[nodes.bye]
say = "До свидания."
hangup = true
"#
    );
    std::fs::write(dir.path().join("main.toml"), main).unwrap();
    let (code, stdout) = check(dir.path()).await;
    assert_eq!(code, Some(1), "{stdout}");
    assert!(stdout.contains("1 hazard            hazard escalation started"), "{stdout}");
    assert!(stdout.contains("slowest path, 1 hazard to hazard escalation started (51.0 s):"), "{stdout}");
    assert!(
        stdout.contains("\nmain.toml:hazard:hazard escalation started 51.0 s > budget 45 s (1 hazard)"),
        "{stdout}"
    );
}
