//! Starting the compiled `sms-tasks` binary: which database `serve` uses, and how it fails.
//!
//! These run the real program rather than the library, each in an empty working directory of
//! its own, because what they check belongs to the process: its exit status, its messages, and
//! what it leaves on disk (a private cluster would appear as `.data/`). The children get no
//! `SMS_*`, `DATABASE_URL` or `RUST_LOG` from the test's environment, only what each test sets.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

use sqlx::Connection;

use crate::helpers::{database_url, drop_database_blocking, server_url, source_body, DOMAIN_A, TOKEN_A};

pub(crate) const BINARY: &str = env!("CARGO_BIN_EXE_sms-tasks");

/// An empty working directory under the target directory, removed when dropped.
pub(crate) struct WorkDir(pub(crate) PathBuf);

impl WorkDir {
    pub(crate) fn new() -> WorkDir {
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("startup-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&path).unwrap();
        WorkDir(path)
    }

    fn entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.0).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect()
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `sms-tasks args…` in `dir`, configured only by `env`.
pub(crate) fn sms_tasks(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BINARY);
    command.args(args).current_dir(dir).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    for (key, _) in std::env::vars_os() {
        if let Some(key) = key.to_str() {
            if key.starts_with("SMS_") || key == "DATABASE_URL" || key == "RUST_LOG" {
                command.env_remove(key);
            }
        }
    }
    command.envs(env.iter().copied());
    command
}

/// A running `sms-tasks` whose stderr lines arrive on a channel (read by a thread, so the pipe
/// never fills). Killed when dropped.
pub(crate) struct Instance {
    child: Child,
    lines: mpsc::Receiver<String>,
    pub(crate) seen: Vec<String>,
}

impl Instance {
    pub(crate) fn spawn(mut command: Command) -> Instance {
        let mut child = command.spawn().expect("sms-tasks starts");
        let stderr = child.stderr.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Instance { child, lines, seen: Vec::new() }
    }

    /// The address `serve` listens on, from its JSON log line, waiting up to `timeout`.
    pub(crate) fn listening_address(&mut self, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(remaining) {
                Ok(line) => {
                    let event: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                    self.seen.push(line);
                    if event["message"] == "serving the SMS v3 task API" {
                        return event["address"].as_str().expect("the address is logged").to_string();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("serve did not listen within {timeout:?}; its log:\n{}", self.seen.join("\n"))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().unwrap();
                    panic!("serve exited ({status}) before listening; its log:\n{}", self.seen.join("\n"))
                }
            }
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Drops a database this test created when the test ends, pass or fail.
pub(crate) struct DropDatabase {
    pub(crate) server: String,
    pub(crate) name: String,
}

impl Drop for DropDatabase {
    fn drop(&mut self) {
        drop_database_blocking(&self.server, &self.name);
    }
}

/// A port nothing listens on: one the system just gave us, released again.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test]
async fn a_configured_database_that_does_not_answer_stops_serve_without_a_private_cluster() {
    let dir = WorkDir::new();
    let port = closed_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/sms_tasks");
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("SMS__DATABASE__START_TIMEOUT_SECS", "3"),
        ("SMS__DATABASE__CONNECT_TIMEOUT_SECS", "1"),
    ];
    let started = Instant::now();
    let mut child = sms_tasks(&dir.0, &["serve", "--listen", "127.0.0.1:0"], &env).spawn().expect("sms-tasks starts");
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("serve still runs after 30 s with a 3 s start timeout");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let elapsed = started.elapsed();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();

    assert!(!status.success(), "serve exited successfully; stderr:\n{stderr}");
    assert!(elapsed >= Duration::from_secs(3), "serve gave up after {elapsed:?}, before its 3 s start timeout");
    assert!(elapsed < Duration::from_secs(15), "serve took {elapsed:?} to give up with a 3 s start timeout");
    assert!(stderr.contains("PostgreSQL does not answer yet; retrying"), "no retry was logged:\n{stderr}");
    assert!(
        stderr.contains(&format!("PostgreSQL at {url} did not answer within 3 s"))
            && stderr.contains("database.url is configured, so no private cluster replaces it"),
        "the final message does not say what failed:\n{stderr}"
    );
    assert!(!stderr.contains("private PostgreSQL cluster"), "a private cluster was started:\n{stderr}");
    assert_eq!(dir.entries(), Vec::<String>::new(), "serve left files in its working directory (.data?)");
}

#[tokio::test]
async fn two_instances_create_a_missing_database_at_once_and_both_become_ready() {
    let server = server_url().await.to_string();
    let name = format!("sms_test_race_{}", uuid::Uuid::new_v4().simple());
    let _cleanup = DropDatabase { server: server.clone(), name: name.clone() };
    let url = database_url(&server, &name);
    let dir = WorkDir::new();
    let env = [
        ("DATABASE_URL", url.as_str()),
        ("SMS__LOG__FORMAT", "json"),
        ("SMS__SERVER__WORKERS", "1"),
        ("SMS__DATABASE__POOL_SIZE", "2"),
    ];

    // Both start before either can have created the database.
    let mut instances: Vec<Instance> =
        (0..2).map(|_| Instance::spawn(sms_tasks(&dir.0, &["serve", "--listen", "127.0.0.1:0"], &env))).collect();
    let client = reqwest::Client::new();
    for (i, instance) in instances.iter_mut().enumerate() {
        // Blocking is fine here: nothing else runs on this test's runtime meanwhile.
        let address = instance.listening_address(Duration::from_secs(90));
        let ready = format!("http://{address}/health/ready");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match client.get(&ready).send().await {
                Ok(reply) if reply.status() == 200 => break,
                outcome if Instant::now() > deadline => {
                    panic!("instance {i} is not ready after 30 s ({outcome:?}); its log:\n{}", instance.seen.join("\n"))
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }
    drop(instances);
    assert_eq!(dir.entries(), Vec::<String>::new(), "serve left files in its working directory (.data?)");
}

/// SIGTERM while eight clients create sources: every request the service accepted is answered
/// 200 and stored (the pool closes only after the server drained), and `serve` exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_lets_every_accepted_request_finish_before_the_pool_closes() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};

    let server = server_url().await.to_string();
    let name = format!("sms_test_shutdown_{}", uuid::Uuid::new_v4().simple());
    let _cleanup = DropDatabase { server: server.clone(), name: name.clone() };
    let url = database_url(&server, &name);
    let dir = WorkDir::new();
    let config = dir.0.join("sms.toml");
    std::fs::write(&config, format!("[[auth.tokens]]\ntoken = \"{TOKEN_A}\"\ndomain_id = \"{DOMAIN_A}\"\n")).unwrap();
    let env = [("DATABASE_URL", url.as_str()), ("SMS__LOG__FORMAT", "json"), ("SMS__SERVER__WORKERS", "2")];
    let args = ["--config", config.to_str().unwrap(), "serve", "--listen", "127.0.0.1:0"];
    let mut instance = Instance::spawn(sms_tasks(&dir.0, &args, &env));
    let base = format!("http://{}", instance.listening_address(Duration::from_secs(90)));

    let stop = Arc::new(AtomicBool::new(false));
    let statuses = Arc::new(Mutex::new(Vec::new()));
    let mut creators = Vec::new();
    for k in 0..8 {
        let (base, stop, statuses) = (base.clone(), stop.clone(), statuses.clone());
        creators.push(tokio::spawn(async move {
            // A connection per request: each is accepted, or refused once the listener closed.
            let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
            for n in 0.. {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let request = client.post(format!("{base}/v3/sources")).header("X-Auth-Token", TOKEN_A);
                match request.json(&source_body(&format!("c{k}-{n}"))).send().await {
                    Ok(reply) => statuses.lock().unwrap().push(reply.status().as_u16()),
                    // Refused: the listener is closed. The service stopped accepting.
                    Err(e) if e.is_connect() => break,
                    // Reset before any answer: accepted by the kernel, never by the service.
                    Err(_) => statuses.lock().unwrap().push(0),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pid = nix::unistd::Pid::from_raw(instance.child.id() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let deadline = Instant::now() + Duration::from_secs(45);
    let exit = loop {
        if let Some(status) = instance.child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "serve did not stop within 45 s of SIGTERM");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    stop.store(true, Ordering::Relaxed);
    for creator in creators {
        creator.await.unwrap();
    }
    assert!(exit.success(), "serve exits 0 after SIGTERM: {exit}");

    let statuses = std::mem::take(&mut *statuses.lock().unwrap());
    let answered = statuses.iter().filter(|s| **s == 200).count();
    let others: Vec<u16> = statuses.iter().copied().filter(|s| *s != 200 && *s != 0).collect();
    assert!(answered > 8, "the creators were creating: {answered} answers");
    assert_eq!(others, Vec::<u16>::new(), "every answered create succeeded (no 503 from a closed pool)");
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM servers").fetch_one(&mut conn).await.unwrap();
    assert_eq!(stored as usize, answered, "every answered create is stored, and only those");
    conn.close().await.unwrap();
}
