//! The `sms-tasks` command line: `serve` and `migrate`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::db::Database;
use crate::settings::Settings;
use crate::startup::Application;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(name = "sms-tasks", version, about = "The SMS v3 task API over PostgreSQL")]
pub struct Cli {
    /// A settings file layered over the built-in defaults (config/default.toml).
    #[arg(long, global = true, env = "SMS_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations and serve the API until SIGTERM / Ctrl-C.
    Serve {
        /// Listen address, overriding `server.listen`.
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
    },
    /// Apply the database migrations and exit.
    Migrate,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("sms-tasks: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err:#}");
            eprintln!("sms-tasks: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut settings = Settings::load(cli.config.as_deref())?;
    if let Command::Serve { listen: Some(listen) } = &cli.command {
        settings.server.listen = listen.clone();
        settings.validate()?;
    }
    telemetry::init(&settings.log);
    let database = Database::locate(&settings.database).await?;
    let outcome = match cli.command {
        Command::Migrate => crate::db::migrate(&database.url).await,
        Command::Serve { .. } => serve(&settings, &database).await,
    };
    tokio::task::spawn_blocking(move || database.shutdown()).await?;
    outcome
}

async fn serve(settings: &Settings, database: &Database) -> anyhow::Result<()> {
    crate::db::migrate(&database.url).await?;
    let pool = database.pool(&settings.database).await?;
    let app = Application::build(settings, pool)?;
    tracing::info!(address = %app.address(), "serving the SMS v3 task API");
    app.run_until_stopped().await?;
    Ok(())
}
