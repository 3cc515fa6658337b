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
    /// Import reference data from a CSV file; a file with any bad row imports nothing.
    Import {
        #[command(subcommand)]
        what: ImportCommand,
    },
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
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Settlements: a CSV with the header name,type,district,postcode.
    Settlements {
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
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
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
        Command::User {
            command: UserCommand::Add { name, role },
        } => {
            let settings = settings()?;
            let mut password = String::new();
            std::io::stdin().read_to_string(&mut password)?;
            let password = password.lines().next().unwrap_or("").to_string();
            let store = Store::open(settings.database_url.expose()).await?;
            let user =
                auth::add_user(&store, &name, &password, role, Clock::system().now()).await?;
            println!("added {} ({})", user.username, user.role);
            Ok(())
        }
        Command::Import {
            what: ImportCommand::Settlements { file },
        } => {
            let settings = settings()?;
            let text = std::fs::read_to_string(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            let rows = settlements::parse_csv(&text).map_err(|errors| {
                let lines: Vec<String> = errors
                    .iter()
                    .map(|e| format!("{}:{}: {}", file.display(), e.line, e.message))
                    .collect();
                anyhow::anyhow!(
                    "{} bad row(s), nothing imported:\n{}",
                    errors.len(),
                    lines.join("\n")
                )
            })?;
            let store = Store::open(settings.database_url.expose()).await?;
            let count = store.upsert_settlements(&rows).await?;
            println!("imported {count} settlements");
            Ok(())
        }
    }
}

async fn serve() -> Result<(), Failure> {
    let settings = settings()?;
    settings
        .check_exposure(settings.listen)
        .map_err(|e| Failure::Config(e.to_string()))?;
    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .map_err(|e| {
            anyhow::anyhow!("cannot listen on {} (HOTLINE_LISTEN): {e}", settings.listen)
        })?;
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
