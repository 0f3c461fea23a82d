//! The HTTP load generator: `clients` closed-loop clients sharing one keep-alive client,
//! each sending its next request as soon as the previous answer is read in full.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Builds request number `n` (numbered across all clients), or `None` when there is no more
/// work (e.g. the pre-registered sources of a create run are used up).
pub type MakeRequest = Arc<dyn Fn(u64) -> Option<reqwest::RequestBuilder> + Send + Sync>;

/// What one timed run measured.
#[derive(Debug, Clone, Default)]
pub struct Stats {
    /// Latency of each successful request, in microseconds, sorted.
    latencies_us: Vec<u64>,
    /// Requests that failed or were not answered with 200.
    pub errors: u64,
    /// The first failure, to show what went wrong.
    pub first_error: Option<String>,
    /// From the start until the last client stopped.
    pub elapsed: Duration,
    /// The run ended before its duration because `MakeRequest` ran out of work.
    pub ran_out: bool,
}

impl Stats {
    pub fn requests(&self) -> usize {
        self.latencies_us.len()
    }

    /// The latency at quantile `q` (nearest rank), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((q * self.latencies_us.len() as f64).ceil() as usize).clamp(1, self.latencies_us.len());
        self.latencies_us[rank - 1] as f64 / 1_000.0
    }

    pub fn p50_ms(&self) -> f64 {
        self.quantile_ms(0.50)
    }

    pub fn p99_ms(&self) -> f64 {
        self.quantile_ms(0.99)
    }

    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        self.requests() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn merge(&mut self, other: Stats) {
        self.latencies_us.extend(other.latencies_us);
        self.errors += other.errors;
        self.first_error = self.first_error.take().or(other.first_error);
        self.ran_out |= other.ran_out;
    }
}

/// Runs `clients` clients for `duration` (or until `make` runs out of work).
pub async fn run(clients: usize, duration: Duration, make: MakeRequest) -> Stats {
    run_until(clients, Stop::After(duration), make).await
}

/// Sends `requests` requests with `clients` clients, untimed: warms the service's connections
/// and prepared statements (each pooled connection prepares a statement on first use).
pub async fn warm_up(clients: usize, requests: u64, make: MakeRequest) -> Stats {
    run_until(clients, Stop::Count(requests), make).await
}

#[derive(Debug, Clone, Copy)]
enum Stop {
    After(Duration),
    Count(u64),
}

async fn run_until(clients: usize, stop: Stop, make: MakeRequest) -> Stats {
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..clients)
        .map(|_| {
            let (next, make) = (next.clone(), make.clone());
            tokio::spawn(async move { client_loop(started, stop, &next, &make).await })
        })
        .collect();
    let mut total = Stats::default();
    for worker in workers {
        match worker.await {
            Ok(stats) => total.merge(stats),
            Err(err) => {
                total.errors += 1;
                total.first_error.get_or_insert_with(|| format!("a client task failed: {err}"));
            }
        }
    }
    total.elapsed = started.elapsed();
    total.latencies_us.sort_unstable();
    total
}

async fn client_loop(started: Instant, stop: Stop, next: &AtomicU64, make: &MakeRequest) -> Stats {
    let mut stats = Stats::default();
    loop {
        let n = next.fetch_add(1, Ordering::Relaxed);
        let done = match stop {
            Stop::After(duration) => started.elapsed() >= duration,
            Stop::Count(count) => n >= count,
        };
        if done {
            break;
        }
        let Some(request) = make(n) else {
            stats.ran_out = true;
            break;
        };
        let sent = Instant::now();
        match send(request).await {
            Ok(()) => stats.latencies_us.push(sent.elapsed().as_micros() as u64),
            Err(err) => {
                stats.errors += 1;
                stats.first_error.get_or_insert(err);
            }
        }
    }
    stats
}

/// Sends a request and reads its whole body: the latency includes receiving the answer.
async fn send(request: reqwest::RequestBuilder) -> Result<(), String> {
    let response = request.send().await.map_err(|e| format!("request failed: {e}"))?;
    let status = response.status();
    let body = response.bytes().await.map_err(|e| format!("reading the body failed: {e}"))?;
    if status != reqwest::StatusCode::OK {
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        return Err(format!("HTTP {status}: {text}"));
    }
    Ok(())
}

/// The load's HTTP client: keep-alive connections, at most 64 idle.
///
/// Idle connections are dropped after 4 s, before the service's 5 s timers close them
/// (actix-web's keep-alive and first-request timeouts). A connection the pool opened but never
/// used would otherwise be answered `408` by the service after 5 s, and a request the client
/// sends on it at that moment would read that 408.
pub fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .pool_idle_timeout(Duration::from_secs(4))
        .timeout(Duration::from_secs(120))
        .build()
}
