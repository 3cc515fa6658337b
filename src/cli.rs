//! The command line of the `hotline` binary.

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::auth::{self, Role};
use crate::clock::Clock;
use crate::config::Settings;
use crate::settlements;
use crate::store::Store;

#[derive(Parser)]
#[command(
    name = "hotline",
    version,
    about = "The grid company's 24/7 hotline: IVR webhooks, tickets, operator queue, escalation.",
    long_about = "The grid company's 24/7 hotline: IVR webhooks, tickets, operator queue, escalation.\n\n\
Settings come from HOTLINE_* environment variables or ./hotline.toml (see README)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the webhooks, the API and the console on HOTLINE_LISTEN (default 127.0.0.1:8080).
    Serve,
    /// Create the database if needed and apply pending migrations, then exit.
    Migrate,
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check the IVR scripts: every problem as file:node:reason, non-zero exit if any; then the
    /// seconds to each key moment per main-menu branch, failing on a time budget overrun.
    Check {
        /// The scripts folder (default: HOTLINE_SCRIPTS_DIR from the environment or hotline.toml,
        /// else ./ivr-scripts).
        dir: Option<PathBuf>,
    },
    #[cfg(feature = "tools")]
    /// Place a simulated call against a running server and print what the caller hears.
    Call(CallArgs),
    /// Apply the retention settings now (HOTLINE_RETAIN_REPLAYS, _CALLS, _TICKETS; the server
    /// applies them every hour) and print what was removed, by kind.
    Prune {
        /// Then give the space back: incremental auto-vacuum on SQLite (the first time, a full
        /// VACUUM that needs as much free disk as the file takes), VACUUM on PostgreSQL; prints
        /// the database's size before and after.
        #[arg(long)]
        vacuum: bool,
    },
    /// Erase one phone number's personal data everywhere: it is replaced by its masked form,
    /// its recordings' links removed; the erasure is audited without the number in clear.
    Erase {
        /// The number, in any usual spelling (+79101234567, 8 910 123-45-67).
        phone: String,
    },
    /// Import reference data from a CSV file; a file with any bad row imports nothing.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
    #[cfg(feature = "tools")]
    /// Load test: start `hotline serve` on a free loopback port, walk many concurrent simulated
    /// callers through its signed Twilio webhooks, and report calls/s, webhooks/s, latency, the
    /// database's growth per call, peak memory, start-up time and any ticket a caller was told
    /// that the database lacks. With --target, drive a running deployment instead (see --target).
    Storm(StormArgs),
    #[cfg(feature = "tools")]
    /// The fixed-TwiML server `storm` measures the framework's ceiling with.
    #[command(hide = true)]
    StormCeiling {
        /// Address to bind.
        #[arg(long)]
        listen: std::net::SocketAddr,
        /// Before answering, commit each request's body as one row to this database: the
        /// commit ceiling instead of the framework's.
        #[arg(long)]
        commit_to: Option<String>,
    },
}

#[cfg(feature = "tools")]
#[derive(clap::Args)]
struct StormArgs {
    /// Calls per phase.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..))]
    calls: u32,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..))]
    concurrency: u32,
    /// Start this many calls per second instead of each caller starting the next call as soon
    /// as one ends (which finds the most the server can take, then runs at half of it).
    #[arg(long)]
    rate: Option<f64>,
    /// Repeat the measurement this many times and print the medians.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    /// The server's database (default: a fresh SQLite file in a temporary folder for each run).
    #[arg(long)]
    database_url: Option<String>,
    /// Skip sending the same webhooks to a server that answers one fixed TwiML document (and
    /// to one that first commits each to the database).
    #[arg(long)]
    no_ceiling: bool,
    /// Skip the second phase at half the full-speed call rate.
    #[arg(long)]
    no_half_rate: bool,
    /// Drive the running deployment at this URL (its HOTLINE_PUBLIC_URL, say a load balancer)
    /// instead of starting a server: one phase, no ceilings. A webhook that fails (connection
    /// error or 5xx) is sent once more, as providers do; operators take queue items through the
    /// URL meanwhile. Afterwards the tickets callers heard are looked up and the escalation steps
    /// checked in --database-url (required), the deployment's database. Fails on a lost ticket,
    /// a queue item handed out twice, a step fired twice or a webhook that failed twice.
    #[arg(long, requires = "database_url")]
    target: Option<String>,
    /// With --target: the Twilio auth token the instances check signatures with (default:
    /// HOTLINE_TWILIO_AUTH_TOKEN; neither: unsigned, which instances on loopback accept).
    #[arg(long, requires = "target")]
    secret: Option<String>,
    /// With --target: operator accounts to add to the database, log in through the URL and take
    /// queue items with during the run.
    #[arg(long, default_value_t = 4, requires = "target")]
    operators: u32,
    /// With --target: a process (one instance of the deployment) to kill with SIGKILL mid-run.
    #[arg(long, requires = "target")]
    kill_pid: Option<u32>,
    /// With --kill-pid: kill it as this call starts (default: half of --calls).
    #[arg(long, requires = "kill_pid")]
    kill_after: Option<u32>,
}

#[cfg(feature = "tools")]
#[derive(clap::Args)]
struct CallArgs {
    /// The server, as it knows itself (its HOTLINE_PUBLIC_URL).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    url: String,
    /// What the caller does at each question, comma-separated: digits to press, `say:words`
    /// to speak, an empty item for silence. Without it, the caller is asked at the terminal.
    #[arg(long)]
    digits: Option<String>,
    /// twilio or jambonz.
    #[arg(long, default_value = "twilio")]
    dialect: String,
    /// The caller's number (default: a new random one, so each call is a first-time caller).
    #[arg(long)]
    from: Option<String>,
    /// The Twilio auth token or jambonz secret to sign with (default: from the environment).
    #[arg(long)]
    secret: Option<String>,
    /// Play the provider of a call the hotline placed instead: the voice URL it was given
    /// (Twilio's `Url`, jambonz's `call_hook`), answered as the called party (`--from`).
    #[arg(long)]
    answer: Option<String>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input (first line).
    Add {
        /// Login name.
        name: String,
        /// operator, dispatcher, supervisor or admin.
        #[arg(long)]
        role: Role,
        /// Where escalations that notify the user's role (`role:dispatcher` in a policy) reach them.
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Settlements: a CSV with the header name,type,district,postcode.
    Settlements {
        /// The CSV file.
        file: PathBuf,
    },
    /// Planned outages: postcode,settlement,starts_at,ends_at,streets,reason (ISO 8601 times;
    /// without an offset they are in HOTLINE_TIMEZONE).
    PlannedOutages {
        /// The CSV file.
        file: PathBuf,
    },
    /// Connection applications: number,applicant,status,updated_at.
    Applications {
        /// The CSV file.
        file: PathBuf,
    },
}

impl clap::builder::ValueParserFactory for Role {
    type Parser = clap::builder::ValueParser;
    fn value_parser() -> Self::Parser {
        clap::builder::ValueParser::new(|s: &str| s.parse::<Role>())
    }
}

/// Why a command failed: settings are the operator's to fix (exit 2), the rest exit 1.
enum Failure {
    Config(String),
    Run(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure::Run(e.into())
    }
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("hotline: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(execute(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Config(message)) => {
            eprintln!("hotline: configuration error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Run(e)) => {
            eprintln!("hotline: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn settings() -> Result<Settings, Failure> {
    Settings::load().map_err(|e| Failure::Config(e.to_string()))
}

async fn execute(command: Command) -> Result<(), Failure> {
    match command {
        Command::Serve => serve().await,
        Command::Migrate => {
            let settings = settings()?;
            Store::open(settings.database_url.expose()).await?;
            println!("database is up to date");
            Ok(())
        }
        Command::User { command: UserCommand::Add { name, role, email } } => {
            let settings = settings()?;
            if email.as_deref().is_some_and(|e| !e.contains('@') || e.contains(char::is_whitespace)) {
                return Err(anyhow::anyhow!("--email: '{}' is not an e-mail address", email.unwrap_or_default()).into());
            }
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.lines().next().unwrap_or("").to_string();
            let store = Store::open(settings.database_url.expose()).await?;
            let user = auth::add_user(&store, &name, &password, role, Clock::system().now()).await?;
            if let Some(email) = &email {
                store.set_user_email(&user.username, email).await?;
            }
            println!("added {} ({})", user.username, user.role);
            Ok(())
        }
        Command::Check { dir } => {
            // The folder `serve` would read: HOTLINE_SCRIPTS_DIR from the environment or hotline.toml.
            let dir = match dir {
                Some(dir) => dir,
                None => settings()?.scripts_dir.unwrap_or_else(|| PathBuf::from("ivr-scripts")),
            };
            let scripts = match crate::ivr::load_dir(&dir) {
                Ok(flow) => {
                    println!("{}: {} nodes, all reachable, no problems", dir.display(), flow.nodes.len());
                    // The time budgets and the ways out for a silent caller (SPEC §4a).
                    let report = crate::ivr::budget::measure(&flow);
                    print!("{report}");
                    if report.passed() {
                        Ok(())
                    } else {
                        println!("{}", crate::ivr::Problems(report.failures.clone()));
                        Err(Failure::Run(anyhow::anyhow!("{} problem(s) in {}", report.failures.len(), dir.display())))
                    }
                }
                Err(problems) => {
                    println!("{problems}");
                    Err(Failure::Run(anyhow::anyhow!("{} problem(s) in {}", problems.0.len(), dir.display())))
                }
            };
            // The reception's texts beside the scripts, when the folder has them (SPEC §7).
            let reception = dir.join(crate::reception::content::SUBFOLDER);
            if reception.is_dir() {
                if let Err(problems) = crate::reception::Content::load_dir(&reception) {
                    println!("{}", problems.join("\n"));
                    let count = problems.len();
                    return Err(Failure::Run(anyhow::anyhow!("{count} problem(s) in {}", reception.display())));
                }
                println!("{}: the reception texts have no problems", reception.display());
            }
            scripts
        }
        #[cfg(feature = "tools")]
        Command::Call(args) => {
            let from = args.from.unwrap_or_else(|| format!("+7910{:07}", rand::random::<u32>() % 10_000_000));
            crate::tools::simulator::cli::run(args.url, args.digits, args.dialect, from, args.secret, args.answer)
                .await
                .map_err(Failure::Run)
        }
        #[cfg(feature = "tools")]
        Command::Storm(args) => crate::tools::storm::run(crate::tools::storm::Options {
            calls: args.calls as usize,
            concurrency: args.concurrency as usize,
            rate: args.rate,
            runs: args.runs as usize,
            database_url: args.database_url,
            ceiling: !args.no_ceiling,
            half_rate: !args.no_half_rate,
            target: args.target.map(|url| crate::tools::storm::Target {
                url,
                secret: args
                    .secret
                    .or_else(|| std::env::var("HOTLINE_TWILIO_AUTH_TOKEN").ok().filter(|s| !s.is_empty())),
                operators: args.operators as usize,
                kill: args.kill_pid.map(|pid| (pid, args.kill_after.map_or(args.calls as usize / 2, |n| n as usize))),
            }),
        })
        .await
        .map_err(Failure::Run),
        #[cfg(feature = "tools")]
        Command::StormCeiling { listen, commit_to } => {
            crate::tools::storm::serve_ceiling(listen, commit_to).await.map_err(Failure::Run)
        }
        Command::Prune { vacuum } => {
            let settings = settings()?;
            let store = Store::open(settings.database_url.expose()).await?;
            let size_before = store.database_size().await?;
            let pruned = crate::lifecycle::apply(&store, &settings.retention, Clock::system().now()).await?;
            println!("{}", crate::lifecycle::PruneReport(&pruned));
            if vacuum {
                store.vacuum().await?;
                let size_after = store.database_size().await?;
                println!(
                    "database size: {} before, {} after vacuum ({size_before} -> {size_after} bytes)",
                    crate::lifecycle::human_size(size_before),
                    crate::lifecycle::human_size(size_after)
                );
            } else {
                println!(
                    "database size: {} ({size_before} bytes); --vacuum gives the space of what was removed back",
                    crate::lifecycle::human_size(size_before)
                );
            }
            store.close().await;
            Ok(())
        }
        Command::Erase { phone } => {
            let settings = settings()?;
            let phone = crate::phone::PhoneNumber::parse(&phone)?;
            let store = Store::open(settings.database_url.expose()).await?;
            // Who ran it, for the audit: the account at the console, as the operating system knows it.
            let actor = format!("cli:{}", std::env::var("USER").unwrap_or_else(|_| "unknown".into()));
            let erasure = crate::lifecycle::erase(&store, &phone, &actor, Clock::system().now()).await?;
            print!("{erasure}");
            store.close().await;
            Ok(())
        }
        Command::Import { what: ImportCommand::PlannedOutages { file } } => {
            let settings = settings()?;
            let text = read_file(&file)?;
            let store = Store::open(settings.database_url.expose()).await?;
            let settlements = store.find_all_settlements().await?;
            let outages = crate::outages::parse_planned_csv(&text, &settlements, &settings.timezone)
                .map_err(|errors| bad_rows(&file, &errors))?;
            let count = store.add_planned_outages(&outages, Clock::system().now()).await?.len();
            println!("imported {count} planned outages");
            Ok(())
        }
        Command::Import { what: ImportCommand::Applications { file } } => {
            let settings = settings()?;
            let text = read_file(&file)?;
            let rows =
                crate::connection::parse_csv(&text, &settings.timezone).map_err(|errors| bad_rows(&file, &errors))?;
            let store = Store::open(settings.database_url.expose()).await?;
            let count = store.upsert_applications(&rows, false).await?;
            println!("imported {count} connection applications");
            Ok(())
        }
        Command::Import { what: ImportCommand::Settlements { file } } => {
            let settings = settings()?;
            let text = read_file(&file)?;
            let rows = settlements::parse_csv(&text).map_err(|errors| bad_rows(&file, &errors))?;
            let store = Store::open(settings.database_url.expose()).await?;
            let count = store.upsert_settlements(&rows).await?;
            println!("imported {count} settlements");
            Ok(())
        }
    }
}

fn read_file(file: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))
}

/// Every bad row as FILE:LINE: problem, and that nothing was imported.
fn bad_rows(file: &std::path::Path, errors: &[crate::error::LineError]) -> Failure {
    let lines: Vec<String> = errors.iter().map(|e| format!("{}:{}: {}", file.display(), e.line, e.message)).collect();
    Failure::Run(anyhow::anyhow!("{} bad row(s), nothing imported:\n{}", errors.len(), lines.join("\n")))
}

async fn serve() -> Result<(), Failure> {
    let settings = settings()?;
    settings.check_exposure(settings.listen).map_err(|e| Failure::Config(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {} (HOTLINE_LISTEN): {e}", settings.listen))?;
    crate::app::run(settings, listener, shutdown_signal()?).await?;
    Ok(())
}

/// Completes on SIGINT or SIGTERM, so `serve` stops taking requests and finishes those in
/// flight. The handlers are installed at once, before serving starts, so an early signal is
/// never met by the default action (which would kill the process mid-request).
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received; finishing requests in flight");
    })
}
