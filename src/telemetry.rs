//! Structured logs with `tracing`: text or JSON, filtered by settings or `RUST_LOG`; plus the
//! metrics layer that reads sqlx's pool acquire times ([`crate::metrics::PoolAcquireLayer`]).

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

use crate::metrics::PoolAcquireLayer;
use crate::settings::{LogFormat, LogSettings};

/// actix-http's HTTP/1 dispatcher reports a client's malformed request head, oversized
/// headers or dropped connection as an ERROR ("stream error: request parse error: …"). Those
/// are the client's doing, and anyone could flood the error log with them, so they are not
/// logged unless the filter names `actix_http` itself (then at the level it gives).
const QUIET_CLIENT_PROTOCOL_ERRORS: &str = "actix_http::h1::dispatcher=off";

pub fn init(settings: &LogSettings) {
    let directives = std::env::var("RUST_LOG").ok().filter(|v| !v.trim().is_empty());
    let directives = directives.unwrap_or_else(|| settings.level.clone());
    let filter = EnvFilter::try_new(with_quiet_client_errors(&directives))
        .unwrap_or_else(|_| EnvFilter::new(with_quiet_client_errors(&settings.level)));
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

fn with_quiet_client_errors(directives: &str) -> String {
    if directives.contains("actix_http") {
        directives.to_string()
    } else {
        format!("{directives},{QUIET_CLIENT_PROTOCOL_ERRORS}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_protocol_errors_are_quiet_unless_the_filter_names_actix_http() {
        assert_eq!(with_quiet_client_errors("info"), "info,actix_http::h1::dispatcher=off");
        assert_eq!(with_quiet_client_errors("info,actix_http=debug"), "info,actix_http=debug");
    }
}
