//! The `sms-tasks` command line: `serve` and `migrate`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::db::Database;
use crate::settings::Settings;
use crate::startup::Application;
use crate::store::credentials;
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
    /// Fill the database with realistic tasks for one domain, in bulk (for load tests).
    Seed {
        /// The domain (tenant) that owns the tasks.
        #[arg(long)]
        domain: String,
        /// How many tasks to add.
        #[arg(long)]
        tasks: usize,
        /// Seed of the generator: the same seed gives the same names, states and trees.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Manage access keys (AK/SK) for SDK request signing.
    Credentials {
        #[command(subcommand)]
        action: CredentialAction,
    },
    /// Manage `X-Auth-Token` tokens.
    Tokens {
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum CredentialAction {
    /// Create an AK/SK pair for a domain; the SK is printed this once only.
    Create {
        #[arg(long)]
        domain: String,
    },
    /// List access keys (never their secrets).
    List,
    /// Revoke an access key.
    Revoke { access_key: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token for a domain; it is printed this once only (only its hash is stored).
    Create {
        #[arg(long)]
        domain: String,
    },
    /// List tokens by id (never the tokens).
    List,
    /// Revoke a token by its id.
    Revoke { id: uuid::Uuid },
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
        Command::Seed { domain, tasks, seed } => seed_tasks(&settings, &database, &domain, tasks, seed).await,
        Command::Credentials { action } => manage_access_keys(&settings, &database, action).await,
        Command::Tokens { action } => manage_tokens(&settings, &database, action).await,
    };
    tokio::task::spawn_blocking(move || database.shutdown()).await?;
    outcome
}

async fn serve(settings: &Settings, database: &Database) -> anyhow::Result<()> {
    crate::db::migrate(&database.url).await?;
    let pool = database.pool(&settings.database).await?;
    let app = Application::build(settings, pool).await?;
    tracing::info!(address = %app.address(), "serving the SMS v3 task API");
    app.run_until_stopped().await?;
    Ok(())
}

async fn manage_access_keys(settings: &Settings, database: &Database, action: CredentialAction) -> anyhow::Result<()> {
    crate::db::migrate(&database.url).await?;
    let pool = database.pool(&settings.database).await?;
    match action {
        CredentialAction::Create { domain } => {
            let (access_key, secret_key) = credentials::create_access_key(&pool, &domain).await?;
            println!("access_key: {access_key}\nsecret_key: {secret_key}\ndomain_id:  {domain}");
            eprintln!("Keep the secret key now: it is not shown again.");
        }
        CredentialAction::List => {
            println!("{:<24} {:<36} {:<26} revoked", "access_key", "domain_id", "created");
            for (access_key, domain, created, revoked) in credentials::list_access_keys(&pool).await? {
                println!("{access_key:<24} {domain:<36} {created:<26} {}", revoked.unwrap_or_else(|| "-".into()));
            }
        }
        CredentialAction::Revoke { access_key } => {
            if !credentials::revoke_access_key(&pool, &access_key).await? {
                anyhow::bail!("no active access key {access_key}");
            }
            println!("revoked {access_key}");
        }
    }
    Ok(())
}

async fn manage_tokens(settings: &Settings, database: &Database, action: TokenAction) -> anyhow::Result<()> {
    crate::db::migrate(&database.url).await?;
    let pool = database.pool(&settings.database).await?;
    match action {
        TokenAction::Create { domain } => {
            let (id, token) = credentials::create_token(&pool, &domain).await?;
            println!("id:        {id}\ntoken:     {token}\ndomain_id: {domain}");
            eprintln!("Keep the token now: only its hash is stored.");
        }
        TokenAction::List => {
            println!("{:<36} {:<36} {:<26} revoked", "id", "domain_id", "created");
            for (id, domain, created, revoked) in credentials::list_tokens(&pool).await? {
                println!("{id:<36} {domain:<36} {created:<26} {}", revoked.unwrap_or_else(|| "-".into()));
            }
        }
        TokenAction::Revoke { id } => {
            if !credentials::revoke_token(&pool, id).await? {
                anyhow::bail!("no active token {id}");
            }
            println!("revoked {id}");
        }
    }
    Ok(())
}

async fn seed_tasks(
    settings: &Settings,
    database: &Database,
    domain: &str,
    tasks: usize,
    seed: u64,
) -> anyhow::Result<()> {
    crate::db::migrate(&database.url).await?;
    let pool = database.pool(&settings.database).await?;
    let report = crate::seed::seed(&pool, domain, tasks, seed, true).await?;
    let secs = report.elapsed.as_secs_f64();
    println!(
        "seeded {} tasks for domain {domain} in {secs:.1} s ({:.0} tasks/s), then VACUUM ANALYZE in {:.1} s",
        report.tasks,
        report.tasks as f64 / secs.max(1e-9),
        report.vacuum.as_secs_f64()
    );
    Ok(())
}
