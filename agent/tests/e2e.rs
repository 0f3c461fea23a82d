//! End to end: the service on a fresh database, and the simulated agent (this crate's
//! binary) as its users run it. Tasks created for the agent's sources and started reach
//! MIGRATE_SUCCESS with every subtask at 100 (a syncing task SYNC_SUCCESS); with
//! `--fail-fraction 1` they reach MIGRATE_FAIL; a stopped task stays ABORT and restarts.

// The API tests' harness (service on port 0, a database per test), shared as a file.
#[path = "../../tests/api/helpers.rs"]
mod helpers;

use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use helpers::*;

/// A running agent and the ids of the sources it registered.
struct Agent {
    child: Child,
    sources: Vec<String>,
}

async fn start_agent(app: &TestApp, prefix: &str, sources: usize, extra: &[&str]) -> Agent {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sms-tasks-agent"))
        .args(["--endpoint", &app.address, "--token", TOKEN_A, "--name-prefix", prefix])
        .args(["--sources", &sources.to_string(), "--poll-interval-ms", "100", "--max-rps", "500", "--no-progress"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the agent starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut ids = Vec::new();
    while ids.len() < sources {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the agent registers its sources in time")
            .unwrap()
            .expect("the agent prints its sources");
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["event"] == "source" {
            ids.push(event["id"].as_str().unwrap().to_string());
        }
    }
    // Keep draining stdout so the agent never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Agent { child, sources: ids }
}

async fn create_and_start(app: &TestApp, source: &str, syncing: bool) -> String {
    let body = json!({ "name": format!("e2e-{}", &source[..8]), "type": "MIGRATE_FILE", "os_type": "LINUX",
        "region_name": "r", "region_id": "r", "project_name": "p", "project_id": "p", "syncing": syncing,
        "source_server": { "id": source }, "target_server": { "name": "target", "vm_id": "vm-1" } });
    let task = app.create_task(&body).await;
    app.post(&format!("/v3/tasks/{task}/action"), &json!({ "operation": "start" })).await.assert_ok();
    task
}

async fn show(app: &TestApp, task: &str) -> Value {
    app.get(&format!("/v3/tasks/{task}")).await.assert_ok().clone()
}

/// Polls the task until `done` holds, or fails after `limit`.
async fn wait_for(app: &TestApp, task: &str, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let started = Instant::now();
    loop {
        let shown = show(app, task).await;
        if done(&shown) {
            return shown;
        }
        assert!(started.elapsed() < limit, "task {task} not done in {limit:?}: {shown}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn all_at_100(task: &Value) -> bool {
    task["sub_tasks"].as_array().is_some_and(|s| !s.is_empty() && s.iter().all(|s| s["progress"] == 100))
}

#[tokio::test]
async fn agents_run_tasks_to_their_end_fail_them_when_told_and_honour_stop() {
    let app = spawn_app().await;
    let mut runner = start_agent(&app, "e2e-run", 3, &["--pace-secs", "2"]).await;
    let mut failer = start_agent(&app, "e2e-fail", 1, &["--pace-secs", "2", "--fail-fraction", "1"]).await;
    let mut slow = start_agent(&app, "e2e-slow", 1, &["--pace-secs", "60"]).await;

    let mut plain = Vec::new();
    for source in &runner.sources[..2] {
        plain.push(create_and_start(&app, source, false).await);
    }
    let syncing = create_and_start(&app, &runner.sources[2], true).await;
    let failing = create_and_start(&app, &failer.sources[0], false).await;
    let stopped = create_and_start(&app, &slow.sources[0], false).await;

    for task in &plain {
        let done = wait_for(&app, task, Duration::from_secs(40), |t| t["state"] == "MIGRATE_SUCCESS").await;
        assert!(all_at_100(&done), "every subtask at 100: {done}");
        assert!(done["finish_date"].is_i64());
    }
    let synced = wait_for(&app, &syncing, Duration::from_secs(40), |t| t["state"] == "SYNC_SUCCESS").await;
    assert!(all_at_100(&synced));
    let failed = wait_for(&app, &failing, Duration::from_secs(20), |t| t["state"] == "MIGRATE_FAIL").await;
    assert!(failed["error_json"].as_str().is_some_and(|e| e.contains("SMS.0515")), "{failed}");

    // The slow task makes progress, is stopped, stays stopped, and runs again after a restart.
    let progressing = |t: &Value| t["sub_tasks"].as_array().is_some_and(|s| s.iter().any(|s| s["progress"] != 0));
    wait_for(&app, &stopped, Duration::from_secs(20), progressing).await;
    app.post(&format!("/v3/tasks/{stopped}/action"), &json!({ "operation": "stop" })).await.assert_ok();
    let at_stop = show(&app, &stopped).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = show(&app, &stopped).await;
    assert_eq!(later["state"], "ABORT");
    assert_eq!(later["sub_tasks"], at_stop["sub_tasks"], "no progress after the stop");
    app.post(&format!("/v3/tasks/{stopped}/action"), &json!({ "operation": "restart" })).await.assert_ok();
    let running =
        wait_for(&app, &stopped, Duration::from_secs(20), |t| t["state"] == "RUNNING" && progressing(t)).await;
    assert_eq!(running["state"], "RUNNING");

    // SIGTERM: each agent finishes its requests in flight and exits 0.
    for agent in [&mut runner, &mut failer, &mut slow] {
        let pid = agent.child.id().expect("the agent runs").to_string();
        std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = tokio::time::timeout(Duration::from_secs(10), agent.child.wait()).await.unwrap().unwrap();
        assert!(status.success(), "the agent stops cleanly on SIGTERM: {status}");
    }
}
