//! `hotline storm`: a load generator that starts `hotline serve` as a child process, walks many concurrent simulated callers through its signed Twilio webhooks, and reports throughput, latency, database bytes per call, memory, start-up time and lost tickets beside a fixed-TwiML ceiling and a one-commit-per-webhook one.
//! With `--target URL` it drives a running deployment instead (`storm/target.rs`).

mod target;

pub use target::Target;

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;

use crate::store::Store;
use crate::telephony::{Action, Dialect, Gather, Prompt, Voice, twilio};
use crate::tickets::{TicketKey, TicketNumber};
use crate::tools::commit_ceiling;
use crate::tools::simulator::{Caller, Retries, SentWebhook, Waiting, parse_twiml};

/// What `hotline storm` is asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    /// Calls per phase.
    pub calls: usize,
    /// Calls in flight at once.
    pub concurrency: usize,
    /// Calls started per second; `None`: each caller starts the next call as soon as one ends.
    pub rate: Option<f64>,
    /// How many times the whole measurement is repeated (medians are printed for more than one).
    pub runs: usize,
    /// The server's database; `None`: a fresh SQLite file per run.
    pub database_url: Option<String>,
    /// Drive the same webhooks against a server that only answers one fixed TwiML document, then
    /// against one that first commits each webhook as one row.
    pub ceiling: bool,
    /// After the full-speed phase, run again at half its call rate to see latency below saturation.
    pub half_rate: bool,
    /// Drive this running deployment instead of a child server (one phase; no ceilings).
    pub target: Option<Target>,
}

/// Besides the run's own, the numbers of callers in flight the fixed-TwiML ceiling is tried at.
const CEILING_CONCURRENCIES: [usize; 2] = [16, 64];

/// The ceiling replays the webhooks of at most this many calls: enough for a steady figure,
/// few enough that keeping their bytes costs the load generator little memory.
const CEILING_SAMPLE_CALLS: usize = 20_000;
/// A call that has not ended after this many webhooks is going round in circles.
const MAX_WEBHOOKS_PER_CALL: usize = 20;
/// How many failures of each phase are printed in full.
const SHOWN_ERRORS: usize = 5;
/// What the simulated provider reports as a theft caller's recording.
const RECORDING_URL: &str = "https://recordings.example/storm.wav";

/// A reason people phone, per the default menus (SPEC §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Branch {
    NoPower,
    Planned,
    Operator,
    Connection,
    Hazard,
    Theft,
}

/// Percent of calls per branch: in a storm most callers have no power or check the schedule.
const MIX: [(Branch, usize); 6] = [
    (Branch::NoPower, 40),
    (Branch::Planned, 25),
    (Branch::Operator, 12),
    (Branch::Connection, 8),
    (Branch::Hazard, 10),
    (Branch::Theft, 5),
];

impl Branch {
    /// The branch of call `index`. 37 and 100 share no factor, so every hundred consecutive
    /// calls hold the mix exactly, interleaved rather than in blocks.
    fn of_call(index: usize) -> Self {
        let slot = index * 37 % 100;
        let mut upto = 0;
        MIX.iter()
            .find(|(_, share)| {
                upto += share;
                slot < upto
            })
            .map_or(Branch::NoPower, |(branch, _)| *branch)
    }

    /// What the caller answers at each question, in order (empty: silence); when the answers
    /// run out at a question, the caller hangs up.
    fn answers(self, index: usize, postcode: &str) -> VecDeque<String> {
        let answers: Vec<String> = match self {
            Branch::NoPower => vec!["2".into(), postcode.into(), "1".into()],
            // Hears the schedule, then says nothing and is wished goodbye.
            Branch::Planned => vec!["3".into(), postcode.into(), String::new()],
            // Asks for a call back when offered one; otherwise waits in the queue.
            Branch::Operator => vec!["0".into(), "1".into()],
            // Hears the deadlines and fees, then hangs up.
            Branch::Connection => vec!["4".into(), "2".into()],
            Branch::Hazard => vec!["1".into(), postcode.into(), (1 + index % 4).to_string()],
            // The recording is answered by the provider, not by a key.
            Branch::Theft => vec!["5".into(), postcode.into()],
        };
        answers.into()
    }

    /// Whether the caller must be told a ticket number.
    fn makes_ticket(self) -> bool {
        matches!(self, Branch::NoPower | Branch::Hazard | Branch::Theft)
    }
}

/// Where the default scripts read a ticket number out, lower-cased: "Её номер: 1 0 0 0 4 2."
/// (hazard, no power) and "Номер заявки: 1 0 0 0 4 2." (theft).
const TICKET_CUES: [&str; 2] = ["номер: ", "номер заявки: "];

/// The ticket numbers a caller was told, each once. Numbers are spoken digit by digit.
pub fn spoken_ticket_numbers(heard: &str) -> Vec<i64> {
    let heard = heard.to_lowercase();
    let mut numbers = Vec::new();
    for cue in TICKET_CUES {
        for (at, _) in heard.match_indices(cue) {
            let digits: String = heard[at + cue.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == ' ')
                .filter(char::is_ascii_digit)
                .collect();
            if let Ok(number) = digits.parse::<i64>() {
                if !numbers.contains(&number) {
                    numbers.push(number);
                }
            }
        }
    }
    numbers
}

/// The nearest-rank percentile of ascending samples: the smallest sample with at least `p`
/// percent of all samples at or below it; 0 when there are none.
pub fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// What the callers of one phase went through.
#[derive(Default)]
struct Tally {
    /// Each webhook's round trip in microseconds.
    latencies_us: Vec<u32>,
    calls: usize,
    errors: usize,
    error_samples: Vec<String>,
    tickets: Vec<i64>,
    /// The webhooks of the calls kept for the ceiling, by call.
    journals: Vec<Vec<SentWebhook>>,
}

impl Tally {
    fn failed(&mut self, error: String) {
        self.errors += 1;
        if self.error_samples.len() < SHOWN_ERRORS {
            self.error_samples.push(error);
        }
    }

    fn merge(&mut self, other: Tally) {
        self.latencies_us.extend(other.latencies_us);
        self.calls += other.calls;
        self.errors += other.errors;
        for sample in other.error_samples {
            if self.error_samples.len() < SHOWN_ERRORS {
                self.error_samples.push(sample);
            }
        }
        self.tickets.extend(other.tickets);
        self.journals.extend(other.journals);
    }
}

/// One phase's figures.
struct Phase {
    tally: Tally,
    elapsed: Duration,
}

impl Phase {
    fn new(mut tally: Tally, elapsed: Duration) -> Self {
        tally.latencies_us.sort_unstable();
        Self { tally, elapsed }
    }

    fn webhooks(&self) -> usize {
        self.tally.latencies_us.len()
    }

    fn calls_per_s(&self) -> f64 {
        self.tally.calls as f64 / self.elapsed.as_secs_f64()
    }

    fn webhooks_per_s(&self) -> f64 {
        self.webhooks() as f64 / self.elapsed.as_secs_f64()
    }

    fn ms(&self, p: f64) -> f64 {
        f64::from(percentile(&self.tally.latencies_us, p)) / 1000.0
    }

    fn describe(&self) -> String {
        format!(
            "{} calls, {} webhooks in {:.2} s = {:.1} calls/s, {:.0} webhooks/s; webhook latency p50 {:.2} ms, \
             p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} errors",
            self.tally.calls,
            self.webhooks(),
            self.elapsed.as_secs_f64(),
            self.calls_per_s(),
            self.webhooks_per_s(),
            self.ms(50.0),
            self.ms(95.0),
            self.ms(99.0),
            self.ms(100.0),
            self.tally.errors
        )
    }

    fn print_errors(&self) {
        for sample in &self.tally.error_samples {
            println!("    error: {sample}");
        }
    }
}

/// Everything the callers of a phase share.
struct Drive {
    http: reqwest::Client,
    base: String,
    /// What webhooks are signed with; `None`: unsigned (a server on loopback without a secret).
    secret: Option<String>,
    postcodes: Vec<String>,
    /// Makes caller numbers unlike those of earlier runs on the same database, so nobody is
    /// taken for a returning caller by accident.
    number_prefix: u32,
    calls: usize,
    rate: Option<f64>,
    /// Calls with an index below this keep their webhooks for the ceiling.
    journal_calls: usize,
    /// When set, a failed webhook is sent once more, as a provider would (`--target`).
    retries: Option<Arc<Retries>>,
    /// When set, an instance of the deployment is killed at a point of the run (`--target`).
    kill: Option<Arc<target::Kill>>,
}

/// Times one webhook's round trip, failed or not.
async fn timed<T>(latencies_us: &mut Vec<u32>, webhook: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    let started = Instant::now();
    let result = webhook.await;
    latencies_us.push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX));
    result
}

/// Walks one call until it ends or the caller has nothing more to say, then sends the
/// provider's final status callback. Returns the ticket numbers the caller heard.
async fn walk(
    caller: &mut Caller,
    mut answers: VecDeque<String>,
    latencies_us: &mut Vec<u32>,
) -> anyhow::Result<Vec<i64>> {
    let mut tickets = Vec::new();
    let mut turn = timed(latencies_us, caller.dial()).await?;
    let mut over = false;
    for _ in 0..MAX_WEBHOOKS_PER_CALL {
        for number in spoken_ticket_numbers(&turn.text()) {
            if !tickets.contains(&number) {
                tickets.push(number);
            }
        }
        turn = match caller.waiting.clone() {
            Waiting::Input { num_digits, .. } => match answers.pop_front() {
                // The caller has heard what they phoned for and hangs up.
                None => {
                    over = true;
                    break;
                }
                Some(answer) if answer.is_empty() => timed(latencies_us, caller.silence()).await?,
                // A longer answer than the question takes: this is the returning caller's
                // "the same settlement as last time?", and yes, it is.
                Some(answer) if num_digits.is_some_and(|n| answer.len() > n as usize) => {
                    timed(latencies_us, caller.press("1")).await?
                }
                Some(answer) => timed(latencies_us, caller.press(&answer)).await?,
            },
            Waiting::Recording { .. } => timed(latencies_us, caller.record(RECORDING_URL, 20)).await?,
            Waiting::Queue { .. } => {
                // No operator works during a load test: the caller hears one wait poll and gives up.
                let poll = timed(latencies_us, caller.wait_in_queue()).await?;
                let result = if poll.waiting == Waiting::Left { "leave" } else { "hangup" };
                timed(latencies_us, caller.leave_queue(result)).await?
            }
            Waiting::Left => timed(latencies_us, caller.leave_queue("leave")).await?,
            Waiting::Dialed { .. } | Waiting::Ended => {
                over = true;
                break;
            }
        };
    }
    if !over {
        bail!("the call did not end within {MAX_WEBHOOKS_PER_CALL} webhooks");
    }
    let status = timed(latencies_us, caller.status("completed", 99)).await?;
    if status != 200 {
        bail!("the final status callback was answered {status}");
    }
    Ok(tickets)
}

/// One caller after another on one connection slot, until the phase's calls are used up.
async fn caller_loop(drive: Arc<Drive>, next: Arc<AtomicUsize>, started: Instant) -> Tally {
    let mut tally = Tally::default();
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        if index >= drive.calls {
            return tally;
        }
        if let Some(rate) = drive.rate {
            tokio::time::sleep_until((started + Duration::from_secs_f64(index as f64 / rate)).into()).await;
        }
        if let Some(kill) = &drive.kill {
            kill.at_call(index, started).await;
        }
        let branch = Branch::of_call(index);
        let postcode = &drive.postcodes[index % drive.postcodes.len()];
        let from = format!("+79{:02}{:07}", drive.number_prefix, index % 10_000_000);
        let mut caller = Caller::with_http(drive.http.clone(), &drive.base, Dialect::Twilio, &from)
            .with_secret(drive.secret.clone());
        if let Some(retries) = &drive.retries {
            caller = caller.retrying(retries.clone());
        }
        let keep = index < drive.journal_calls;
        if keep {
            caller = caller.keeping_journal();
        }
        tally.calls += 1;
        match walk(&mut caller, branch.answers(index, postcode), &mut tally.latencies_us).await {
            Ok(tickets) if branch.makes_ticket() && tickets.is_empty() => {
                tally.failed(format!("call {index} ({branch:?}) was never told a ticket number"));
            }
            Ok(tickets) => tally.tickets.extend(tickets),
            Err(e) => tally.failed(format!("call {index} ({branch:?}): {e:#}")),
        }
        if keep {
            tally.journals.push(caller.into_journal());
        }
    }
}

async fn run_phase(drive: Drive, concurrency: usize) -> anyhow::Result<Phase> {
    let drive = Arc::new(drive);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let loops: Vec<_> =
        (0..concurrency).map(|_| tokio::spawn(caller_loop(drive.clone(), next.clone(), started))).collect();
    let mut tally = Tally::default();
    for handle in loops {
        tally.merge(handle.await.context("a caller task failed")?);
    }
    Ok(Phase::new(tally, started.elapsed()))
}

/// Sends the recorded webhooks, call by call, to `to` instead of `from`, with the same bytes and
/// signature headers; each answer is read as TwiML, as a provider would.
async fn replay(
    http: reqwest::Client,
    journals: Arc<Vec<Vec<SentWebhook>>>,
    from: String,
    to: String,
    concurrency: usize,
) -> anyhow::Result<Phase> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut loops = Vec::new();
    for _ in 0..concurrency {
        let (http, journals, next, from, to) = (http.clone(), journals.clone(), next.clone(), from.clone(), to.clone());
        loops.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            while let Some(call) = journals.get(next.fetch_add(1, Ordering::Relaxed)) {
                tally.calls += 1;
                for webhook in call {
                    let url = webhook.url.replacen(&from, &to, 1);
                    let sent = async {
                        let mut request = http.post(&url);
                        for (name, value) in &webhook.headers {
                            request = request.header(*name, value);
                        }
                        let response = request.body(webhook.body.clone()).send().await?;
                        let status = response.status();
                        let text = response.text().await?;
                        if !status.is_success() {
                            bail!("answered {status}: {text}");
                        }
                        parse_twiml(&text)
                    };
                    if let Err(e) = timed(&mut tally.latencies_us, sent).await {
                        tally.failed(format!("{url}: {e:#}"));
                    }
                }
            }
            tally
        }));
    }
    let mut tally = Tally::default();
    for handle in loops {
        tally.merge(handle.await.context("a replay task failed")?);
    }
    Ok(Phase::new(tally, started.elapsed()))
}

/// A child process of this executable, killed when dropped so a failed run leaves nothing behind.
struct Child {
    process: std::process::Child,
    base: String,
    log: PathBuf,
}

impl Child {
    /// Starts `command` listening on `addr` and returns once `/readyz` answers 200, with the
    /// time that took.
    async fn start(
        mut command: Command,
        addr: SocketAddr,
        log: PathBuf,
        http: &reqwest::Client,
    ) -> anyhow::Result<(Self, Duration)> {
        let log_file = std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(log_file);
        let started = Instant::now();
        let process = command.spawn().context("starting a child process")?;
        let mut child = Self { process, base: format!("http://{addr}"), log };
        let ready = format!("{}/readyz", child.base);
        let deadline = started + Duration::from_secs(60);
        loop {
            if let Ok(response) = http.get(&ready).send().await {
                if response.status().is_success() {
                    return Ok((child, started.elapsed()));
                }
            }
            if let Some(status) = child.process.try_wait()? {
                bail!("the child process exited ({status}) before it was ready:\n{}", child.log_tail());
            }
            if Instant::now() > deadline {
                bail!("the child process was not ready within 60 s:\n{}", child.log_tail());
            }
            // Polling is how a load balancer sees readiness too; 2 ms keeps the figure honest.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// The most memory the process has held (VmHWM), in bytes.
    fn peak_rss_bytes(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.process.id()))
            .context("reading the server's /proc status (peak RSS needs Linux)")?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).context("no VmHWM in /proc status")?;
        let kib: u64 = line.trim_start_matches("VmHWM:").trim().trim_end_matches("kB").trim().parse()?;
        Ok(kib * 1024)
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        // SIGKILL on purpose: everything the server answered must survive it (SPEC §6), and
        // the ticket check after the restart shows that it did.
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A loopback address nobody listens on right now.
fn free_address() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}

/// `hotline serve` of this very executable, with nothing of the caller's environment but what
/// is set here: the built-in menus, no demo data, signatures checked.
fn serve_command(exe: &Path, dir: &Path, database_url: &str, addr: SocketAddr, secret: &str) -> Command {
    let mut command = Command::new(exe);
    command.arg("serve").current_dir(dir);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("HOTLINE_") {
            command.env_remove(name);
        }
    }
    command
        .env("HOTLINE_LISTEN", addr.to_string())
        .env("HOTLINE_PUBLIC_URL", format!("http://{addr}"))
        .env("HOTLINE_DATABASE_URL", database_url)
        .env("HOTLINE_DEMO", "off")
        .env("HOTLINE_TWILIO_AUTH_TOKEN", secret)
        .env("HOTLINE_MAIL_DIR", dir.join("mail-outbox"));
    command
}

/// A folder of this run's own, removed afterwards.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> anyhow::Result<Self> {
        let path = std::env::temp_dir().join(format!("hotline-storm-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&path).with_context(|| format!("creating {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The figures of one run, for the medians.
struct RunFigures {
    calls_per_s: f64,
    webhooks_per_s: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    half_rate_p99_ms: Option<f64>,
    ceiling_webhooks_per_s: Option<f64>,
    commit_ceiling_webhooks_per_s: Option<f64>,
    /// What the full-speed phase added to the database, before any pruning.
    bytes_per_call: f64,
    bytes_per_webhook: f64,
    peak_rss_mb: f64,
    first_start_ms: f64,
    restart_ms: f64,
    errors: usize,
    lost_tickets: usize,
}

fn secret() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Settlements a postcode names alone, so a caller's postcode always finds one.
async fn unique_postcodes(database_url: &str) -> anyhow::Result<Vec<String>> {
    let store = Store::connect(database_url).await?;
    let settlements = store.find_all_settlements().await?;
    store.close().await;
    let mut postcodes: Vec<String> = settlements.iter().map(|s| s.postcode.clone()).collect();
    postcodes.retain(|p| settlements.iter().filter(|s| &s.postcode == p).count() == 1);
    postcodes.sort();
    if postcodes.is_empty() {
        bail!("the database has no settlement with a postcode of its own");
    }
    Ok(postcodes)
}

/// The tickets callers were told that the database does not hold.
async fn lost_tickets(database_url: &str, told: &[i64]) -> anyhow::Result<Vec<i64>> {
    let store = Store::connect(database_url).await?;
    let mut lost = Vec::new();
    for number in told {
        let key = TicketNumber::from_stored(*number).map(TicketKey::Number).map_err(anyhow::Error::msg)?;
        if store.ticket(&key).await?.is_none() {
            lost.push(*number);
        }
    }
    store.close().await;
    Ok(lost)
}

async fn one_run(exe: &Path, options: &Options, run: usize, http: &reqwest::Client) -> anyhow::Result<RunFigures> {
    let scratch = Scratch::new()?;
    let database_url =
        options.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", scratch.0.join("storm.db").display()));
    let backend = database_url.split(':').next().unwrap_or_default();
    println!("run {run} of {} on {backend}:", options.runs);
    let secret = secret();
    let addr = free_address()?;
    let command = serve_command(exe, &scratch.0, &database_url, addr, &secret);
    let (server, first_start) = Child::start(command, addr, scratch.0.join("server.log"), http).await?;
    println!("  start-up to ready: {:.0} ms (first start on this database)", first_start.as_secs_f64() * 1000.0);
    let postcodes = unique_postcodes(&database_url).await?;

    let drive = |rate: Option<f64>, journal_calls: usize| Drive {
        http: http.clone(),
        base: server.base.clone(),
        secret: Some(secret.clone()),
        postcodes: postcodes.clone(),
        number_prefix: 10 + rand::random::<u32>() % 90,
        calls: options.calls,
        rate,
        journal_calls,
        retries: None,
        kill: None,
    };
    let journal_calls = if options.ceiling { options.calls.min(CEILING_SAMPLE_CALLS) } else { 0 };
    let database = Store::connect(&database_url).await?;
    let size_before = database.database_size().await?;
    let mut main = run_phase(drive(options.rate, journal_calls), options.concurrency).await?;
    let grown = (database.database_size().await? - size_before) as f64;
    database.close().await;
    let label = match options.rate {
        Some(rate) => format!("at {rate:.1} calls/s"),
        None => "full speed".to_string(),
    };
    println!("  {label}: {}", main.describe());
    main.print_errors();
    let (bytes_per_call, bytes_per_webhook) =
        (grown / main.tally.calls.max(1) as f64, grown / main.webhooks().max(1) as f64);
    println!(
        "  database grew {:.2} MB: {:.0} bytes per call, {:.0} per webhook (before any pruning)",
        grown / 1e6,
        bytes_per_call,
        bytes_per_webhook
    );

    let half = match (options.rate, options.half_rate) {
        (None, true) => {
            let rate = main.calls_per_s() / 2.0;
            let half = run_phase(drive(Some(rate), 0), options.concurrency).await?;
            println!("  half rate ({rate:.1} calls/s): {}", half.describe());
            half.print_errors();
            Some(half)
        }
        _ => None,
    };

    let (ceiling, commit_ceiling) = if options.ceiling {
        let journals = Arc::new(std::mem::take(&mut main.tally.journals));
        let reference = |commit_to: Option<&str>, log: &str, concurrency: usize| {
            let mut command = Command::new(exe);
            command.arg("storm-ceiling");
            if let Some(url) = commit_to {
                command.arg("--commit-to").arg(url);
            }
            let log = scratch.0.join(log);
            let (journals, from) = (journals.clone(), server.base.clone());
            async move {
                let addr = free_address()?;
                command.arg("--listen").arg(addr.to_string());
                let (reference, _) = Child::start(command, addr, log, http).await?;
                replay(http.clone(), journals, from, reference.base.clone(), concurrency).await
            }
        };
        // The load generator itself slows with many connections: the ceiling is the best it
        // reached at any of these, so a slow generator cannot flatter the IVR's share.
        let mut tried = CEILING_CONCURRENCIES.to_vec();
        tried.push(options.concurrency);
        tried.sort_unstable();
        tried.dedup();
        let mut best: Option<Phase> = None;
        for concurrency in tried {
            let phase = reference(None, &format!("ceiling-{concurrency}.log"), concurrency).await?;
            println!(
                "  ceiling (one fixed TwiML document, the same webhooks of {} calls), {concurrency} in flight: {}",
                phase.tally.calls,
                phase.describe()
            );
            phase.print_errors();
            if best.as_ref().is_none_or(|b| phase.webhooks_per_s() > b.webhooks_per_s()) {
                best = Some(phase);
            }
        }
        let ceiling = best.expect("the ceiling was tried at one concurrency at least");
        let store = Store::connect(&database_url).await?;
        commit_ceiling::create(&store).await?;
        let commit_ceiling = reference(Some(&database_url), "commit-ceiling.log", options.concurrency).await;
        commit_ceiling::drop(&store).await?;
        store.close().await;
        let commit_ceiling = commit_ceiling?;
        println!(
            "  commit ceiling (the same, but each webhook first commits one row to the database): {}",
            commit_ceiling.describe()
        );
        commit_ceiling.print_errors();
        let share = |phase: &Phase| 100.0 * phase.webhooks_per_s() / ceiling.webhooks_per_s();
        println!(
            "  the IVR reaches {:.1}% of the best ceiling, {:.1}% of the commit ceiling (one commit per webhook: {:.1}% of the best ceiling)",
            share(&main),
            100.0 * main.webhooks_per_s() / commit_ceiling.webhooks_per_s(),
            share(&commit_ceiling)
        );
        (Some(ceiling), Some(commit_ceiling))
    } else {
        (None, None)
    };

    let peak_rss = server.peak_rss_bytes()?;
    println!("  server peak RSS (VmHWM): {:.1} MB", peak_rss as f64 / 1e6);
    drop(server);
    let command = serve_command(exe, &scratch.0, &database_url, addr, &secret);
    let (server, restart) = Child::start(command, addr, scratch.0.join("restart.log"), http).await?;
    drop(server);
    println!(
        "  start-up to ready: {:.0} ms (restart on the same database after kill -9)",
        restart.as_secs_f64() * 1000.0
    );

    let mut told: Vec<i64> = main.tally.tickets.clone();
    told.extend(half.iter().flat_map(|h| h.tally.tickets.iter().copied()));
    let distinct: HashSet<i64> = told.iter().copied().collect();
    let lost = lost_tickets(&database_url, &told).await?;
    let duplicates = told.len() - distinct.len();
    println!(
        "  tickets: {} told to callers, {} found in the database, {} lost",
        told.len(),
        told.len() - lost.len(),
        lost.len()
    );
    if duplicates > 0 {
        println!("    {duplicates} ticket numbers were told to more than one caller");
    }
    if !lost.is_empty() {
        println!("    lost: {:?}", &lost[..lost.len().min(20)]);
    }
    let errors = main.tally.errors
        + half.as_ref().map_or(0, |h| h.tally.errors)
        + ceiling.as_ref().map_or(0, |c| c.tally.errors)
        + commit_ceiling.as_ref().map_or(0, |c| c.tally.errors)
        + duplicates;
    Ok(RunFigures {
        calls_per_s: main.calls_per_s(),
        webhooks_per_s: main.webhooks_per_s(),
        p50_ms: main.ms(50.0),
        p95_ms: main.ms(95.0),
        p99_ms: main.ms(99.0),
        max_ms: main.ms(100.0),
        half_rate_p99_ms: half.as_ref().map(|h| h.ms(99.0)),
        ceiling_webhooks_per_s: ceiling.as_ref().map(Phase::webhooks_per_s),
        commit_ceiling_webhooks_per_s: commit_ceiling.as_ref().map(Phase::webhooks_per_s),
        bytes_per_call,
        bytes_per_webhook,
        peak_rss_mb: peak_rss as f64 / 1e6,
        first_start_ms: first_start.as_secs_f64() * 1000.0,
        restart_ms: restart.as_secs_f64() * 1000.0,
        errors,
        lost_tickets: lost.len(),
    })
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn print_medians(runs: &[RunFigures]) {
    let of = |f: fn(&RunFigures) -> f64| median(runs.iter().map(f).collect());
    let of_some = |f: fn(&RunFigures) -> Option<f64>| {
        let values: Vec<f64> = runs.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| median(values))
    };
    println!("medians of {} runs:", runs.len());
    println!(
        "  IVR: {:.1} calls/s, {:.0} webhooks/s; webhook latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        of(|r| r.calls_per_s),
        of(|r| r.webhooks_per_s),
        of(|r| r.p50_ms),
        of(|r| r.p95_ms),
        of(|r| r.p99_ms),
        of(|r| r.max_ms)
    );
    if let Some(p99) = of_some(|r| r.half_rate_p99_ms) {
        println!("  at half that rate: p99 {p99:.2} ms");
    }
    if let Some(ceiling) = of_some(|r| r.ceiling_webhooks_per_s) {
        let ratio = of_some(|r| r.ceiling_webhooks_per_s.map(|c| 100.0 * r.webhooks_per_s / c)).unwrap_or(f64::NAN);
        println!(
            "  ceiling (the best of the concurrencies tried): {ceiling:.0} webhooks/s; the IVR reaches {ratio:.1}% of it"
        );
    }
    if let Some(commits) = of_some(|r| r.commit_ceiling_webhooks_per_s) {
        let ratio =
            of_some(|r| Some(100.0 * r.commit_ceiling_webhooks_per_s? / r.ceiling_webhooks_per_s?)).unwrap_or(f64::NAN);
        let ivr = of_some(|r| Some(100.0 * r.webhooks_per_s / r.commit_ceiling_webhooks_per_s?)).unwrap_or(f64::NAN);
        println!(
            "  commit ceiling: {commits:.0} webhooks/s, {ratio:.1}% of the ceiling; the IVR reaches {ivr:.1}% of it"
        );
    }
    println!(
        "  database: {:.0} bytes per call, {:.0} per webhook",
        of(|r| r.bytes_per_call),
        of(|r| r.bytes_per_webhook)
    );
    println!(
        "  server peak RSS {:.1} MB; start-up to ready {:.0} ms on a new database, {:.0} ms on an existing one",
        of(|r| r.peak_rss_mb),
        of(|r| r.first_start_ms),
        of(|r| r.restart_ms)
    );
}

/// `hotline storm`: every run, then the medians; an error or a lost ticket fails the command.
pub async fn run(options: Options) -> anyhow::Result<()> {
    if options.calls == 0 || options.concurrency == 0 || options.runs == 0 {
        bail!("--calls, --concurrency and --runs must be at least 1");
    }
    if options.rate.is_some_and(|r| !(r.is_finite() && r > 0.0)) {
        bail!("--rate must be a positive number of calls per second");
    }
    if let Some(target) = &options.target {
        return target::run(&options, target).await;
    }
    let exe = std::env::current_exe().context("finding this executable to start the server")?;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build()?;
    let mut runs = Vec::with_capacity(options.runs);
    for run in 1..=options.runs {
        runs.push(one_run(&exe, &options, run, &http).await?);
    }
    if runs.len() > 1 {
        print_medians(&runs);
    }
    let errors: usize = runs.iter().map(|r| r.errors).sum();
    let lost: usize = runs.iter().map(|r| r.lost_tickets).sum();
    println!("result: {errors} errors, {lost} lost tickets");
    if errors > 0 || lost > 0 {
        bail!("the storm had {errors} errors and {lost} lost tickets");
    }
    Ok(())
}

/// The one answer of the ceiling server: a main-menu-like gather, the size of a typical step's answer.
fn fixed_twiml() -> String {
    let voice = Voice { language: "ru-RU".into(), name: Some("Polly.Tatyana".into()) };
    let say = |text: &str| Prompt::Say { text: text.into(), voice: voice.clone() };
    twilio::render(&[Action::Gather(Gather {
        dtmf: true,
        speech: false,
        num_digits: Some(1),
        finish_on_key: None,
        timeout_s: 6,
        hints: Vec::new(),
        language: voice.language.clone(),
        action_url: "http://127.0.0.1/telephony/twilio/step/1".into(),
        no_input_url: "http://127.0.0.1/telephony/twilio/step/1".into(),
        prompts: vec![
            say("Здравствуйте! Вы позвонили на круглосуточную горячую линию «Ярэнерго». Звонок бесплатный."),
            say("Если видите оборванный провод, искрение или упавшую опору — нажмите 1."),
            say("Нет света — 2. Плановые отключения — 3. Подключение к электросетям — 4."),
            say("Сообщить о хищении электроэнергии — 5. Оператор — 0. Повторить меню — звёздочка."),
        ],
    })])
}

/// `hotline storm-ceiling`: what axum alone manages on this machine: every request's body is
/// read and answered with one fixed TwiML document, nothing else. With `commit_to`, the commit
/// ceiling: each body is first committed as one row to that database (see `tools::commit_ceiling`).
pub async fn serve_ceiling(listen: SocketAddr, commit_to: Option<String>) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
    let store = match commit_to {
        Some(url) => Some(Store::connect(&url).await?),
        None => None,
    };
    let document = Bytes::from(fixed_twiml());
    let app = axum::Router::new().fallback(move |body: Bytes| {
        let (document, store) = (document.clone(), store.clone());
        async move {
            if let Some(store) = store {
                if let Err(e) = commit_ceiling::commit_row(&store, &String::from_utf8_lossy(&body)).await {
                    return (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        [(CONTENT_TYPE, "text/plain")],
                        Bytes::from(e.to_string()),
                    );
                }
            }
            (StatusCode::OK, [(CONTENT_TYPE, "text/xml; charset=utf-8")], document)
        }
    });
    axum::serve(listener, app).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let samples: Vec<u32> = (1..=100).collect();
        assert_eq!(percentile(&samples, 50.0), 50);
        assert_eq!(percentile(&samples, 95.0), 95);
        assert_eq!(percentile(&samples, 99.0), 99);
        assert_eq!(percentile(&samples, 100.0), 100);
        assert_eq!(percentile(&samples, 0.0), 1);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[1, 2, 3, 1000], 99.0), 1000, "one slow sample in four is the p99");
        assert_eq!(percentile(&[10, 20], 50.0), 10);
        assert_eq!(percentile(&[], 50.0), 0);
    }

    #[test]
    fn the_mix_covers_every_call_and_adds_up() {
        assert_eq!(MIX.iter().map(|(_, share)| share).sum::<usize>(), 100);
        for (branch, share) in MIX {
            assert_eq!((0..100).filter(|i| Branch::of_call(*i) == branch).count(), share, "{branch:?}");
        }
    }

    #[test]
    fn ticket_numbers_are_read_back_from_what_the_caller_heard() {
        let hazard = "Заявка принята. Её номер: 1 0 0 0 4 2. Повторяю: 1 0 0 0 4 2. Дежурный диспетчер уже оповещён.";
        assert_eq!(spoken_ticket_numbers(hazard), vec![100042]);
        let theft = "Сообщение принято. Номер заявки: 1 0 0 1 0 0. Повторяю: 1 0 0 1 0 0. Спасибо!";
        assert_eq!(spoken_ticket_numbers(theft), vec![100100]);
        let application = "Заявка номер 2 0 2 6 0 0 0 1: в работе. Заявка с номером 2 0 2 6 0 0 0 2 не найдена.";
        assert!(spoken_ticket_numbers(application).is_empty(), "application numbers are not tickets");
    }
}
