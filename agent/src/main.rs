//! `sms-tasks-agent` (also run as `sms-tasks agent`): plays N source-server agents against a
//! running sms-tasks service. This file owns the run as a whole: start-up, registration, one
//! loop per source, the stop conditions (Ctrl-C/SIGTERM, `--run-secs`, `--exit-when-idle`, bad
//! credentials) and the closing summary.
//!
//! stdout carries one JSON line per source (`{"event":"source",…}`) once all are registered,
//! and a `{"event":"summary",…}` line at the end; logs go to stderr.

mod agent;
mod client;
mod faults;
mod options;
mod progress;
mod ratelimit;
mod sources;
mod ui;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::json;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::agent::{Activity, Shared, Stats};
use crate::client::{ApiError, Client};
use crate::options::Options;

fn main() -> ExitCode {
    let options = Options::parse();
    if let Err(message) = options.validate() {
        eprintln!("sms-tasks agent: {message}");
        return ExitCode::from(2);
    }
    let bars = ui::Bars::new(!options.no_progress);
    ui::init_logs(&bars);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("sms-tasks agent: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(options, bars)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("sms-tasks agent: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options, bars: ui::Bars) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    tokio::spawn(stop_on_signals(stop.clone()));
    let client = Client::new(options.endpoint.clone(), options.credentials(), options.max_rps, stop.clone())?;
    let shared = Arc::new(Shared {
        client,
        bars,
        stop: stop.clone(),
        pace: options.pace(),
        poll_interval: options.poll_interval(),
        fail_fraction: options.fail_fraction,
        seed: options.seed,
        activity: Activity::default(),
        stats: Stats::default(),
    });

    let names: Vec<String> = (0..options.sources).map(|i| options.source_name(i)).collect();
    tracing::info!(endpoint = %options.endpoint, sources = names.len(), "registering sources");
    let registered = tokio::select! {
        registered = sources::register_all(&shared.client, &options.name_prefix, &names, options.seed) => registered,
        _ = stop.cancelled() => return Ok(()),
    };
    let registered = match registered {
        Ok(registered) => registered,
        Err(ApiError::Stopped) => return Ok(()),
        Err(err) => return Err(explain(err)),
    };
    for source in &registered {
        println!("{}", json!({"event": "source", "name": source.name, "id": source.id, "reused": source.reused}));
    }
    tracing::info!(
        sources = registered.len(),
        pace_secs = options.pace_secs,
        fail_fraction = options.fail_fraction,
        max_rps = options.max_rps,
        "polling the command queues"
    );

    shared.activity.touch();
    let mut loops = JoinSet::new();
    for source in &registered {
        let total_bytes = total_bytes(&sources::source_body(&source.name, source.index, options.seed));
        loops.spawn(agent::run_source(shared.clone(), Arc::new(source.clone()), total_bytes));
    }
    let watch = tokio::spawn(stop_when(shared.clone(), options.run_secs, options.exit_when_idle));

    let mut fatal = None;
    while let Some(joined) = loops.join_next().await {
        if let Ok(Err(err)) = joined {
            if fatal.is_none() {
                tracing::error!(error = %err, "stopping every source");
                stop.cancel();
                fatal = Some(err);
            }
        }
    }
    watch.abort();
    println!("{}", shared.stats.summary(&registered, shared.client.requests()));
    match fatal {
        Some(err) => Err(explain(err)),
        None => {
            tracing::info!("stopped");
            Ok(())
        }
    }
}

/// An error with a hint at its usual cause.
fn explain(err: ApiError) -> anyhow::Error {
    match err {
        ApiError::Unauthorized(_) => {
            anyhow::anyhow!(
                "{err}\n  check --token, or --ak/--sk (and --domain-id, which must be the key's own domain)"
            )
        }
        ApiError::Transport { .. } => anyhow::anyhow!("{err}\n  is the service running at --endpoint?"),
        ApiError::Refused { ref code, .. } if code == "APIGW.0101" => {
            anyhow::anyhow!("{err}\n  the service at --endpoint has no agent endpoints: is it an older sms-tasks?")
        }
        err => anyhow::Error::new(err),
    }
}

/// The bytes a source copies: the used space of its disks.
fn total_bytes(body: &serde_json::Value) -> u64 {
    body["disks"].as_array().into_iter().flatten().filter_map(|d| d["used_size"].as_u64()).sum()
}

/// Cancels `stop` on the first Ctrl-C or SIGTERM (the loops finish their requests in flight);
/// a second one exits at once.
async fn stop_on_signals(stop: CancellationToken) {
    for round in 0..2 {
        wait_for_signal().await;
        if round == 0 {
            tracing::info!("stopping: finishing the requests in flight (again to quit at once)");
            stop.cancel();
        }
    }
    eprintln!("sms-tasks agent: interrupted");
    std::process::exit(130);
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("a SIGTERM handler can be installed");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Cancels `stop` after `run_secs`, or once the agent has been idle for `idle_secs`.
async fn stop_when(shared: Arc<Shared>, run_secs: Option<f64>, idle_secs: Option<f64>) {
    let started = Instant::now();
    let run = run_secs.map(Duration::from_secs_f64);
    let idle = idle_secs.map(Duration::from_secs_f64);
    if run.is_none() && idle.is_none() {
        return;
    }
    loop {
        tokio::select! {
            _ = shared.stop.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
        if run.is_some_and(|run| started.elapsed() >= run) {
            tracing::info!("--run-secs reached");
            break;
        }
        if idle.is_some_and(|idle| shared.activity.idle_for() >= idle) {
            tracing::info!("idle for --exit-when-idle: nothing more to do");
            break;
        }
    }
    shared.stop.cancel();
}
