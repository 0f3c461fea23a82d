//! Structured logs with `tracing`: text or JSON, filtered by settings or `RUST_LOG`.

use tracing_subscriber::EnvFilter;

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
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // `try_init`: a second call (tests) keeps the first subscriber.
    let _ = match settings.format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
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
