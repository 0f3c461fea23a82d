//! The `sms-tasks` command line: `serve`, `migrate`, `seed`, `credentials`, `tokens`,
//! `healthcheck`, and `agent` (which runs the separate `sms-tasks-agent` binary, like git's
//! external subcommands).

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
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
    /// Exit 0 when a running service's `GET /health/ready` answers 200, else 1 (for container
    /// health checks; needs no database and no curl).
    Healthcheck {
        /// The URL to probe; default: /health/ready on `server.listen` (0.0.0.0 probed as 127.0.0.1).
        #[arg(long, value_name = "URL")]
        url: Option<String>,
        /// Seconds the whole exchange may take.
        #[arg(long, default_value_t = 3, value_name = "SECS")]
        timeout_secs: u64,
    },
    /// Print the OpenAPI document (as served at `GET /openapi.json`); needs no database.
    ///
    /// `sms-tasks openapi > docs/openapi.json` regenerates the repository's copy.
    Openapi,
    /// Play simulated source-server agents against a running service (`sms-tasks agent --help`).
    ///
    /// Runs the `sms-tasks-agent` binary found next to this one, else on PATH, with the
    /// arguments given.
    #[command(disable_help_flag = true, disable_version_flag = true)]
    Agent {
        /// The agent's options, passed through as they are.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0.., value_name = "ARGS")]
        args: Vec<OsString>,
    },
}

/// The binary behind `sms-tasks agent`.
pub const AGENT_BINARY: &str = "sms-tasks-agent";

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
    if let Command::Agent { args } = cli.command {
        return run_agent(&args);
    }
    if let Command::Openapi = cli.command {
        print!("{}", crate::openapi::document_json());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("sms-tasks: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Healthcheck { url, timeout_secs } = &cli.command {
        return runtime.block_on(healthcheck(cli.config.as_deref(), url.as_deref(), *timeout_secs));
    }
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
        Command::Healthcheck { .. } => unreachable!("`healthcheck` runs before the database is located"),
        Command::Agent { .. } | Command::Openapi => unreachable!("runs before the settings are loaded"),
    };
    tokio::task::spawn_blocking(move || database.shutdown()).await?;
    outcome
}

async fn serve(settings: &Settings, database: &Database) -> anyhow::Result<()> {
    crate::db::migrate(&database.url).await?;
    let pool = database.pool(&settings.database).await?;
    let app = Application::build(settings, pool.clone()).await?;
    tracing::info!(address = %app.address(), "serving the SMS v3 task API");
    if let Some(address) = app.metrics_address() {
        tracing::info!(address = %address, "serving Prometheus metrics at /metrics");
    }
    app.run_until_stopped().await?;
    // Only now, with every accepted request answered (or `shutdown_timeout_secs` spent), may
    // the connections go; then the private cluster, if any, stops (in `run`).
    pool.close().await;
    tracing::info!("stopped: every accepted request was answered and the database pool is closed");
    Ok(())
}

/// `sms-tasks healthcheck`: settings are read only when no `--url` is given (for `server.listen`).
async fn healthcheck(config: Option<&Path>, url: Option<&str>, timeout_secs: u64) -> ExitCode {
    let url = match url {
        Some(url) => url.to_string(),
        None => match Settings::load(config).and_then(|s| s.listen_addr()) {
            Ok(listen) => crate::healthcheck::ready_url(listen),
            Err(err) => {
                eprintln!("sms-tasks healthcheck: {err:#}");
                return ExitCode::FAILURE;
            }
        },
    };
    match crate::healthcheck::check(&url, std::time::Duration::from_secs(timeout_secs)).await {
        Ok(()) => {
            println!("ready: {url} answered 200");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("sms-tasks healthcheck: not ready: {url}: {err:#}");
            ExitCode::FAILURE
        }
    }
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
    // Straight to the server (the load ends with VACUUM, which no transaction pooler can run),
    // and without the statement timeout: its COPY and VACUUM run longer than a request may.
    let pool = database.direct_pool(&settings.database).await?;
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

/// Runs `sms-tasks-agent` with `args` in place of this process (on Unix; elsewhere as a child
/// whose exit code is passed on). Needs no settings and no database.
fn run_agent(args: &[OsString]) -> ExitCode {
    let exe = std::env::current_exe().ok();
    let beside = exe.as_deref().and_then(Path::parent);
    let Some(binary) = locate_agent(beside, std::env::var_os("PATH").as_deref()) else {
        let here = beside.map_or_else(|| "this executable".to_string(), |dir| dir.display().to_string());
        eprintln!(
            "sms-tasks: 'agent' needs the {AGENT_BINARY} binary, found neither in {here} nor on PATH.\n\
             Build it with `cargo build --release -p sms-tasks-agent` (it lands next to sms-tasks), \
             or install it with `cargo install --path agent`."
        );
        return ExitCode::FAILURE;
    };
    let mut command = std::process::Command::new(&binary);
    command.args(args);
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let err = command.exec();
        eprintln!("sms-tasks: cannot run {}: {err}", binary.display());
        ExitCode::FAILURE
    }
    #[cfg(not(unix))]
    match command.status() {
        Ok(status) => ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(err) => {
            eprintln!("sms-tasks: cannot run {}: {err}", binary.display());
            ExitCode::FAILURE
        }
    }
}

/// `sms-tasks-agent` in `beside` (the directory of the running executable), else in the first
/// directory of `path` (a `PATH` value) that has it.
pub fn locate_agent(beside: Option<&Path>, path: Option<&OsStr>) -> Option<PathBuf> {
    let file = format!("{AGENT_BINARY}{}", std::env::consts::EXE_SUFFIX);
    let candidates = beside.map(Path::to_path_buf).into_iter().chain(path.into_iter().flat_map(std::env::split_paths));
    candidates.map(|dir| dir.join(&file)).find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(metadata) = std::fs::metadata(path) else { return false };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        metadata.is_file() && metadata.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    metadata.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Command {
        Cli::try_parse_from(args).expect("parses").command
    }

    #[test]
    fn agent_arguments_pass_through_untouched() {
        let Command::Agent { args } =
            parse(&["sms-tasks", "agent", "--token", "t", "--help", "--version", "--config", "x", "-v"])
        else {
            panic!("not the agent")
        };
        assert_eq!(args, ["--token", "t", "--help", "--version", "--config", "x", "-v"]);
        assert!(matches!(parse(&["sms-tasks", "agent"]), Command::Agent { args } if args.is_empty()));
    }

    #[test]
    fn the_agent_is_found_beside_then_on_path() {
        let root = std::env::temp_dir().join(format!("sms-tasks-locate-{}", std::process::id()));
        let (beside, on_path, empty) = (root.join("bin"), root.join("path"), root.join("empty"));
        for dir in [&beside, &on_path, &empty] {
            std::fs::create_dir_all(dir).unwrap();
        }
        let file = format!("{AGENT_BINARY}{}", std::env::consts::EXE_SUFFIX);
        let install = |dir: &Path| {
            std::fs::write(dir.join(&file), "#!/bin/sh\n").unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(dir.join(&file), std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        };
        let path = std::env::join_paths([&empty, &on_path]).unwrap();
        assert_eq!(locate_agent(Some(&beside), Some(&path)), None);
        install(&on_path);
        assert_eq!(locate_agent(Some(&beside), Some(&path)), Some(on_path.join(&file)));
        install(&beside);
        assert_eq!(locate_agent(Some(&beside), Some(&path)), Some(beside.join(&file)));
        assert_eq!(locate_agent(None, None), None);
        std::fs::remove_dir_all(&root).unwrap();
    }
}
