//! The official Python SDK (`huaweicloudsdksms` + `huaweicloudsdkcore`, unmodified, pinned in
//! `tests/sdk/requirements.txt`) against a real server: one test that prepares a virtualenv
//! under `target/sdk-venv` (reused while the requirements and the Python stay the same), starts
//! the service on a fresh database and runs the pytest suite in `tests/sdk` against it.
//!
//! Needs `python3` with the `venv` module, and PyPI reachable the first time (or whenever
//! `requirements.txt` changes). `SDK_SUITE_PYTHON` names another interpreter (see `venv`).

use std::process::Command;
use std::time::Instant;

use crate::helpers::{spawn_app, AK_A, AK_B, DOMAIN_A, DOMAIN_B, SK_A, SK_B};
use crate::venv::{self, manifest_dir};

/// The virtualenv with the pinned SDK and pytest: `target/sdk-venv`. Returns its interpreter.
fn prepare_venv() -> std::path::PathBuf {
    venv::prepare("sdk-venv", "tests/sdk/requirements.txt").join("python")
}

#[tokio::test]
async fn the_official_python_sdk_suite_passes() {
    let started = Instant::now();
    let interpreter = tokio::task::spawn_blocking(prepare_venv).await.expect("the venv is prepared");
    let venv_ready = started.elapsed();

    let app = spawn_app().await;
    let fixtures = manifest_dir().join("tests/fixtures");
    let endpoint = app.address.clone();
    let ran = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&interpreter)
            .args(["-m", "pytest", "-q", "-rfEXx", "-p", "no:cacheprovider", "tests/sdk"])
            .current_dir(manifest_dir())
            .env("SMS_ENDPOINT", endpoint)
            .env("SMS_AK", AK_A)
            .env("SMS_SK", SK_A)
            .env("SMS_DOMAIN_ID", DOMAIN_A)
            .env("SMS_OTHER_AK", AK_B)
            .env("SMS_OTHER_SK", SK_B)
            .env("SMS_OTHER_DOMAIN_ID", DOMAIN_B)
            .env("SMS_FIXTURES_DIR", fixtures)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            // The service is local: never through a proxy.
            .env("NO_PROXY", "127.0.0.1,localhost")
            .env("no_proxy", "127.0.0.1,localhost")
            .output()
    })
    .await
    .expect("pytest finished")
    .expect("pytest starts");

    let report = format!(
        "--- pytest stdout ---\n{}\n--- pytest stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let timing = format!("venv ready in {venv_ready:.1?}, pytest ran in {:.1?}", ran.elapsed());
    assert!(output.status.success(), "the SDK suite failed ({}; {timing}):\n{report}", output.status);
    // Shown with `--nocapture`.
    println!("{report}\n{timing}");
}
