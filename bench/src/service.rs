//! The `sms-tasks` binary under test: building it, seeding with it, and running `serve` as a
//! child process whose memory we can read.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use tokio::process::{Child, Command};

/// Builds the release service binary next to this one (the workspace has one target
/// directory; a no-op when it is up to date), so the benchmark never measures a stale build.
pub fn build() -> anyhow::Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("bench: cargo build --release -p sms-tasks --bin sms-tasks");
    let status = std::process::Command::new(&cargo)
        .args(["build", "--release", "-p", "sms-tasks", "--bin", "sms-tasks"])
        .current_dir(crate::workspace_root())
        .status()
        .with_context(|| format!("cannot run {cargo}"))?;
    if !status.success() {
        bail!("cargo build --release -p sms-tasks --bin sms-tasks failed ({status})");
    }
    let exe = std::env::current_exe()?;
    let binary = exe.parent().context("the bench binary has no directory")?.join("sms-tasks");
    if !binary.exists() {
        bail!("{} is missing: run `cargo build --release` first", binary.display());
    }
    Ok(binary)
}

/// The environment of every `sms-tasks` child: the bench database, no private-cluster
/// fallback, quiet logs, and none of the caller's own service settings.
fn service_command(binary: &Path, database_url: &str) -> Command {
    let mut command = Command::new(binary);
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("SMS__") || key_text == "SMS_CONFIG" || key_text == "RUST_LOG" {
            command.env_remove(&key);
        }
    }
    command
        .env("DATABASE_URL", database_url)
        .env("SMS__DATABASE__LOCAL_CLUSTER", "false")
        .env("SMS__LOG__LEVEL", "warn")
        .kill_on_drop(true);
    command
}

/// `sms-tasks seed --domain D --tasks N --seed 1` (it migrates the database first).
pub async fn seed(binary: &Path, database_url: &str, domain: &str, tasks: usize) -> anyhow::Result<()> {
    let status = service_command(binary, database_url)
        .args(["seed", "--domain", domain, "--tasks", &tasks.to_string(), "--seed", "1"])
        .stdin(Stdio::null())
        // Its report goes with the bench's progress (stderr): stdout is for the tables.
        .stdout(std::io::stderr())
        .status()
        .await
        .context("cannot run sms-tasks seed")?;
    if !status.success() {
        bail!("sms-tasks seed failed ({status})");
    }
    Ok(())
}

/// A running `sms-tasks serve`.
pub struct Service {
    child: Child,
    pid: u32,
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    log: PathBuf,
}

impl Service {
    /// Starts the service on a free port with `config` (the bench token), and waits until
    /// `/health/ready` answers.
    pub async fn start(binary: &Path, database_url: &str, config: &Path, log: &Path) -> anyhow::Result<Service> {
        let port = free_port()?;
        let log_file = std::fs::File::create(log)?;
        let child = service_command(binary, database_url)
            .arg("--config")
            .arg(config)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .context("cannot start sms-tasks serve")?;
        let pid = child.id().context("the service exited at once")?;
        let mut service = Service { child, pid, base_url: format!("http://127.0.0.1:{port}"), log: log.to_path_buf() };
        service.wait_ready(Duration::from_secs(120)).await?;
        Ok(service)
    }

    async fn wait_ready(&mut self, limit: Duration) -> anyhow::Result<()> {
        let client = reqwest::Client::new();
        let url = format!("{}/health/ready", self.base_url);
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!("sms-tasks serve exited ({status}) before it was ready:\n{}", self.log_tail());
            }
            if let Ok(response) = client.get(&url).send().await {
                if response.status().is_success() {
                    return Ok(());
                }
            }
            if started.elapsed() > limit {
                bail!("sms-tasks serve was not ready after {limit:?}:\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The service's peak resident set size so far (`VmHWM`), in KiB.
    pub fn peak_rss_kib(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/<pid>/status")
    }

    /// SIGTERM, then up to 30 s for a graceful exit, then SIGKILL.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        let pid = nix::unistd::Pid::from_raw(self.pid as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).context("cannot signal the service")?;
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                let status = status?;
                if !status.success() {
                    eprintln!("bench: sms-tasks serve exited with {status}:\n{}", self.log_tail());
                }
            }
            Err(_) => {
                eprintln!("bench: sms-tasks serve ignored SIGTERM for 30 s; killing it");
                self.child.kill().await?;
            }
        }
        Ok(())
    }

    /// The end of the service's log, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

/// A port nobody listens on now (the kernel's pick for port 0).
fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}
