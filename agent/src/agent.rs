//! The per-source loop: poll the source's command queue, acknowledge each command, and run one
//! progress reporter at a time for the source's task; plus what the loops share (activity for
//! `--exit-when-idle`, and the counts of the closing summary).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use serde_json::{json, Value};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::client::{ApiError, Client};
use crate::faults;
use crate::progress::{Outcome, Reporter, Round};
use crate::sources::Source;
use crate::ui::Bars;

/// What every source loop needs.
pub struct Shared {
    pub client: Client,
    pub bars: Bars,
    pub stop: CancellationToken,
    pub pace: Duration,
    pub poll_interval: Duration,
    pub fail_fraction: f64,
    pub seed: u64,
    pub activity: Activity,
    pub stats: Stats,
}

/// When something last happened, and how many reporters are running (for `--exit-when-idle`).
pub struct Activity {
    epoch: Instant,
    last_ms: AtomicU64,
    running: AtomicUsize,
}

impl Default for Activity {
    fn default() -> Self {
        Activity { epoch: Instant::now(), last_ms: AtomicU64::new(0), running: AtomicUsize::new(0) }
    }
}

impl Activity {
    pub fn touch(&self) {
        self.last_ms.fetch_max(self.epoch.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    /// How long nothing has happened: no command arrived and no task was running.
    pub fn idle_for(&self) -> Duration {
        if self.running.load(Ordering::Relaxed) > 0 {
            return Duration::ZERO;
        }
        self.epoch.elapsed().saturating_sub(Duration::from_millis(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// Counts for the closing summary.
#[derive(Default)]
pub struct Stats {
    /// Commands received, by name.
    pub commands: Mutex<BTreeMap<String, u64>>,
    pub progress_reports: AtomicU64,
    /// START commands acknowledged with `result: fail`.
    pub failed_starts: AtomicU64,
    /// Rounds whose every report was accepted, by the task's state read right after.
    pub rounds_completed: Mutex<BTreeMap<String, u64>>,
    /// Rounds ended by STOP (or by a new command for the source).
    pub rounds_stopped: AtomicU64,
    /// Rounds ended because the service refused a report (e.g. the task was no longer running).
    pub rounds_refused: AtomicU64,
}

impl Stats {
    pub fn summary(&self, sources: &[Source], requests: u64) -> Value {
        json!({
            "event": "summary",
            "sources": sources.len(),
            "requests": requests,
            "commands": *self.commands.lock().unwrap(),
            "progress_reports": self.progress_reports.load(Ordering::Relaxed),
            "failed_starts": self.failed_starts.load(Ordering::Relaxed),
            "rounds_completed": *self.rounds_completed.lock().unwrap(),
            "rounds_stopped": self.rounds_stopped.load(Ordering::Relaxed),
            "rounds_refused": self.rounds_refused.load(Ordering::Relaxed),
        })
    }
}

/// The reporter running for a source's task.
struct Running {
    task_id: String,
    stop: CancellationToken,
    handle: JoinHandle<Result<(), ApiError>>,
}

impl Running {
    /// Stops the reporter and waits for it (its request in flight, if any, completes).
    async fn stop(self) -> Result<(), ApiError> {
        self.stop.cancel();
        self.handle.await.unwrap_or(Ok(()))
    }
}

/// Plays one source's agent until the agent stops; `Err` only for what stops the whole agent
/// (bad credentials, or a service without the agent endpoints).
pub async fn run_source(shared: Arc<Shared>, source: Arc<Source>, total_bytes: u64) -> Result<(), ApiError> {
    let mut running: Option<Running> = None;
    let mut starts = 0u64;
    let result = poll_loop(&shared, &source, total_bytes, &mut running, &mut starts).await;
    let last = match running.take() {
        Some(r) => r.stop().await,
        None => Ok(()),
    };
    result.and(last)
}

async fn poll_loop(
    shared: &Arc<Shared>,
    source: &Arc<Source>,
    total_bytes: u64,
    running: &mut Option<Running>,
    starts: &mut u64,
) -> Result<(), ApiError> {
    // Spread the sources' first polls over one interval.
    let jitter = shared.poll_interval.mul_f64(rand::thread_rng().gen_range(0.0..1.0));
    if !pause(&shared.stop, jitter).await {
        return Ok(());
    }
    let path = format!("/v3/sources/{}/command", source.id);
    loop {
        if let Some(r) = running.take_if(|r| r.handle.is_finished()) {
            r.stop().await?;
        }
        let command = match shared.client.get(&path, &[]).await {
            Ok(command) => command,
            Err(ApiError::Stopped) => return Ok(()),
            Err(err) if err.is_fatal() => return Err(err),
            // A service without the agent endpoints: nothing this agent can do.
            Err(err) if err.code() == Some("APIGW.0101") => return Err(err),
            Err(err) if err.code() == Some("SMS.8006") => {
                tracing::warn!(source = %source.name, "the source was deleted: no longer playing it");
                return Ok(());
            }
            Err(err) => {
                tracing::warn!(source = %source.name, error = %err, "cannot read the command queue");
                Value::Null
            }
        };
        let Some(name) = command["command_name"].as_str().filter(|n| !n.is_empty()) else {
            if !pause(&shared.stop, shared.poll_interval).await {
                return Ok(());
            }
            continue;
        };
        shared.activity.touch();
        *shared.stats.commands.lock().unwrap().entry(name.to_string()).or_default() += 1;
        let task_id = command["command_param"]["task_id"].as_str().unwrap_or_default().to_string();
        tracing::info!(source = %source.name, command = name, task = %task_id, "command received");
        handle(shared, source, total_bytes, running, starts, name, &task_id).await?;
        if shared.stop.is_cancelled() {
            return Ok(());
        }
    }
}

async fn handle(
    shared: &Arc<Shared>,
    source: &Arc<Source>,
    total_bytes: u64,
    running: &mut Option<Running>,
    starts: &mut u64,
    name: &str,
    task_id: &str,
) -> Result<(), ApiError> {
    match name {
        "START" | "SYNC" => {
            // A new round replaces whatever was running for this source.
            if let Some(r) = running.take() {
                r.stop().await?;
            }
            if name == "START" {
                *starts += 1;
                if faults::fails(shared.seed, &source.name, *starts, shared.fail_fraction) {
                    shared.stats.failed_starts.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(source = %source.name, task = task_id, "failing this START (--fail-fraction)");
                    return acknowledge(shared, source, name, "fail", faults::failure_detail()).await;
                }
            }
            acknowledge(shared, source, name, "success", json!({ "msg": format!("{name} accepted") })).await?;
            if task_id.is_empty() {
                tracing::warn!(source = %source.name, command = name, "no task_id in the command: nothing to run");
                return Ok(());
            }
            let round = if name == "SYNC" { Round::Sync } else { Round::Start };
            *running = Some(spawn_reporter(shared, source, total_bytes, task_id, round));
        }
        "STOP" | "DELETE" => {
            if let Some(r) = running.take() {
                if task_id.is_empty() || r.task_id == task_id {
                    r.stop().await?;
                } else {
                    *running = Some(r);
                }
            }
            acknowledge(shared, source, name, "success", json!({ "msg": format!("{name} done") })).await?;
        }
        // SKIP, PREMIGRATE, UPLOAD_LOG and anything newer: done at once.
        _ => acknowledge(shared, source, name, "success", json!({ "msg": format!("{name} done") })).await?,
    }
    Ok(())
}

/// `POST …/command_result` for the head of the queue. A refusal (e.g. SMS.2009 when an earlier
/// try of the same acknowledgement went through) is logged and the loop goes on.
async fn acknowledge(
    shared: &Shared,
    source: &Source,
    name: &str,
    result: &str,
    detail: Value,
) -> Result<(), ApiError> {
    let body = json!({ "command_name": name, "result": result, "result_detail": detail });
    match shared.client.post(&format!("/v3/sources/{}/command_result", source.id), &body).await {
        Ok(_) => Ok(()),
        Err(ApiError::Stopped) => Ok(()),
        Err(err) if err.is_fatal() => Err(err),
        Err(err) => {
            tracing::warn!(source = %source.name, command = name, error = %err, "acknowledgement refused");
            Ok(())
        }
    }
}

fn spawn_reporter(
    shared: &Arc<Shared>,
    source: &Arc<Source>,
    total_bytes: u64,
    task_id: &str,
    round: Round,
) -> Running {
    let stop = shared.stop.child_token();
    let (shared, source, task, token) = (shared.clone(), source.clone(), task_id.to_string(), stop.clone());
    shared.activity.running.fetch_add(1, Ordering::Relaxed);
    let handle = tokio::spawn(async move {
        let bar = shared.bars.task(&source.name, &task);
        let on_report = || {
            shared.stats.progress_reports.fetch_add(1, Ordering::Relaxed);
            shared.activity.touch();
        };
        let mut round = round;
        let result = loop {
            let reporter = Reporter {
                client: &shared.client,
                task_id: &task,
                round,
                pace: shared.pace,
                total_bytes,
                stop: &token,
                bar: &bar,
                on_report: &on_report,
            };
            let outcome = reporter.run().await;
            match finish(&shared, &source, &task, outcome).await {
                // A syncing task enters SYNCING once migrated: its first sync round follows, as
                // a real agent's continuous sync does (the service makes it SYNC_SUCCESS).
                Ok(Some(state)) if state == "SYNCING" && round == Round::Start => round = Round::Sync,
                result => break result.map(|_| ()),
            }
        };
        shared.activity.touch();
        shared.activity.running.fetch_sub(1, Ordering::Relaxed);
        result
    });
    Running { task_id: task_id.to_string(), stop, handle }
}

/// Logs and counts how a round ended; after a complete one, reads the state the service gave
/// the task and returns it.
async fn finish(
    shared: &Shared,
    source: &Source,
    task: &str,
    outcome: Result<Outcome, ApiError>,
) -> Result<Option<String>, ApiError> {
    match outcome? {
        Outcome::Completed => {
            let state = match shared.client.get(&format!("/v3/tasks/{task}"), &[]).await {
                Ok(shown) => shown["state"].as_str().unwrap_or("unknown").to_string(),
                Err(err) if err.is_fatal() => return Err(err),
                Err(_) => "unknown".to_string(),
            };
            tracing::info!(source = %source.name, task, %state, "every subtask reported at 100");
            *shared.stats.rounds_completed.lock().unwrap().entry(state.clone()).or_default() += 1;
            return Ok(Some(state));
        }
        Outcome::Stopped => {
            tracing::info!(source = %source.name, task, "stopped reporting");
            shared.stats.rounds_stopped.fetch_add(1, Ordering::Relaxed);
        }
        Outcome::Refused(err) => {
            let code = err.code().unwrap_or("-");
            tracing::info!(source = %source.name, task, code, reason = %err, "the service refused progress: round over");
            shared.stats.rounds_refused.fetch_add(1, Ordering::Relaxed);
        }
    }
    Ok(None)
}

/// Sleeps `duration` unless the agent stops first; whether it is still running.
async fn pause(stop: &CancellationToken, duration: Duration) -> bool {
    tokio::select! {
        _ = stop.cancelled() => false,
        _ = tokio::time::sleep(duration) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idleness_counts_from_the_last_activity_and_not_while_a_task_runs() {
        let activity = Activity::default();
        std::thread::sleep(Duration::from_millis(30));
        assert!(activity.idle_for() >= Duration::from_millis(30));
        activity.touch();
        assert!(activity.idle_for() < Duration::from_millis(30));
        activity.running.fetch_add(1, Ordering::Relaxed);
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(activity.idle_for(), Duration::ZERO);
    }
}
