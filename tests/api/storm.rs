//! `hotline storm` end to end: it starts its own server, walks its callers through the signed
//! webhooks and finds every ticket it was told about.

use std::process::Stdio;

use crate::helpers::hotline_command;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_storm_on_sqlite_has_no_errors_and_loses_no_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let mut command = hotline_command(dir.path());
    command
        .args(["storm", "--calls", "200", "--concurrency", "8"])
        .env("TMPDIR", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = command.output().await.unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{}\n{stdout}\n{stderr}", out.status);
    assert!(stdout.contains("result: 0 errors, 0 lost tickets"), "{stdout}");
    for figure in
        ["full speed: 200 calls", "half rate", "ceiling", "commit ceiling", "peak RSS", "start-up to ready", "p99"]
    {
        assert!(stdout.contains(figure), "{figure} missing from:\n{stdout}");
    }
    let told = stdout.lines().find(|l| l.contains("told to callers")).unwrap_or_default();
    assert!(told.contains(", 0 lost") && !told.contains(" 0 told"), "tickets were made and all found: {told}");
    assert!(
        std::fs::read_dir(dir.path()).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with("hotline-storm-")),
        "the storm cleans up its scratch folder"
    );
}
