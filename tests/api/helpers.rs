//! Test harness: a fresh database per test on either backend, the app started through the same
//! `run` as production, and the real binary for process-level tests.

use std::collections::HashMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use hotline::auth::{self, Role};
use hotline::clock::Clock;
use hotline::config::Settings;
use hotline::store::Store;
use serde_json::Value;
use sqlx::{Connection, Executor};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

pub const POSTGRES_VAR: &str = "HOTLINE_TEST_POSTGRES_URL";

/// Generates one test per backend from `async fn name(db: TestDb)`: `on_sqlite::name` always
/// runs, `on_postgres::name` when HOTLINE_TEST_POSTGRES_URL is set.
#[macro_export]
macro_rules! on_both_backends {
    ($($test:ident),+ $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test($crate::helpers::TestDb::sqlite().await).await
                }
            )+
        }
        mod on_postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    let Some(db) = $crate::helpers::TestDb::postgres().await else { return };
                    super::$test(db).await
                }
            )+
        }
    };
}

/// A database that exists for one test: a SQLite file in a temporary folder, or a PostgreSQL
/// database created on the test server and dropped afterwards.
pub struct TestDb {
    pub url: String,
    /// Keeps the SQLite folder alive; also a scratch folder for the test.
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("hotline.db").display());
        Self { url, dir, postgres: None }
    }

    /// `None`, after saying so once, when no PostgreSQL server is configured for tests.
    pub async fn postgres() -> Option<Self> {
        let Ok(server) = std::env::var(POSTGRES_VAR) else {
            static SAID: Once = Once::new();
            SAID.call_once(|| {
                // Straight to the terminal: the test harness would swallow a print!.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n{POSTGRES_VAR} is not set: the PostgreSQL half of the suite is skipped\n"
                );
            });
            return None;
        };
        sqlx::any::install_default_drivers();
        let name = format!("hotline_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::AnyConnection::connect(&server).await.expect("connect to the test PostgreSQL");
        admin.execute(format!("CREATE DATABASE {name}").as_str()).await.unwrap();
        admin.close().await.unwrap();
        let url = with_database(&server, &name);
        Some(Self { url, dir: tempfile::tempdir().unwrap(), postgres: Some((server, name)) })
    }

    pub async fn store(&self) -> Store {
        Store::open(&self.url).await.unwrap()
    }

    /// Takes the database away from the app until the returned guard is given to `restore`:
    /// PostgreSQL refuses new connections and drops the app's sessions; SQLite, whose file
    /// cannot be taken from a process that has it open, is locked for writing by another
    /// connection (as a stuck backup or a hand-run `sqlite3` would).
    pub async fn take_away(&self) -> Outage {
        sqlx::any::install_default_drivers();
        match &self.postgres {
            Some((server, name)) => {
                let mut admin = sqlx::AnyConnection::connect(server).await.unwrap();
                admin.execute(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false").as_str()).await.unwrap();
                let terminate = format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                );
                admin.execute(terminate.as_str()).await.unwrap();
                Outage::Postgres(admin, name.clone())
            }
            None => {
                let mut lock = sqlx::AnyConnection::connect(&self.url).await.unwrap();
                lock.execute("BEGIN EXCLUSIVE").await.unwrap();
                Outage::Sqlite(lock)
            }
        }
    }
}

/// A database taken away by [`TestDb::take_away`].
pub enum Outage {
    Postgres(sqlx::AnyConnection, String),
    Sqlite(sqlx::AnyConnection),
}

impl Outage {
    pub async fn restore(self) {
        match self {
            Outage::Postgres(mut admin, name) => {
                admin.execute(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true").as_str()).await.unwrap();
                admin.close().await.unwrap();
            }
            Outage::Sqlite(mut lock) => {
                lock.execute("ROLLBACK").await.unwrap();
                lock.close().await.unwrap();
            }
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Outage::Postgres(..))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime on its own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(mut admin) = sqlx::AnyConnection::connect(&server).await {
                    let _ = admin.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
                }
            });
        })
        .join();
    }
}

/// The server URL with its database name replaced.
fn with_database(server: &str, name: &str) -> String {
    let (base, query) = server.split_once('?').map_or((server, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        url = format!("{url}?{q}");
    }
    url
}

pub fn settings_for(db_url: &str, listen: SocketAddr, extra: &[(&'static str, &str)]) -> Settings {
    let mut values: HashMap<&'static str, String> = [
        ("HOTLINE_DATABASE_URL", db_url.to_string()),
        ("HOTLINE_LISTEN", listen.to_string()),
        ("HOTLINE_PUBLIC_URL", format!("http://{listen}")),
        // Tests bring their own data; demo outages would change what callers hear.
        ("HOTLINE_DEMO", "off".to_string()),
    ]
    .into_iter()
    .collect();
    values.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    Settings::from_values(&values).unwrap()
}

/// The app serving on a free loopback port, started by `hotline::app::run` like `serve` does.
pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Store,
    pub db: TestDb,
    stop: Option<oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    pub async fn spawn(db: TestDb) -> Self {
        Self::spawn_with(db, &[]).await
    }

    /// The app with some settings of the test's own (`HOTLINE_*` names).
    pub async fn spawn_with(db: TestDb, extra: &[(&'static str, &str)]) -> Self {
        Self::spawn_adjusted(db, extra, |_| {}).await
    }

    /// The app with settings of the test's own, and `adjust` changing what no variable sets (the
    /// period of a background loop).
    pub async fn spawn_adjusted(
        db: TestDb,
        extra: &[(&'static str, &str)],
        adjust: impl FnOnce(&mut Settings),
    ) -> Self {
        // The test's own handle migrates first, so the app and the test never race to migrate.
        let store = db.store().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        // Mail written as files stays in the test's folder unless the test says otherwise.
        let mail_dir = db.dir.path().join("mail-outbox").display().to_string();
        let mut settings_extra = vec![("HOTLINE_MAIL_DIR", mail_dir.as_str())];
        settings_extra.extend_from_slice(extra);
        let mut settings = settings_for(&db.url, addr, &settings_extra);
        adjust(&mut settings);
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(hotline::app::run(settings, listener, async {
            let _ = stopped.await;
        }));
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        Self { base: format!("http://{addr}"), http, store, db, stop: Some(stop), server: Some(server) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Creates a user with `role` and returns a bearer token for it.
    pub async fn login_as(&self, role: Role) -> String {
        let name = format!("{role}-{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
        auth::add_user(&self.store, &name, "password123", role, Clock::system().now()).await.unwrap();
        let response = self
            .http
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"username": name, "password": "password123"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["user"]["role"], role.as_str());
        body["token"].as_str().unwrap().to_string()
    }

    /// A new operator, available with their console alive (and `contact` to be put through to);
    /// returns their token.
    pub async fn operator_on_shift(&self, contact: Option<&str>) -> String {
        let token = self.login_as(Role::Operator).await;
        let mut body = serde_json::json!({"status": "available"});
        if let Some(c) = contact {
            body["contact"] = serde_json::json!(c);
        }
        let response =
            self.http.put(self.url("/api/operators/me")).bearer_auth(&token).json(&body).send().await.unwrap();
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, 200, "{body}");
        token
    }

    /// Runs one SQL statement on the app's database: for a test that must turn back the time
    /// something happened (a caller who has waited two minutes), which the app's clock cannot.
    pub async fn execute(&self, statement: &str) {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&self.db.url).await.unwrap();
        conn.execute(statement).await.unwrap();
        conn.close().await.unwrap();
    }

    /// A CSV import, as an administrator's or supervisor's upload.
    pub async fn post_csv(&self, path: &str, token: &str, csv: &str) -> (u16, Value) {
        let request = self.http.post(self.url(path)).bearer_auth(token).header("content-type", "text/csv");
        status_and_json(request.body(csv.to_string()).send().await.unwrap()).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let response = self.http.post(self.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        status_and_json(response).await
    }

    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        let response = self.http.patch(self.url(path)).bearer_auth(token).json(&body).send().await.unwrap();
        status_and_json(response).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        let response = self.http.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        status_and_json(response).await
    }

    /// Stops the server the way SIGTERM would and waits for it to finish.
    pub async fn stop(mut self) {
        self.stop_server().await;
    }

    async fn stop_server(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.unwrap().unwrap();
        }
    }

    /// Stops the server and closes the test's own handle, and hands the database back (for a
    /// command to run on it alone).
    pub async fn stop_keeping_db(mut self) -> TestDb {
        self.stop_server().await;
        self.store.close().await;
        self.db
    }
}

pub async fn status_and_json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let json = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    (status, json)
}

/// The real `hotline` binary, run in a folder of the test's.
pub struct Process {
    pub child: Child,
    pub addr: SocketAddr,
    /// Drains the server's log so a chatty server never blocks on a full pipe.
    log: tokio::task::JoinHandle<String>,
}

pub fn hotline_command(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hotline"));
    command.current_dir(dir).kill_on_drop(true).env("RUST_LOG", "info").env("NO_COLOR", "1");
    for (name, _) in std::env::vars() {
        if name.starts_with("HOTLINE_") {
            command.env_remove(name);
        }
    }
    command
}

/// A port nobody listens on right now.
pub fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

impl Process {
    /// Starts `hotline serve` and returns once it says it is serving.
    pub async fn serve(dir: &Path, env: &[(&str, &str)]) -> Self {
        let addr = free_port();
        let mut command = hotline_command(dir);
        command.arg("serve").env("HOTLINE_LISTEN", addr.to_string()).stderr(Stdio::piped()).stdout(Stdio::null());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = Vec::new();
        let serving = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = stderr.next_line().await.unwrap() {
                let is_serving = line.contains("hotline is serving");
                seen.push(line);
                if is_serving {
                    return true;
                }
            }
            false
        })
        .await;
        assert!(matches!(serving, Ok(true)), "the server did not start:\n{}", seen.join("\n"));
        let log = tokio::spawn(async move {
            let mut rest = String::new();
            while let Ok(Some(line)) = stderr.next_line().await {
                rest.push_str(&line);
                rest.push('\n');
            }
            rest
        });
        Self { child, addr, log }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Logs in and returns the bearer token.
    pub async fn login(&self, user: &str, password: &str) -> String {
        let response = reqwest::Client::new()
            .post(self.url("/api/auth/login"))
            .json(&serde_json::json!({"username": user, "password": password}))
            .send()
            .await
            .unwrap();
        let (status, body) = status_and_json(response).await;
        assert_eq!(status, 200, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// The rest of what the process wrote to stderr, once it has exited.
    pub async fn remaining_stderr(self) -> String {
        self.log.await.unwrap_or_default()
    }
}

pub fn scratch_file(dir: &Path, name: &str, contents: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

/// Polls `check` until it gives a value, failing the test with `what` after `within`.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(tokio::time::Instant::now() < deadline, "gave up waiting after {within:?} for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One message as the SMTP server received it, decoded.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// A real SMTP server on loopback, run inside the test process: plain SMTP over TCP (EHLO/HELO,
/// MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT), which is all lettre's client speaks
/// to it. It keeps each message as received; dropping it closes the port and every open session,
/// so the server is down again.
pub struct SmtpSink {
    pub port: u16,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl SmtpSink {
    pub async fn start() -> Self {
        Self::start_on(free_port().port()).await
    }

    /// Listens on `port`, which the app may already be trying to reach; accepts from the moment
    /// this returns.
    pub async fn start_on(port: u16) -> Self {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("the test SMTP server cannot listen on port {port}: {e}"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let store = received.clone();
        let server = tokio::spawn(async move {
            // Owned here, so aborting the server ends its sessions too.
            let mut sessions = tokio::task::JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        sessions.spawn(smtp_session(stream, store.clone()));
                    }
                    Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
                }
            }
        });
        Self { port, received, server }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Everything received so far, in the order it arrived.
    pub fn messages(&self) -> Vec<Mail> {
        let received = self.received.lock().unwrap().clone();
        received
            .iter()
            .map(|raw| {
                let parsed = mailparse::parse_mail(raw).unwrap();
                let header = |name: &str| {
                    parsed
                        .headers
                        .iter()
                        .find(|h| h.get_key_ref().eq_ignore_ascii_case(name))
                        .map(|h| h.get_value())
                        .unwrap_or_default()
                };
                Mail { to: header("To"), subject: header("Subject"), body: parsed.get_body().unwrap() }
            })
            .collect()
    }

    /// Messages to `address`.
    pub fn to(&self, address: &str) -> Vec<Mail> {
        self.messages().into_iter().filter(|m| m.to.contains(address)).collect()
    }

    /// Waits until `address` has had at least `count` messages, and returns them.
    pub async fn wait_for(&self, address: &str, count: usize) -> Vec<Mail> {
        eventually(&format!("{count} message(s) to {address}"), Duration::from_secs(30), || async {
            let mails = self.to(address);
            (mails.len() >= count).then_some(mails)
        })
        .await
    }
}

/// One SMTP session (RFC 5321, no extensions beyond announcing 8BITMIME and SMTPUTF8, which lettre
/// may use in MAIL FROM). Each message accepted by DATA is stored as its bytes, dot-unstuffed.
async fn smtp_session(stream: tokio::net::TcpStream, store: Arc<Mutex<Vec<Vec<u8>>>>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    write.write_all(b"220 hotline-test ESMTP ready\r\n").await?;
    let (mut greeted, mut sender, mut recipients) = (false, false, 0usize);
    let mut line = Vec::new();
    loop {
        line.clear();
        if read.read_until(b'\n', &mut line).await? == 0 {
            return Ok(());
        }
        let command = String::from_utf8_lossy(&line);
        let command = command.trim_end_matches(['\r', '\n']);
        let (verb, argument) = command.split_once(' ').unwrap_or((command, ""));
        let argument = argument.trim();
        let reply: &[u8] = match verb.to_ascii_uppercase().as_str() {
            "EHLO" | "HELO" if argument.is_empty() => b"501 5.5.4 a domain or address is required\r\n",
            "EHLO" => {
                (greeted, sender, recipients) = (true, false, 0);
                b"250-hotline-test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n"
            }
            "HELO" => {
                (greeted, sender, recipients) = (true, false, 0);
                b"250 hotline-test\r\n"
            }
            "MAIL" if !greeted => b"503 5.5.1 EHLO or HELO first\r\n",
            "MAIL" if sender => b"503 5.5.1 a message is already under way\r\n",
            "MAIL" if !argument.to_ascii_uppercase().starts_with("FROM:") => b"501 5.5.4 MAIL FROM:<address>\r\n",
            "MAIL" => {
                (sender, recipients) = (true, 0);
                b"250 2.1.0 OK\r\n"
            }
            "RCPT" if !sender => b"503 5.5.1 MAIL first\r\n",
            "RCPT" if !argument.to_ascii_uppercase().starts_with("TO:") => b"501 5.5.4 RCPT TO:<address>\r\n",
            "RCPT" => {
                recipients += 1;
                b"250 2.1.5 OK\r\n"
            }
            "DATA" if recipients == 0 => b"503 5.5.1 RCPT first\r\n",
            "DATA" => {
                write.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let mut message = Vec::new();
                loop {
                    line.clear();
                    if read.read_until(b'\n', &mut line).await? == 0 {
                        return Ok(()); // the client went away mid-message: nothing was accepted
                    }
                    if line == b".\r\n" || line == b".\n" {
                        break;
                    }
                    let unstuffed = if line.starts_with(b".") { &line[1..] } else { &line[..] };
                    message.extend_from_slice(unstuffed);
                }
                store.lock().unwrap().push(message);
                (sender, recipients) = (false, 0);
                b"250 2.0.0 OK: queued\r\n"
            }
            "RSET" => {
                (sender, recipients) = (false, 0);
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 2.0.0 bye\r\n").await?;
                return Ok(());
            }
            _ => b"500 5.5.2 command not recognized\r\n",
        };
        write.write_all(reply).await?;
    }
}
