//! What a person sees: the logs (tracing, on stderr, printed above the bars) and a progress
//! bar per running task when stderr is a terminal.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

/// The progress bars, or nothing when stderr is not a terminal (or bars are turned off).
#[derive(Clone)]
pub struct Bars {
    multi: Option<MultiProgress>,
}

impl Bars {
    pub fn new(wanted: bool) -> Bars {
        let multi = (wanted && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(4)));
        Bars { multi }
    }

    /// A bar for one round of a task (an inert one when bars are off); removed when dropped.
    pub fn task(&self, source: &str, task_id: &str) -> TaskBar {
        let Some(multi) = &self.multi else { return TaskBar { bar: None } };
        let bar = multi.add(ProgressBar::new(100));
        bar.set_style(
            ProgressStyle::with_template("{prefix:.bold} {bar:30.cyan/blue} {pos:>3}% {msg}")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        bar.set_prefix(format!("{source} {}", &task_id[..task_id.len().min(8)]));
        TaskBar { bar: Some((multi.clone(), bar)) }
    }
}

/// One task's bar.
pub struct TaskBar {
    bar: Option<(MultiProgress, ProgressBar)>,
}

impl TaskBar {
    pub fn update(&self, subtask: &str, percent: u64) {
        if let Some((_, bar)) = &self.bar {
            bar.set_position(percent);
            bar.set_message(subtask.to_string());
        }
    }
}

impl Drop for TaskBar {
    fn drop(&mut self) {
        if let Some((multi, bar)) = self.bar.take() {
            bar.finish_and_clear();
            multi.remove(&bar);
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); while bars are shown, each line is
/// printed above them instead of through them.
pub fn init_logs(bars: &Bars) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let writer = LogWriter { multi: bars.multi.clone().map(Arc::new) };
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).try_init();
}

#[derive(Clone)]
struct LogWriter {
    multi: Option<Arc<MultiProgress>>,
}

/// One log event, buffered and written at once when dropped.
struct LogLine {
    multi: Option<Arc<MultiProgress>>,
    buffer: Vec<u8>,
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = LogLine;

    fn make_writer(&'a self) -> LogLine {
        LogLine { multi: self.multi.clone(), buffer: Vec::new() }
    }
}

impl Write for LogLine {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LogLine {
    fn drop(&mut self) {
        let buffer = std::mem::take(&mut self.buffer);
        let write = || {
            let _ = std::io::stderr().lock().write_all(&buffer);
        };
        match &self.multi {
            Some(multi) => multi.suspend(write),
            None => write(),
        }
    }
}
