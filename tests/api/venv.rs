//! Python virtualenvs for the suites that drive the service from Python (the SDK suite, the
//! schemathesis run): `target/<name>`, built from a pinned requirements file and reused while
//! that file and the Python version stay the same.
//!
//! Needs `python3` with the `venv` module, and PyPI reachable the first time (or whenever the
//! requirements change). `SDK_SUITE_PYTHON` names another interpreter.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

use sha2::{Digest, Sha256};

/// Serializes venv creation between the tests of this process.
static VENV: Mutex<()> = Mutex::new(());

/// The file in the venv that records what it was built from; written last.
const STAMP: &str = ".requirements-sha256";

pub fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> String {
    std::env::var("SDK_SUITE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs `command`, panicking with its output when it cannot start or fails.
pub fn run(command: &mut Command, what: &str) -> Output {
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
        Ok(output) => panic!("`{python} --version` failed ({}): the Python suites need Python 3", output.status),
        Err(e) => panic!(
            "`{python}` cannot be run ({e}): the Python suites need Python 3 with the venv module \
             (e.g. `apt-get install python3 python3-venv`), or SDK_SUITE_PYTHON naming an interpreter"
        ),
    }
}

/// The virtualenv `target/<name>` with the packages of `requirements` (a path in the
/// repository), rebuilt when that file or the Python version changes. Returns its `bin/`.
pub fn prepare(name: &str, requirements: &str) -> PathBuf {
    let _guard = VENV.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let python = python();
    let requirements = manifest_dir().join(requirements);
    let wanted = std::fs::read(&requirements).unwrap_or_else(|e| panic!("read {}: {e}", requirements.display()));
    let mut hasher = Sha256::new();
    hasher.update(&wanted);
    hasher.update(python_version(&python).as_bytes());
    let key = hex::encode(hasher.finalize());

    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("the target directory").to_path_buf();
    let venv = target.join(name);
    let bin = venv.join("bin");
    let stamp = venv.join(STAMP);
    if std::fs::read_to_string(&stamp).is_ok_and(|s| s.trim() == key) && bin.join("python").exists() {
        return bin;
    }
    if venv.exists() {
        std::fs::remove_dir_all(&venv).unwrap_or_else(|e| panic!("remove the stale {}: {e}", venv.display()));
    }
    run(Command::new(&python).args(["-m", "venv"]).arg(&venv), &format!("creating the virtualenv {name}"));
    run(
        Command::new(bin.join("python"))
            .args(["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-q", "-r"])
            .arg(&requirements),
        &format!("installing {} (PyPI must be reachable)", requirements.display()),
    );
    std::fs::write(&stamp, &key).unwrap_or_else(|e| panic!("write {}: {e}", stamp.display()));
    bin
}
