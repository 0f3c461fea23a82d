//! A private PostgreSQL cluster run from the installed binaries, for when no database URL is
//! configured and the default server does not answer. Used by `serve` and the other
//! subcommands, the test suite and the benchmark.
//!
//! The cluster lives in a directory of its own (created on first use, reused afterwards) and
//! listens on 127.0.0.1 on a free port and on a socket inside that directory, so it never
//! touches another server's data. PostgreSQL refuses to run as root, so when we are root the
//! cluster runs as the `postgres` user (or `nobody`).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use nix::sys::signal::{kill, Signal};
use nix::unistd::{Pid, Uid, User};

/// A running private cluster. Stopping it is explicit ([`LocalCluster::stop`]); a cluster this
/// process started also stops when the process dies (parent-death signal).
pub struct LocalCluster {
    pid: Pid,
    port: u16,
    /// Whether this process started it (and so stops it).
    owned: bool,
}

impl LocalCluster {
    /// Starts the cluster in `dir` (running `initdb` first when `dir` holds none), or attaches
    /// to the one already running there.
    pub fn start(dir: &Path) -> anyhow::Result<LocalCluster> {
        Self::start_with_port(dir, None)
    }

    /// [`LocalCluster::start`] on a given port, say the one it had before it was stopped (a
    /// restart that its clients see as the same server).
    pub fn start_on(dir: &Path, port: u16) -> anyhow::Result<LocalCluster> {
        Self::start_with_port(dir, Some(port))
    }

    fn start_with_port(dir: &Path, port: Option<u16>) -> anyhow::Result<LocalCluster> {
        let dir = absolute(dir)?;
        let bin = binaries_dir()?;
        let run_as = unprivileged_user()?;
        if let Some(running) = Self::attach(&dir)? {
            return Ok(running);
        }
        if !dir.join("PG_VERSION").exists() {
            init(&bin, &dir, run_as.as_ref())?;
        }
        let port = match port {
            Some(port) => port,
            None => free_port()?,
        };
        let pid = spawn_postmaster(&bin, &dir, port, run_as.as_ref())?;
        let cluster = LocalCluster { pid, port, owned: true };
        cluster.wait_until_ready(&dir)?;
        tracing::info!(dir = %dir.display(), port, "started a private PostgreSQL cluster");
        Ok(cluster)
    }

    /// Starts a hot standby of the cluster on `primary_port` in `dir`: a base backup (`pg_basebackup -R`, which
    /// writes the standby's connection to the primary and `standby.signal`), then the server,
    /// which streams and replays the primary's WAL and answers read-only queries.
    pub fn start_standby(primary_port: u16, dir: &Path) -> anyhow::Result<LocalCluster> {
        let dir = absolute(dir)?;
        let bin = binaries_dir()?;
        let run_as = unprivileged_user()?;
        if !dir.join("PG_VERSION").exists() {
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            // pg_basebackup keeps an existing directory's mode, and the server wants 0700.
            std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
            if let Some(user) = &run_as {
                nix::unistd::chown(&dir, Some(user.uid), Some(user.gid))
                    .with_context(|| format!("cannot hand {} to user {}", dir.display(), user.name))?;
            }
            let mut command = Command::new(bin.join("pg_basebackup"));
            command
                .arg("-D")
                .arg(&dir)
                .args(["-R", "-X", "stream", "-c", "fast", "-h", "127.0.0.1", "-U", "postgres", "--no-sync", "-p"])
                .arg(primary_port.to_string())
                .stdout(Stdio::null());
            as_user(&mut command, run_as.as_ref());
            let out = command.output().context("cannot run pg_basebackup")?;
            if !out.status.success() {
                bail!("pg_basebackup failed into {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
            }
        }
        let port = free_port()?;
        let pid = spawn_postmaster(&bin, &dir, port, run_as.as_ref())?;
        let cluster = LocalCluster { pid, port, owned: true };
        cluster.wait_until_ready(&dir)?;
        Ok(cluster)
    }

    /// Whether the installed binaries can run a primary and a standby (`initdb`, `postgres`,
    /// `pg_basebackup`); the reason when not.
    pub fn replication_available() -> anyhow::Result<()> {
        let bin = binaries_dir()?;
        for tool in ["initdb", "postgres", "pg_basebackup"] {
            if !bin.join(tool).exists() {
                bail!("{} is missing", bin.join(tool).display());
            }
        }
        Ok(())
    }

    /// The cluster already running in `dir`, from its `postmaster.pid` (line 1: pid, line 4:
    /// port), if that process is alive.
    fn attach(dir: &Path) -> anyhow::Result<Option<LocalCluster>> {
        let Ok(pidfile) = std::fs::read_to_string(dir.join("postmaster.pid")) else {
            return Ok(None);
        };
        let lines: Vec<&str> = pidfile.lines().collect();
        let (Some(pid), Some(port)) = (
            lines.first().and_then(|l| l.trim().parse::<i32>().ok()),
            lines.get(3).and_then(|l| l.trim().parse::<u16>().ok()),
        ) else {
            return Ok(None);
        };
        if kill(Pid::from_raw(pid), None).is_err() {
            return Ok(None); // stale: PostgreSQL itself replaces it on start
        }
        let cluster = LocalCluster { pid: Pid::from_raw(pid), port, owned: false };
        cluster.wait_until_ready(dir)?;
        Ok(Some(cluster))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// A URL for `database` on this cluster, as the trusted superuser `postgres`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// Stops the cluster if this process started it: a fast shutdown, waited for.
    pub fn stop(self) {
        if !self.owned {
            return;
        }
        if kill(self.pid, Signal::SIGINT).is_ok() {
            let deadline = Instant::now() + Duration::from_secs(30);
            while kill(self.pid, None).is_ok() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        tracing::info!(port = self.port, "stopped the private PostgreSQL cluster");
    }

    fn wait_until_ready(&self, dir: &Path) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            // Line 8 is the server's status: `ready`, or `standby` for a hot standby.
            let ready = std::fs::read_to_string(dir.join("postmaster.pid"))
                .map(|s| matches!(s.lines().nth(7).map(str::trim), Some("ready" | "standby")))
                .unwrap_or(false);
            if ready && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if kill(self.pid, None).is_err() {
                bail!(
                    "the private PostgreSQL cluster in {} exited at start; see {}",
                    dir.display(),
                    dir.join("server.log").display()
                );
            }
            if Instant::now() > deadline {
                bail!("the private PostgreSQL cluster in {} did not become ready in 60 s", dir.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn absolute(dir: &Path) -> anyhow::Result<PathBuf> {
    Ok(if dir.is_absolute() { dir.to_path_buf() } else { std::env::current_dir()?.join(dir) })
}

/// Where `initdb` and `postgres` are: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/<version>/bin` (Debian and Ubuntu keep them off the PATH).
fn binaries_dir() -> anyhow::Result<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, bin)| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .ok_or_else(|| anyhow!("no PostgreSQL server binaries found (install the postgresql package)"))
}

/// PostgreSQL will not run as root: pick an unprivileged user to run it as.
fn unprivileged_user() -> anyhow::Result<Option<User>> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    for name in ["postgres", "nobody"] {
        if let Some(user) = User::from_name(name)? {
            return Ok(Some(user));
        }
    }
    bail!("running as root and neither a `postgres` nor a `nobody` user exists to run PostgreSQL as")
}

fn as_user(command: &mut Command, user: Option<&User>) {
    if let Some(user) = user {
        command.uid(user.uid.as_raw()).gid(user.gid.as_raw()).env("HOME", &user.dir);
    }
}

fn init(bin: &Path, dir: &Path, user: Option<&User>) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    if let Some(user) = user {
        nix::unistd::chown(dir, Some(user.uid), Some(user.gid))
            .with_context(|| format!("cannot hand {} to user {}", dir.display(), user.name))?;
    }
    let mut command = Command::new(bin.join("initdb"));
    command
        .args(["-D"])
        .arg(dir)
        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        .stdout(Stdio::null());
    as_user(&mut command, user);
    let out = command.output().context("cannot run initdb")?;
    if !out.status.success() {
        bail!("initdb failed in {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port())
}

/// Starts `postgres` from a thread that lives as long as the process, so that the
/// parent-death signal (which Linux ties to the spawning thread) fires only when the process
/// ends. Returns the postmaster's pid.
fn spawn_postmaster(bin: &Path, dir: &Path, port: u16, user: Option<&User>) -> anyhow::Result<Pid> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("server.log"))
        .with_context(|| format!("cannot open {}", dir.join("server.log").display()))?;
    let mut command = Command::new(bin.join("postgres"));
    command
        .arg("-D")
        .arg(dir)
        .args(["-p", &port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c"])
        .arg(format!("unix_socket_directories={}", dir.display()))
        .args(["-c", "max_connections=200"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    as_user(&mut command, user);
    // SAFETY: prctl is async-signal-safe; it only asks the kernel to send SIGINT (fast shutdown)
    // to the child when its parent thread exits.
    unsafe {
        command.pre_exec(|| nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(std::io::Error::from));
    }
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new().name("postgres-keeper".into()).spawn(move || match command.spawn() {
        Ok(mut child) => {
            let _ = sender.send(Ok(child.id()));
            let _ = child.wait();
            // Stay alive: the parent-death signal must not fire before the process ends.
            loop {
                std::thread::park();
            }
        }
        Err(err) => {
            let _ = sender.send(Err(err));
        }
    })?;
    let pid = receiver.recv()?.context("cannot start postgres")?;
    Ok(Pid::from_raw(pid as i32))
}
