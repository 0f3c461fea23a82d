//! Pacing and progress reporting: the plan of `PUT /v3/tasks/{id}/progress` reports for one
//! START or SYNC round (pure), and the reporter that sends it until done, stopped or refused.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use crate::client::{ApiError, Client};
use crate::ui::TaskBar;

/// One subtask of a task, as `GET /v3/tasks/{id}` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Subtask {
    pub name: String,
    pub progress: u8,
}

/// What the agent was told to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Round {
    Start,
    Sync,
}

/// One report: wait `after`, then send `progress` for `subtask` (an index into the subtasks).
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub subtask: usize,
    pub progress: u8,
    pub after: Duration,
}

/// At most this many reports per subtask, besides the one that opens it.
const MAX_STEPS: u32 = 10;
/// Reports of one subtask are at least this far apart, unless the subtask is shorter.
const MIN_INTERVAL: Duration = Duration::from_millis(1000);

/// A subtask's share of a whole task's time: copying data dominates, as on a real migration.
pub fn weight(name: &str) -> f64 {
    match name {
        n if n.starts_with("MIGRATE_") || n.starts_with("SYNC_") => 60.0,
        "CREATE_CLOUD_SERVER" | "CLONE_VM" => 10.0,
        n if n.starts_with("CONFIGURE_") => 8.0,
        n if n.starts_with("FORMAT_DISK_") => 7.0,
        "ATTACH_AGENT_IMAGE" | "DETTACH_AGENT_IMAGE" => 5.0,
        "SSL_CONFIG" => 3.0,
        _ => 5.0,
    }
}

/// Whether the subtask copies data (its progress drives `replicatesize`).
pub fn copies_data(name: &str) -> bool {
    name.starts_with("MIGRATE_") || name.starts_with("SYNC_")
}

/// The reports of one round. Every subtask below 100 is reported in order: once at its current
/// progress (which opens it), then in up to `MAX_STEPS` even steps to 100, taking its weighted
/// share of `pace` (the time of a whole task from 0) for the part still to do. A START with
/// nothing left reports the last subtask at 100 once (so the service can finish the task); a
/// SYNC with nothing left runs the data subtask again from 0.
pub fn plan(subtasks: &[Subtask], round: Round, pace: Duration) -> Vec<Step> {
    if subtasks.is_empty() {
        return Vec::new();
    }
    let total: f64 = subtasks.iter().map(|s| weight(&s.name)).sum();
    let mut todo: Vec<(usize, u8)> =
        subtasks.iter().enumerate().filter(|(_, s)| s.progress < 100).map(|(i, s)| (i, s.progress)).collect();
    if todo.is_empty() {
        match round {
            Round::Start => return vec![Step { subtask: subtasks.len() - 1, progress: 100, after: Duration::ZERO }],
            Round::Sync => {
                let data = subtasks.iter().position(|s| s.name.starts_with("SYNC_"));
                let data = data.or_else(|| subtasks.iter().position(|s| copies_data(&s.name)));
                todo.push((data.unwrap_or(subtasks.len() - 1), 0));
            }
        }
    }
    let mut steps = Vec::new();
    for (index, from) in todo {
        let remaining = u32::from(100 - from);
        let time = pace.mul_f64(weight(&subtasks[index].name) / total * f64::from(remaining) / 100.0);
        let count = (time.as_secs_f64() / MIN_INTERVAL.as_secs_f64()).round().clamp(1.0, f64::from(MAX_STEPS)) as u32;
        let count = count.min(remaining);
        steps.push(Step { subtask: index, progress: from, after: Duration::ZERO });
        for k in 1..=count {
            let progress = u32::from(from) + remaining * k / count;
            steps.push(Step { subtask: index, progress: progress as u8, after: time / count });
        }
    }
    steps
}

/// The weighted progress of a whole task, 0–100.
pub fn overall(subtasks: &[Subtask]) -> u64 {
    let total: f64 = subtasks.iter().map(|s| weight(&s.name)).sum();
    if total == 0.0 {
        return 0;
    }
    let done: f64 = subtasks.iter().map(|s| weight(&s.name) * f64::from(s.progress)).sum();
    (done / total).round() as u64
}

/// How a round of reports ended.
#[derive(Debug)]
pub enum Outcome {
    /// Every planned report was accepted.
    Completed,
    /// Told to stop (STOP, a new round, or the agent stopping).
    Stopped,
    /// The service refused a report (e.g. SMS.8009: the task is no longer running).
    Refused(ApiError),
}

/// Reads the task's subtasks, then sends the plan's reports, pacing them, until done, stopped
/// through `stop`, or refused. `Err` only for what stops the whole agent (bad credentials).
pub struct Reporter<'a> {
    pub client: &'a Client,
    pub task_id: &'a str,
    pub round: Round,
    pub pace: Duration,
    /// Bytes to copy: the source's used disk space.
    pub total_bytes: u64,
    pub stop: &'a CancellationToken,
    pub bar: &'a TaskBar,
    /// Called after each accepted report.
    pub on_report: &'a (dyn Fn() + Send + Sync),
}

impl Reporter<'_> {
    pub async fn run(&self) -> Result<Outcome, ApiError> {
        let task = match self.client.get(&format!("/v3/tasks/{}", self.task_id), &[]).await {
            Ok(task) => task,
            Err(ApiError::Stopped) => return Ok(Outcome::Stopped),
            Err(err) if err.is_fatal() => return Err(err),
            Err(err) => return Ok(Outcome::Refused(err)),
        };
        let mut subtasks = subtasks_of(&task);
        let steps = plan(&subtasks, self.round, self.pace);
        if steps.is_empty() {
            tracing::warn!(task = self.task_id, "the task has no subtasks: nothing to report");
        }
        let mut rng = StdRng::from_entropy();
        let left = |from: usize| steps[from..].iter().map(|s| s.after).sum::<Duration>();
        for (i, step) in steps.iter().enumerate() {
            tokio::select! {
                biased;
                _ = self.stop.cancelled() => return Ok(Outcome::Stopped),
                _ = tokio::time::sleep(step.after) => {}
            }
            let name = subtasks[step.subtask].name.clone();
            subtasks[step.subtask].progress = step.progress;
            let body = report_body(&subtasks, step, self.total_bytes, left(i + 1), &mut rng);
            match self.client.put(&format!("/v3/tasks/{}/progress", self.task_id), &body).await {
                Ok(_) => {}
                Err(ApiError::Stopped) => return Ok(Outcome::Stopped),
                Err(err) if err.is_fatal() => return Err(err),
                Err(err) => return Ok(Outcome::Refused(err)),
            }
            tracing::debug!(task = self.task_id, subtask = %name, progress = step.progress, "progress reported");
            self.bar.update(&name, overall(&subtasks));
            (self.on_report)();
        }
        Ok(Outcome::Completed)
    }
}

/// The `sub_tasks` of a shown task, in order.
pub fn subtasks_of(task: &Value) -> Vec<Subtask> {
    let Some(list) = task["sub_tasks"].as_array() else { return Vec::new() };
    list.iter()
        .filter_map(|s| {
            let name = s["name"].as_str()?.to_string();
            Some(Subtask { name, progress: s["progress"].as_u64().unwrap_or(0).min(100) as u8 })
        })
        .collect()
}

/// A progress report (`UpdateTaskSpeedReq`) with plausible host figures.
fn report_body(subtasks: &[Subtask], step: &Step, total_bytes: u64, left: Duration, rng: &mut StdRng) -> Value {
    let subtask = &subtasks[step.subtask];
    let copying = copies_data(&subtask.name);
    let data_progress =
        subtasks.iter().find(|s| copies_data(&s.name)).map_or(overall(subtasks), |s| u64::from(s.progress));
    let replicated = (u128::from(total_bytes) * u128::from(data_progress) / 100) as u64;
    let speed = if copying && step.progress < 100 {
        // Bytes of this step over its duration, in Mbit/s, within the documented 0–10000.
        let bytes = total_bytes as f64 * f64::from(100 - step.progress.min(100)).min(10.0) / 100.0;
        (bytes * 8.0 / 1e6 / step.after.as_secs_f64().max(1.0)).clamp(1.0, 10_000.0)
    } else {
        0.0
    };
    let trace = match (step.progress, copying) {
        (0, _) => format!("{}: started", subtask.name),
        (100, _) => format!("{}: finished", subtask.name),
        (p, true) => format!("{}: {p}% of the data copied", subtask.name),
        (p, false) => format!("{}: {p}%", subtask.name),
    };
    let round2 = |v: f64| (v * 100.0).round() / 100.0;
    json!({
        "subtask_name": subtask.name,
        "progress": step.progress,
        "replicatesize": replicated,
        "totalsize": total_bytes,
        "process_trace": trace,
        "migrate_speed": round2(speed),
        "compress_rate": round2(rng.gen_range(1.0..3.0)),
        "remain_time": left.as_secs(),
        "total_cpu_usage": round2(rng.gen_range(5.0..60.0)),
        "agent_cpu_usage": round2(rng.gen_range(1.0..15.0)),
        "total_mem_usage": round2(rng.gen_range(1000.0..6000.0)),
        "agent_mem_usage": round2(rng.gen_range(50.0..300.0)),
        "total_disk_io": round2(rng.gen_range(10.0..500.0)),
        "agent_disk_io": round2(if copying { rng.gen_range(5.0..300.0) } else { rng.gen_range(0.0..5.0) }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINUX_FILE: [&str; 7] = [
        "CREATE_CLOUD_SERVER",
        "SSL_CONFIG",
        "ATTACH_AGENT_IMAGE",
        "FORMAT_DISK_LINUX_FILE",
        "MIGRATE_LINUX_FILE",
        "CONFIGURE_LINUX_FILE",
        "DETTACH_AGENT_IMAGE",
    ];

    fn subtasks(progress: &[u8]) -> Vec<Subtask> {
        LINUX_FILE.iter().zip(progress).map(|(n, p)| Subtask { name: n.to_string(), progress: *p }).collect()
    }

    fn total(steps: &[Step]) -> Duration {
        steps.iter().map(|s| s.after).sum()
    }

    #[test]
    fn a_whole_task_takes_the_pace_in_order_and_ends_every_subtask_at_100() {
        let tasks = subtasks(&[0; 7]);
        let steps = plan(&tasks, Round::Start, Duration::from_secs(60));
        assert!((total(&steps).as_secs_f64() - 60.0).abs() < 0.01, "{:?}", total(&steps));
        // Subtask by subtask, each opened at 0, rising, ending at 100.
        let order: Vec<usize> = steps.iter().map(|s| s.subtask).collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "{order:?}");
        for index in 0..7 {
            let mine: Vec<u8> = steps.iter().filter(|s| s.subtask == index).map(|s| s.progress).collect();
            assert_eq!(mine.first(), Some(&0));
            assert_eq!(mine.last(), Some(&100));
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "{index}: {mine:?}");
            assert!(mine.len() <= 1 + MAX_STEPS as usize);
        }
        // Copying data takes most of the time.
        let copy: Duration = steps.iter().filter(|s| s.subtask == 4).map(|s| s.after).sum();
        assert!(copy > Duration::from_secs(30), "{copy:?}");
    }

    #[test]
    fn reports_are_bounded_and_spaced() {
        let steps = plan(&subtasks(&[0; 7]), Round::Start, Duration::from_secs(60));
        assert!(steps.len() <= 7 * (1 + MAX_STEPS as usize));
        assert!(steps.iter().filter(|s| s.progress > 0).all(|s| s.after >= Duration::from_millis(500)), "{steps:?}");
        // A fast pace gives one report per subtask besides its opening one, with no wait.
        let fast = plan(&subtasks(&[0; 7]), Round::Start, Duration::ZERO);
        assert_eq!(fast.len(), 14);
        assert_eq!(total(&fast), Duration::ZERO);
    }

    #[test]
    fn a_round_starts_from_the_subtasks_not_done() {
        let tasks = subtasks(&[100, 100, 100, 100, 40, 0, 0]);
        let steps = plan(&tasks, Round::Start, Duration::from_secs(60));
        assert_eq!(steps[0], Step { subtask: 4, progress: 40, after: Duration::ZERO });
        assert!(steps.iter().all(|s| s.subtask >= 4));
        // Only the part still to do is paced: 60 % of the copy, plus the two last subtasks.
        let expected = 60.0 * (60.0 * 0.6 + 8.0 + 5.0) / 98.0;
        assert!((total(&steps).as_secs_f64() - expected).abs() < 0.01);
    }

    #[test]
    fn a_sync_round_runs_its_sync_subtask() {
        let mut tasks = subtasks(&[100, 100, 100, 100, 100, 100, 100]);
        tasks.push(Subtask { name: "SYNC_LINUX_FILE".into(), progress: 0 });
        let steps = plan(&tasks, Round::Sync, Duration::from_secs(10));
        assert!(steps.iter().all(|s| s.subtask == 7));
        assert_eq!(steps.last().unwrap().progress, 100);
        // Nothing below 100: the sync (else the data) subtask is run again from 0.
        tasks[7].progress = 100;
        let again = plan(&tasks, Round::Sync, Duration::from_secs(10));
        assert_eq!((again[0].subtask, again[0].progress), (7, 0));
        let no_sync = plan(&subtasks(&[100; 7]), Round::Sync, Duration::from_secs(10));
        assert_eq!((no_sync[0].subtask, no_sync[0].progress), (4, 0));
        // A START with nothing left reports the last subtask at 100 once.
        let start = plan(&subtasks(&[100; 7]), Round::Start, Duration::from_secs(10));
        assert_eq!(start, vec![Step { subtask: 6, progress: 100, after: Duration::ZERO }]);
        assert!(plan(&[], Round::Start, Duration::from_secs(10)).is_empty());
    }

    #[test]
    fn subtasks_are_read_from_a_shown_task_and_weighted() {
        let task = json!({"sub_tasks": [{"id": 1, "name": "CREATE_CLOUD_SERVER", "progress": 100},
                                        {"id": 2, "name": "MIGRATE_LINUX_FILE", "progress": null}, {"id": 3}]});
        let list = subtasks_of(&task);
        assert_eq!(list.len(), 2);
        assert_eq!((list[1].name.as_str(), list[1].progress), ("MIGRATE_LINUX_FILE", 0));
        assert_eq!(overall(&list), 14);
        assert!(subtasks_of(&json!({"sub_tasks": null})).is_empty());
    }

    #[test]
    fn report_bodies_carry_the_required_fields_within_their_ranges() {
        let tasks = subtasks(&[100, 100, 100, 100, 50, 0, 0]);
        let step = Step { subtask: 4, progress: 50, after: Duration::from_secs(2) };
        let body = report_body(&tasks, &step, 10 << 30, Duration::from_secs(30), &mut StdRng::seed_from_u64(1));
        assert_eq!(body["subtask_name"], "MIGRATE_LINUX_FILE");
        assert_eq!(body["replicatesize"], 5u64 << 30);
        assert_eq!(body["totalsize"], 10u64 << 30);
        assert_eq!(body["remain_time"], 30);
        assert!(body["process_trace"].as_str().unwrap().contains("50%"));
        let speed = body["migrate_speed"].as_f64().unwrap();
        assert!((0.0..=10_000.0).contains(&speed), "{speed}");
    }
}
