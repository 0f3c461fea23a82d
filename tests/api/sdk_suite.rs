//! The official Python SDK (`huaweicloudsdksms` + `huaweicloudsdkcore`, unmodified, pinned in
//! `tests/sdk/requirements.txt`) against a real server: one test that prepares a virtualenv
//! under `target/sdk-venv` (reused while the requirements and the Python stay the same), starts
//! the service on a fresh database and runs the pytest suite in `tests/sdk` against it.
//!
//! Needs `python3` with the `venv` module, and PyPI reachable the first time (or whenever
//! `requirements.txt` changes). `SDK_SUITE_PYTHON` names another interpreter.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::helpers::{spawn_app, AK_A, AK_B, DOMAIN_A, DOMAIN_B, SK_A, SK_B};

/// Serializes venv creation between the tests of this process.
static VENV: Mutex<()> = Mutex::new(());

/// The file in the venv that records what it was built from; written last.
const STAMP: &str = ".requirements-sha256";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> String {
    std::env::var("SDK_SUITE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs `command`, panicking with its output when it cannot start or fails.
fn run(command: &mut Command, what: &str) -> Output {
    let output = command.output().unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    if !output.status.success() {
        panic!(
            "{what} failed ({}): {command:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

/// `python3 --version`, with a clear failure when there is no Python.
fn python_version(python: &str) -> String {
    match Command::new(python).arg("--version").output() {
        Ok(output) if output.status.success() => {
            let text = [output.stdout, output.stderr].concat();
            String::from_utf8_lossy(&text).trim().to_string()
        }
        Ok(output) => panic!("`{python} --version` failed ({}): the SDK suite needs Python 3", output.status),
        Err(e) => panic!(
            "`{python}` cannot be run ({e}): the SDK suite needs Python 3 with the venv module \
             (e.g. `apt-get install python3 python3-venv`), or SDK_SUITE_PYTHON naming an interpreter"
        ),
    }
}

/// The virtualenv with the pinned SDK and pytest: `target/sdk-venv`, rebuilt when
/// `requirements.txt` or the Python version changes. Returns its interpreter.
fn prepare_venv() -> PathBuf {
    let _guard = VENV.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let python = python();
    let requirements = manifest_dir().join("tests/sdk/requirements.txt");
    let wanted = std::fs::read(&requirements).unwrap_or_else(|e| panic!("read {}: {e}", requirements.display()));
    let mut hasher = Sha256::new();
    hasher.update(&wanted);
    hasher.update(python_version(&python).as_bytes());
    let key = hex::encode(hasher.finalize());

    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("the target directory").to_path_buf();
    let venv = target.join("sdk-venv");
    let interpreter = venv.join("bin/python");
    let stamp = venv.join(STAMP);
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == key) && interpreter.exists() {
        return interpreter;
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).unwrap_or_else(|e| panic!("remove the stale {}: {e}", venv.display()));
    }
    run(Command::new(&python).args(["-m", "venv"]).arg(&venv), "creating the SDK virtualenv");
    run(
        Command::new(&interpreter)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "-r"])
            .arg(&requirements),
        "installing tests/sdk/requirements.txt (PyPI must be reachable)",
    );
    std::fs::write(&stamp, &key).unwrap_or_else(|e| panic!("write {}: {e}", stamp.display()));
    interpreter
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
