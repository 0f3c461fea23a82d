//! schemathesis (pinned in `tests/fuzz/requirements.txt`, in the virtualenv `target/fuzz-venv`)
//! against a real server and its own `GET /openapi.json`, with the bootstrap token: every
//! operation gets generated requests (valid and invalid), and each answer is held to the
//! document (`not_a_server_error`, `response_schema_conformance`, `status_code_conformance`,
//! `content_type_conformance`). Path ids come from seeded data most of the time (a `READY` task,
//! a `RUNNING` one, a source without a task, a migration project, a template), else are
//! generated; a new task's `source_server.id` is mostly the free source.
//!
//! Bounded: `FUZZ_MAX_EXAMPLES` cases per operation and phase (default 25), seed
//! `FUZZ_SEED` (default 1, so that CI runs are reproducible; change it to explore).

use std::process::Command;
use std::time::Instant;

use serde_json::json;

use crate::helpers::{create_task_example, source_body, spawn_app, TOKEN_A};
use crate::venv;

/// A runtime error of the Python interpreter under schemathesis (seen once in CI on Python
/// 3.11.7: Hypothesis parsing a lambda's source to describe a strategy), not a failed check.
const INTERPRETER_BUG: &str = "SystemError: AST constructor recursion depth mismatch";

const CHECKS: &str = "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance";

/// The `id` of a create's 200 reply.
fn created_id(reply: crate::helpers::Reply) -> String {
    reply.assert_ok()["id"].as_str().expect("an id").to_string()
}

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().map_or(default, |v| v.parse().unwrap_or_else(|_| panic!("{name}: a number, found {v:?}")))
}

#[tokio::test]
async fn schemathesis_finds_no_failure() {
    let started = Instant::now();
    let bin = tokio::task::spawn_blocking(|| venv::prepare("fuzz-venv", "tests/fuzz/requirements.txt"))
        .await
        .expect("the venv is prepared");
    let venv_ready = started.elapsed();

    let app = spawn_app().await;
    let ready_task = app.create_example_task().await;
    let running_source = app.register_source_as(TOKEN_A, &source_body("src-running")).await;
    let running_task = app.create_task(&create_task_example(&running_source)).await;
    app.post(&format!("/v3/tasks/{running_task}/action"), &json!({ "operation": "start" })).await.assert_ok();
    let free_source = app.register_source_as(TOKEN_A, &source_body("src-free")).await;
    let project = created_id(
        app.post("/v3/migprojects", &json!({ "name": "fuzz", "region": "r", "type": "MIGRATE_BLOCK" })).await,
    );
    let template = json!({ "template": { "name": "fuzz", "disk": [{ "index": 0, "disktype": "SAS" }] } });
    let template = created_id(app.post("/v3/vm/templates", &template).await);

    // The seeded ids, offered for the path parameters of their names and for the source of a
    // new task (schemathesis's dictionaries); the other cases get generated values.
    let work =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).expect("the work directory");
    let config = format!(
        "[dictionaries.task_ids]\nvalues = [\"{ready_task}\", \"{running_task}\"]\n\
         [dictionaries.source_ids]\nvalues = [\"{running_source}\", \"{free_source}\"]\n\
         [dictionaries.free_source_ids]\nvalues = [\"{free_source}\"]\n\
         [dictionaries.project_ids]\nvalues = [\"{project}\"]\n\
         [dictionaries.template_ids]\nvalues = [\"{template}\"]\n\
         [parameters]\n\
         \"path.task_id\" = {{ dictionary = \"task_ids\", probability = 0.8 }}\n\
         \"path.source_id\" = {{ dictionary = \"source_ids\", probability = 0.8 }}\n\
         \"path.mig_project_id\" = {{ dictionary = \"project_ids\", probability = 0.8 }}\n\
         \"path.id\" = {{ dictionary = \"template_ids\", probability = 0.8 }}\n\
         \"body.source_server.id\" = {{ dictionary = \"free_source_ids\", probability = 0.8 }}\n"
    );
    std::fs::write(work.join("schemathesis.toml"), config).expect("the schemathesis config");

    let max_examples = setting("FUZZ_MAX_EXAMPLES", 25);
    let seed = setting("FUZZ_SEED", 1);
    let document = format!("{}/openapi.json", app.address);
    let ran = Instant::now();
    let run = || {
        let (document, run_dir) = (document.clone(), work.clone());
        tokio::task::spawn_blocking(move || {
            Command::new(bin.join("schemathesis"))
                .args(["--config-file", "schemathesis.toml", "run", &document])
                .args(["--header", &format!("X-Auth-Token: {TOKEN_A}")])
                .args(["--checks", CHECKS])
                .args(["--max-examples", &max_examples.to_string(), "--seed", &seed.to_string()])
                .args(["--workers", "2", "--no-color"])
                // A timing heuristic about generation speed, not about the API: on a busy CI
                // machine it fires while the bodies of the larger schemas are drawn.
                .args(["--suppress-health-check", "too_slow"])
                // Hypothesis keeps its example database in the working directory.
                .current_dir(&run_dir)
                .env("NO_PROXY", "127.0.0.1,localhost")
                .env("no_proxy", "127.0.0.1,localhost")
                .env("SCHEMATHESIS_TELEMETRY", "false")
                .output()
        })
    };
    let output = run().await.expect("schemathesis finished").expect("schemathesis starts");
    let _ = std::fs::remove_dir_all(&work);

    let report = format!(
        "--- schemathesis stdout ---\n{}\n--- schemathesis stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let timing = format!(
        "venv ready in {venv_ready:.1?}, schemathesis ran in {:.1?} ({max_examples} examples per operation, seed {seed})",
        ran.elapsed()
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() && only_the_interpreter_bug(&stdout) {
        // Every generated case passed every check; the tool itself crashed on one case.
        println!("schemathesis met {INTERPRETER_BUG:?} (a CPython bug in the tool, not a finding); {timing}");
        return;
    }
    assert!(output.status.success(), "schemathesis found failures ({}; {timing}):\n{report}", output.status);
    // Shown with `--nocapture`.
    println!("{report}\n{timing}");
}

/// Whether a failed run failed only because the interpreter crashed inside Hypothesis: no check
/// failed, no other kind of error (a network error, say) happened, and every runtime error is
/// that crash.
fn only_the_interpreter_bug(stdout: &str) -> bool {
    let Some(summary) = stdout.rsplit("SUMMARY").next() else { return false };
    if summary.contains("Failures:") {
        return false;
    }
    let Some(errors) = summary.split("Errors:").nth(1) else { return false };
    let kinds: Vec<&str> = errors.lines().skip(1).map(str::trim).take_while(|l| !l.is_empty()).collect();
    let [kind] = kinds.as_slice() else { return false };
    let Some(count) = kind.strip_prefix("🚫 Runtime Error: ").and_then(|n| n.parse::<usize>().ok()) else {
        return false;
    };
    stdout.matches(INTERPRETER_BUG).count() == count
}

#[test]
fn only_the_interpreters_crash_is_excused() {
    let crash = format!("Runtime Error\n  | {INTERPRETER_BUG} (before=228, after=177)\n");
    let summary = |failures: &str, errors: &str| {
        format!("{crash}=== SUMMARY ===\nTest Phases:\n  🚫 Coverage\n{failures}Errors:\n{errors}\nWarnings:\n  x\n")
    };
    assert!(only_the_interpreter_bug(&summary("", "  🚫 Runtime Error: 1\n")));
    assert!(!only_the_interpreter_bug(&summary("Failures:\n  ❌ Server error: 1\n\n", "  🚫 Runtime Error: 1\n")));
    assert!(!only_the_interpreter_bug(&summary("", "  🚫 Runtime Error: 1\n  🚫 Network Error: 3\n")));
    assert!(!only_the_interpreter_bug(&summary("", "  🚫 Runtime Error: 2\n")), "one of them is another error");
    assert!(!only_the_interpreter_bug("=== SUMMARY ===\nErrors:\n  🚫 Runtime Error: 1\n\n"), "not the crash");
}
