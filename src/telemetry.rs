//! Structured logs with `tracing`: text or JSON, filtered by settings or `RUST_LOG`; plus the
//! metrics layer that reads sqlx's pool acquire times ([`crate::metrics::PoolAcquireLayer`]).

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

use crate::metrics::PoolAcquireLayer;
use crate::settings::{LogFormat, LogSettings};

pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&settings.level));
    // The filter is the log layer's own, so that it does not hide sqlx's acquire events from
    // the metrics layer.
    let logs = match settings.format {
        LogFormat::Json => {
            fmt::layer().with_writer(std::io::stderr).json().flatten_event(true).with_current_span(true).boxed()
        }
        LogFormat::Text => fmt::layer().with_writer(std::io::stderr).boxed(),
    };
    // `try_init`: a second call (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(logs.with_filter(filter)).with(PoolAcquireLayer::filtered()).try_init();
}

/// The metrics layer alone, without logs: for tests, which build applications without `serve`.
/// Does nothing when a subscriber is already set. Unlike [`init`], it installs no `log` bridge:
/// with this layer alone, the bridge left tracing's cached callsite interest disabled for some
/// of sqlx's acquire events (seen in the API tests), and the tests need every one.
pub fn init_metrics_only() {
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(PoolAcquireLayer::filtered()));
}
