//! `hotline storm --target URL`: the storm against a deployment that is already running (say two
//! instances on one PostgreSQL behind haproxy), which may lose an instance mid-run.
//!
//! Callers go through the URL as the provider would, and a webhook that meets a connection error
//! or a 5xx is sent once more, the very same request, as Twilio does on its fallback URL. At the
//! same time operators take queue items through the URL. With a process id to kill, that process
//! gets SIGKILL as a given call starts. Afterwards every ticket number a caller heard is looked
//! up in the database, the operators' records show whether any item was handed out twice, and
//! the escalation log whether any step fired twice. Any of those, and any webhook that failed
//! twice, makes the command fail.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::{Drive, Options, lost_tickets, run_phase, secret, unique_postcodes};
use crate::auth::{self, Role};
use crate::clock::Clock;
use crate::store::Store;
use crate::tools::simulator::Retries;

/// The deployment to drive.
#[derive(Debug, Clone)]
pub struct Target {
    /// Where the provider sends webhooks: the deployment's HOTLINE_PUBLIC_URL.
    pub url: String,
    /// The Twilio auth token the instances check signatures with; `None`: unsigned webhooks
    /// (instances listening on loopback without one accept them).
    pub secret: Option<String>,
    /// How many operator accounts to add and take queue items with during the run.
    pub operators: usize,
    /// A process to SIGKILL mid-run (one instance), and as which call starts.
    pub kill: Option<(u32, usize)>,
}

/// How long the deployment may take to answer /readyz before the run starts.
const READY_WITHIN: Duration = Duration::from_secs(60);
/// How often an operator with nothing to take asks again.
const OPERATOR_POLL: Duration = Duration::from_millis(20);
/// How many failures of operators are printed in full.
const SHOWN_FAILURES: usize = 5;

/// SIGKILL to one process as call `after` starts: a point of the run measured by its progress.
pub(super) struct Kill {
    pid: u32,
    after: usize,
    /// When it was sent, counted from the start of the phase, or why it could not be.
    outcome: OnceLock<Result<Duration, String>>,
}

impl Kill {
    pub(super) async fn at_call(&self, index: usize, started: Instant) {
        if index != self.after {
            return;
        }
        let pid = self.pid;
        let status = tokio::task::spawn_blocking(move || {
            std::process::Command::new("kill").arg("-KILL").arg(pid.to_string()).status()
        })
        .await;
        let outcome = match status {
            Ok(Ok(status)) if status.success() => Ok(started.elapsed()),
            Ok(Ok(status)) => Err(format!("kill -KILL {pid} exited with {status}")),
            Ok(Err(e)) => Err(format!("running kill -KILL {pid}: {e}")),
            Err(e) => Err(format!("running kill -KILL {pid}: {e}")),
        };
        let _ = self.outcome.set(outcome);
    }
}

/// Sends a request with an optional JSON body; returns the status and the JSON answer (`null`
/// when the answer is empty or not JSON).
async fn exchange(request: reqwest::RequestBuilder, body: Option<Value>) -> anyhow::Result<(u16, Value)> {
    let request = match body {
        Some(body) => request.header("content-type", "application/json").body(serde_json::to_vec(&body)?),
        None => request,
    };
    let response = request.send().await?;
    let status = response.status().as_u16();
    let bytes = response.bytes().await?;
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// Waits for the deployment to answer /readyz with 200, up to a deadline.
async fn wait_ready(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + READY_WITHIN;
    loop {
        if let Ok(response) = http.get(format!("{base}/readyz")).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            bail!("{base}/readyz did not answer 200 within {} s", READY_WITHIN.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// An operator of the run, logged in through the target.
struct Operator {
    name: String,
    token: String,
}

/// Adds `count` operator accounts to the database (as `hotline user add` would), logs each in
/// through the target and makes it available with a phone, so live calls are offered too.
/// Returns them with the disposition they wrap items up with.
async fn sign_in_operators(
    store: &Store,
    http: &reqwest::Client,
    base: &str,
    count: usize,
) -> anyhow::Result<(Vec<Operator>, String)> {
    let tag = format!("{:06x}", rand::random::<u32>() & 0xff_ffff);
    let mut operators = Vec::with_capacity(count);
    let mut disposition = String::new();
    for i in 1..=count {
        let name = format!("storm-{tag}-{i}");
        let password = secret();
        auth::add_user(store, &name, &password, Role::Operator, Clock::system().now())
            .await
            .with_context(|| format!("adding the operator {name}"))?;
        let (status, login) = exchange(
            http.post(format!("{base}/api/auth/login")),
            Some(json!({"username": name, "password": password})),
        )
        .await?;
        let token = match login["token"].as_str() {
            Some(token) if status == 200 => token.to_string(),
            _ => bail!("logging {name} in through {base} answered {status}: {login}"),
        };
        let me = format!("{base}/api/operators/me");
        let contact = format!("+7910{:07}", 9_000_000 + i);
        let (status, answer) =
            exchange(http.put(&me).bearer_auth(&token), Some(json!({"status": "available", "contact": contact})))
                .await?;
        if status != 200 {
            bail!("making {name} available answered {status}: {answer}");
        }
        let (status, answer) = exchange(http.get(&me).bearer_auth(&token), None).await?;
        match answer["dispositions"][0].as_str() {
            Some(first) if status == 200 => disposition = first.to_string(),
            _ => bail!("GET /api/operators/me for {name} answered {status}: {answer}"),
        }
        operators.push(Operator { name, token });
    }
    Ok((operators, disposition))
}

/// What one operator was handed during the run.
#[derive(Default)]
struct Handed {
    /// Queue item ids, in the order the operator got them.
    items: Vec<String>,
    /// Requests that failed (an instance killed under them, mostly): operators do not retry
    /// like providers do, they ask again.
    failed: usize,
    samples: Vec<String>,
}

impl Handed {
    fn note_failure(&mut self, what: String) {
        self.failed += 1;
        if self.samples.len() < SHOWN_FAILURES {
            self.samples.push(what);
        }
    }

    /// Records an item the operator holds, once.
    fn got(&mut self, id: &str) {
        if self.items.last().map(String::as_str) != Some(id) {
            self.items.push(id.to_string());
        }
    }
}

/// Takes the next item through the target, wraps it up, and again, until told to stop. An
/// answer lost with a killed instance may still have handed the operator an item: the next
/// take then answers 409 and the console state names the item held, which is recorded and
/// wrapped up like the others.
async fn operator_loop(
    http: reqwest::Client,
    base: String,
    operator: Operator,
    disposition: String,
    stop: Arc<AtomicBool>,
) -> Handed {
    let mut handed = Handed::default();
    let auth = |request: reqwest::RequestBuilder| request.bearer_auth(&operator.token);
    let mut holding: Option<(String, u32)> = None;
    loop {
        if let Some((id, tries)) = holding.take() {
            let url = format!("{base}/api/queue/{id}/complete");
            match exchange(auth(http.post(&url)), Some(json!({"disposition": disposition}))).await {
                // 409: no longer held, so an earlier answer lost on the way had wrapped it up.
                Ok((200 | 409, _)) => {}
                outcome => {
                    handed.note_failure(format!("{}: completing {id}: {}", operator.name, describe(&outcome)));
                    if tries < 3 {
                        holding = Some((id, tries + 1));
                    }
                }
            }
            continue;
        }
        if stop.load(Ordering::Relaxed) {
            return handed;
        }
        match exchange(auth(http.post(format!("{base}/api/queue/next"))), None).await {
            Ok((200, taken)) => match taken["item"]["id"].as_str() {
                Some(id) => {
                    handed.got(id);
                    holding = Some((id.to_string(), 0));
                }
                None => handed.note_failure(format!("{}: a taken item without an id: {taken}", operator.name)),
            },
            Ok((204, _)) => tokio::time::sleep(OPERATOR_POLL).await,
            Ok((409, _)) => match exchange(auth(http.get(format!("{base}/api/operators/me"))), None).await {
                Ok((200, me)) => {
                    if let Some(id) = me["item"]["id"].as_str() {
                        handed.got(id);
                        holding = Some((id.to_string(), 0));
                    }
                }
                outcome => {
                    handed.note_failure(format!("{}: reading what it holds: {}", operator.name, describe(&outcome)))
                }
            },
            outcome => handed.note_failure(format!("{}: taking the next item: {}", operator.name, describe(&outcome))),
        }
    }
}

fn describe(outcome: &anyhow::Result<(u16, Value)>) -> String {
    match outcome {
        Ok((status, body)) => format!("answered {status}: {body}"),
        Err(e) => format!("{e:#}"),
    }
}

/// `hotline storm --target`: one phase against the deployment, then the checks.
pub(super) async fn run(options: &Options, target: &Target) -> anyhow::Result<()> {
    let database_url = options
        .database_url
        .as_deref()
        .context("--target needs --database-url: the deployment's database, to look the tickets up in")?;
    if options.runs != 1 {
        bail!("--target runs once: leave --runs out");
    }
    if let Some((_, after)) = target.kill {
        if after >= options.calls {
            bail!("--kill-after must be below --calls");
        }
    }
    let base = target.url.trim_end_matches('/').to_string();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build()?;
    wait_ready(&http, &base).await?;
    // Escalations of this run are those created from now on (a second of slack for clocks).
    let since = Clock::system().now().plus_seconds(-1);
    let postcodes = unique_postcodes(database_url).await?;
    let store = Store::connect(database_url).await?;
    let (operators, disposition) = sign_in_operators(&store, &http, &base, target.operators).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let desks: Vec<_> = operators
        .into_iter()
        .map(|operator| {
            tokio::spawn(operator_loop(http.clone(), base.clone(), operator, disposition.clone(), stop.clone()))
        })
        .collect();
    let retries = Arc::new(Retries::default());
    let kill = target.kill.map(|(pid, after)| Arc::new(Kill { pid, after, outcome: OnceLock::new() }));
    let drive = Drive {
        http: http.clone(),
        base: base.clone(),
        secret: target.secret.clone(),
        postcodes,
        number_prefix: 10 + rand::random::<u32>() % 90,
        calls: options.calls,
        rate: options.rate,
        journal_calls: 0,
        retries: Some(retries.clone()),
        kill: kill.clone(),
    };
    let phase = run_phase(drive, options.concurrency).await;
    stop.store(true, Ordering::Relaxed);
    let mut handed = Vec::new();
    for desk in desks {
        handed.push(desk.await.context("an operator task failed")?);
    }
    let phase = phase?;

    println!("storm through {base}, {} callers at a time, {} operators:", options.concurrency, target.operators);
    println!("  {}", phase.describe());
    phase.print_errors();
    let mut violations = Vec::new();
    if let Some(kill) = &kill {
        match kill.outcome.get() {
            Some(Ok(at)) => println!(
                "  SIGKILL sent to pid {} as call {} started, {:.2} s into the run",
                kill.pid,
                kill.after,
                at.as_secs_f64()
            ),
            Some(Err(e)) => violations.push(format!("the instance was not killed: {e}")),
            None => violations.push(format!("call {} never started, so nothing was killed", kill.after)),
        }
    }

    let retried = retries.retried.load(Ordering::Relaxed);
    let failed_twice = retries.failed_twice.load(Ordering::Relaxed);
    println!(
        "  provider retries: {retried} webhooks failed (connection error or 5xx) and were sent once more: \
         {} succeeded, {failed_twice} failed twice",
        retried - failed_twice
    );
    if failed_twice > 0 {
        violations.push(format!("{failed_twice} webhooks failed twice"));
    }
    if kill.is_some() && retried == 0 {
        violations.push("the kill met no webhook in flight, so no provider retry was shown".into());
    }
    if phase.tally.errors > 0 {
        violations.push(format!("{} calls failed", phase.tally.errors));
    }

    let told = &phase.tally.tickets;
    let distinct: HashSet<i64> = told.iter().copied().collect();
    let lost = lost_tickets(database_url, told).await?;
    println!(
        "  tickets: {} told to callers, {} found in the database, {} lost",
        told.len(),
        told.len() - lost.len(),
        lost.len()
    );
    if !lost.is_empty() {
        violations.push(format!(
            "{} tickets callers were told are lost: {:?}",
            lost.len(),
            &lost[..lost.len().min(20)]
        ));
    }
    if distinct.len() < told.len() {
        violations.push(format!("{} ticket numbers were told to more than one caller", told.len() - distinct.len()));
    }

    if target.operators > 0 {
        let mut holders: HashMap<&str, usize> = HashMap::new();
        for id in handed.iter().flat_map(|h| &h.items) {
            *holders.entry(id.as_str()).or_default() += 1;
        }
        let taken: usize = handed.iter().map(|h| h.items.len()).sum();
        let twice: Vec<&str> = holders.iter().filter(|(_, n)| **n > 1).map(|(id, _)| *id).collect();
        let failed: usize = handed.iter().map(|h| h.failed).sum();
        println!(
            "  queue: the operators were handed {taken} items, {} distinct, {} handed out twice; \
             {failed} operator requests failed",
            holders.len(),
            twice.len()
        );
        for sample in handed.iter().flat_map(|h| &h.samples).take(SHOWN_FAILURES) {
            println!("    operator request failed: {sample}");
        }
        if !twice.is_empty() {
            violations.push(format!(
                "{} queue items were handed out twice: {:?}",
                twice.len(),
                &twice[..twice.len().min(10)]
            ));
        }
        if taken == 0 {
            violations.push("no queue item was handed out, so the queue was not tested".into());
        }
    }

    let firings = store.step_firings(since).await?;
    store.close().await;
    println!(
        "  escalations: {} started, {} of their {} steps fired, {} steps fired twice; \
         {} messages in the outbox, {} sent",
        firings.escalations,
        firings.fired,
        firings.steps,
        firings.fired_twice.len(),
        firings.messages,
        firings.messages_sent
    );
    if !firings.fired_twice.is_empty() {
        let shown = &firings.fired_twice[..firings.fired_twice.len().min(10)];
        violations.push(format!("{} escalation steps fired twice: {shown:?}", firings.fired_twice.len()));
    }
    if !firings.mismatched.is_empty() {
        let shown = &firings.mismatched[..firings.mismatched.len().min(10)];
        violations.push(format!(
            "{} escalation steps marked fired without a step_fired line, or the other way round: {shown:?}",
            firings.mismatched.len()
        ));
    }
    if firings.fired == 0 {
        violations.push("no escalation step fired, so the escalations were not tested".into());
    }

    if violations.is_empty() {
        println!("result: no violation");
        return Ok(());
    }
    for violation in &violations {
        println!("  VIOLATION: {violation}");
    }
    bail!("{} violations", violations.len())
}
