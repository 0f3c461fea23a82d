//! Layered settings: the built-in `config/default.toml` < an optional file < `SMS__…`
//! environment variables < `DATABASE_URL`. Validated once, at start. Also records whether a
//! database URL was configured at all, which decides whether a private cluster may stand in.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

/// The documented defaults, built into the binary so it runs outside the checkout too.
const DEFAULTS: &str = include_str!("../config/default.toml");

/// The database used when no layer sets `database.url` (the embedded default). It is not in
/// `config/default.toml` as a value, so that "no URL configured" stays visible after layering:
/// only then may a private cluster stand in for a server that does not answer.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/sms_tasks";

#[derive(Debug, Clone, Deserialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerSettings {
    pub listen: String,
    pub body_limit_bytes: usize,
    pub workers: usize,
    pub shutdown_timeout_secs: u64,
    pub body_timeout_secs: u64,
    /// Address of the Prometheus `/metrics` listener; empty = no metrics at all.
    pub metrics_listen: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    /// `database.url` as a layer set it (a `--config` file, `SMS__DATABASE__URL` or
    /// `DATABASE_URL`); `None` when none did. [`DatabaseSettings::url`] applies the default.
    #[serde(rename = "url", default)]
    pub configured_url: Option<String>,
    pub pool_size: u32,
    pub connect_timeout_secs: u64,
    pub statement_timeout_ms: u64,
    pub start_timeout_secs: u64,
    pub local_cluster: bool,
    pub local_cluster_dir: PathBuf,
    /// A streaming replica that list pages are read from (see `db::reads`); `None`: none.
    #[serde(default)]
    pub replica_url: Option<String>,
    /// Beyond this replay lag, list pages are read from the primary.
    pub replica_max_lag_ms: u64,
    /// How long a verdict on the replica (usable, lagging, unreachable) is reused.
    pub replica_check_interval_ms: u64,
    /// `false` behind a transaction pooler (PgBouncer `pool_mode = transaction`): no statement
    /// cache, every checkout one transaction, prepared statements deallocated before release.
    pub prepared_statements: bool,
    /// The server itself, bypassing a pooler: used to create the database and to migrate
    /// (a session advisory lock). `None`: `url`.
    #[serde(default)]
    pub direct_url: Option<String>,
}

impl DatabaseSettings {
    /// The URL to connect to: the configured one, else [`DEFAULT_DATABASE_URL`].
    pub fn url(&self) -> &str {
        self.configured_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL)
    }

    /// Whether a private cluster may replace a server that does not answer at start: only for
    /// the embedded default. A configured URL names the database the operator wants, and an
    /// empty stand-in would hide an outage behind a service that seems to work.
    pub fn may_start_local_cluster(&self) -> bool {
        self.local_cluster && self.configured_url.is_none()
    }

    /// The URL that reaches the server without a pooler: `direct_url`, else [`Self::url`].
    pub fn direct_url(&self) -> &str {
        self.direct_url.as_deref().unwrap_or_else(|| self.url())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthSettings {
    pub tokens: Vec<TokenSetting>,
    pub access_keys: Vec<AccessKeySetting>,
    pub max_clock_skew_secs: i64,
    pub lockout_failures: i32,
    pub lockout_secs: i64,
    pub reject_replays: bool,
    pub token_cache_secs: u64,
}

#[derive(Clone, Deserialize)]
pub struct AccessKeySetting {
    pub access_key: String,
    pub secret_key: String,
    pub domain_id: String,
}

impl std::fmt::Debug for AccessKeySetting {
    // Secret keys are secrets: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeySetting")
            .field("access_key", &self.access_key)
            .field("secret_key", &"<redacted>")
            .field("domain_id", &self.domain_id)
            .finish()
    }
}

#[derive(Clone, Deserialize)]
pub struct TokenSetting {
    pub token: String,
    pub domain_id: String,
}

impl std::fmt::Debug for TokenSetting {
    // Tokens are secrets: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSetting").field("token", &"<redacted>").field("domain_id", &self.domain_id).finish()
    }
}

/// Whether a postgres:// URL lists several `host:port` pairs (libpq's multi-host form).
fn names_several_hosts(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let hosts = authority.rsplit_once('@').map_or(authority, |(_, hosts)| hosts);
    hosts.contains(',')
}

impl Settings {
    /// The built-in defaults alone (no file, no environment).
    pub fn defaults() -> Settings {
        let built_in = config::Config::builder().add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        built_in.build().and_then(|c| c.try_deserialize()).expect("config/default.toml is valid")
    }

    /// Loads the layers and validates the result. `file` is `--config` (or `SMS_CONFIG`).
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        // Variables that are not UTF-8 cannot be settings; skip them rather than panic.
        let env = std::env::vars_os().filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
        Self::load_from(file, env.collect())
    }

    /// [`Settings::load`] with the environment given, so that tests need not change the
    /// process's own.
    fn load_from(file: Option<&Path>, env: HashMap<String, String>) -> anyhow::Result<Settings> {
        let mut builder =
            config::Config::builder().add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        let database_url = env.get("DATABASE_URL").cloned();
        builder = builder.add_source(
            config::Environment::with_prefix("SMS")
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true)
                .source(Some(env.into_iter().collect())),
        );
        if let Some(url) = database_url {
            builder = builder.set_override("database.url", url)?;
        }
        let settings: Settings = builder.build().and_then(|c| c.try_deserialize()).context("invalid settings")?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        self.metrics_addr()?;
        if self.server.body_limit_bytes == 0 {
            bail!("invalid settings: server.body_limit_bytes must be greater than 0");
        }
        if self.server.body_timeout_secs == 0 {
            bail!("invalid settings: server.body_timeout_secs must be at least 1");
        }
        if self.database.pool_size == 0 {
            bail!("invalid settings: database.pool_size must be at least 1");
        }
        let is_postgres = |url: &str| url.starts_with("postgres://") || url.starts_with("postgresql://");
        if !is_postgres(self.database.url()) {
            bail!("invalid settings: database.url must be a postgres:// URL");
        }
        for (key, url) in [("replica_url", &self.database.replica_url), ("direct_url", &self.database.direct_url)] {
            if url.as_deref().is_some_and(|u| !is_postgres(u)) {
                bail!("invalid settings: database.{key} must be a postgres:// URL");
            }
        }
        let urls = [
            ("url", Some(self.database.url())),
            ("replica_url", self.database.replica_url.as_deref()),
            ("direct_url", self.database.direct_url.as_deref()),
        ];
        for (key, url) in urls {
            if url.is_some_and(names_several_hosts) {
                bail!(
                    "invalid settings: database.{key} names several hosts; the service's driver (sqlx) connects to \
                     one address, so put a single endpoint that follows the primary in front (HAProxy on \
                     Patroni's REST checks, a virtual IP, or PgBouncer): see docs/scaling.md"
                );
            }
        }
        if !self.database.prepared_statements && self.database.direct_url.is_none() {
            bail!(
                "invalid settings: database.prepared_statements = false (behind a transaction pooler) needs \
                 database.direct_url, the server itself, for migrations (they hold a session advisory lock)"
            );
        }
        for (i, k) in self.auth.access_keys.iter().enumerate() {
            if k.access_key.trim().is_empty() || k.secret_key.is_empty() || k.domain_id.trim().is_empty() {
                bail!("invalid settings: auth.access_keys[{i}] needs a non-empty access_key, secret_key and domain_id");
            }
        }
        if self.auth.lockout_failures < 1 || self.auth.lockout_secs < 0 || self.auth.max_clock_skew_secs < 0 {
            bail!("invalid settings: auth.lockout_failures must be at least 1, auth.lockout_secs and auth.max_clock_skew_secs not negative");
        }
        for (i, t) in self.auth.tokens.iter().enumerate() {
            if t.token.trim().is_empty() || t.domain_id.trim().is_empty() {
                bail!("invalid settings: auth.tokens[{i}] needs a non-empty token and domain_id");
            }
        }
        Ok(())
    }

    /// The `/metrics` listener's address, `None` when `server.metrics_listen` is empty (off).
    pub fn metrics_addr(&self) -> anyhow::Result<Option<SocketAddr>> {
        let listen = self.server.metrics_listen.trim();
        if listen.is_empty() {
            return Ok(None);
        }
        let addr = listen.parse().with_context(|| {
            format!("invalid settings: server.metrics_listen {listen:?} is not an address like 127.0.0.1:9090 (or empty: off)")
        })?;
        Ok(Some(addr))
    }

    pub fn listen_addr(&self) -> anyhow::Result<SocketAddr> {
        self.server.listen.parse().with_context(|| {
            format!("invalid settings: server.listen {:?} is not an address like 127.0.0.1:8080", self.server.listen)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_defaults_are_valid() {
        let settings: Settings = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        settings.validate().unwrap();
        assert_eq!(settings.server.listen, "127.0.0.1:8080");
        assert!(settings.auth.tokens.is_empty());
        assert_eq!(settings.metrics_addr().unwrap(), None, "metrics are off by default");
    }

    #[test]
    fn metrics_listen_is_an_address_or_empty() {
        let settings = Settings::load_from(None, env(&[("SMS__SERVER__METRICS_LISTEN", "127.0.0.1:9090")])).unwrap();
        assert_eq!(settings.metrics_addr().unwrap(), Some("127.0.0.1:9090".parse().unwrap()));
        let err = Settings::load_from(None, env(&[("SMS__SERVER__METRICS_LISTEN", "9090")])).unwrap_err().to_string();
        assert!(err.contains("server.metrics_listen"), "{err}");
    }

    #[test]
    fn a_bad_listen_address_is_refused_with_a_clear_message() {
        let mut settings: Settings = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        settings.server.listen = "nowhere".into();
        let err = settings.validate().unwrap_err().to_string();
        assert!(err.contains("server.listen"), "{err}");
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// A settings file with `text`, removed when dropped.
    struct TempFile(PathBuf);

    impl TempFile {
        fn new(text: &str) -> TempFile {
            let path = std::env::temp_dir().join(format!("sms-tasks-settings-{}.toml", uuid::Uuid::new_v4().simple()));
            std::fs::write(&path, text).unwrap();
            TempFile(path)
        }
    }

    impl Drop for TempFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    const CONFIGURED: &str = "postgres://app@db.example:5432/app";

    #[test]
    fn without_a_configured_url_the_embedded_default_applies_and_may_be_replaced_by_a_cluster() {
        let settings = Settings::load_from(None, env(&[("SMS__SERVER__WORKERS", "2")])).unwrap();
        assert_eq!(settings.database.configured_url, None);
        assert_eq!(settings.database.url(), DEFAULT_DATABASE_URL);
        assert!(settings.database.may_start_local_cluster());
        assert_eq!(settings.database.start_timeout_secs, 30);
    }

    #[test]
    fn a_file_without_a_database_url_leaves_it_unconfigured() {
        let file = TempFile::new("[server]\nlisten = \"127.0.0.1:9000\"\n");
        let settings = Settings::load_from(Some(&file.0), env(&[])).unwrap();
        assert_eq!(settings.server.listen, "127.0.0.1:9000");
        assert_eq!(settings.database.configured_url, None);
        assert!(settings.database.may_start_local_cluster());
    }

    #[test]
    fn a_url_in_the_config_file_is_configured() {
        let file = TempFile::new(&format!("[database]\nurl = \"{CONFIGURED}\"\n"));
        let settings = Settings::load_from(Some(&file.0), env(&[])).unwrap();
        assert_eq!(settings.database.url(), CONFIGURED);
        assert!(!settings.database.may_start_local_cluster());
    }

    #[test]
    fn a_url_in_sms_database_url_is_configured() {
        let settings = Settings::load_from(None, env(&[("SMS__DATABASE__URL", CONFIGURED)])).unwrap();
        assert_eq!(settings.database.url(), CONFIGURED);
        assert!(!settings.database.may_start_local_cluster());
    }

    #[test]
    fn database_url_is_configured_and_wins_over_the_other_layers() {
        let file = TempFile::new("[database]\nurl = \"postgres://from-file/x\"\n");
        let vars = env(&[("SMS__DATABASE__URL", "postgres://from-sms-env/x"), ("DATABASE_URL", CONFIGURED)]);
        let settings = Settings::load_from(Some(&file.0), vars).unwrap();
        assert_eq!(settings.database.url(), CONFIGURED);
        assert!(!settings.database.may_start_local_cluster());
    }

    #[test]
    fn a_configured_url_equal_to_the_default_is_still_configured() {
        // Naming the default server explicitly means "that server": wait for it, never replace it.
        let settings = Settings::load_from(None, env(&[("DATABASE_URL", DEFAULT_DATABASE_URL)])).unwrap();
        assert!(!settings.database.may_start_local_cluster());
    }

    #[test]
    fn local_cluster_false_never_allows_a_private_cluster() {
        let vars = env(&[("SMS__DATABASE__LOCAL_CLUSTER", "false"), ("SMS__DATABASE__START_TIMEOUT_SECS", "2")]);
        let settings = Settings::load_from(None, vars).unwrap();
        assert_eq!(settings.database.configured_url, None);
        assert!(!settings.database.may_start_local_cluster());
        assert_eq!(settings.database.start_timeout_secs, 2);
    }

    #[test]
    fn replica_and_pooler_settings_default_to_a_single_direct_server() {
        let settings = Settings::load_from(None, env(&[("DATABASE_URL", CONFIGURED)])).unwrap();
        assert_eq!(settings.database.replica_url, None);
        assert!(settings.database.prepared_statements);
        assert_eq!(settings.database.direct_url(), CONFIGURED);
    }

    #[test]
    fn turning_prepared_statements_off_needs_a_direct_url_for_migrations() {
        let vars =
            [("DATABASE_URL", "postgres://app@pgbouncer:6432/app"), ("SMS__DATABASE__PREPARED_STATEMENTS", "false")];
        let err = Settings::load_from(None, env(&vars)).unwrap_err().to_string();
        assert!(err.contains("database.direct_url"), "{err}");
        let vars = [vars[0], vars[1], ("SMS__DATABASE__DIRECT_URL", CONFIGURED)];
        let settings = Settings::load_from(None, env(&vars)).unwrap();
        assert_eq!(settings.database.direct_url(), CONFIGURED);
        assert_eq!(settings.database.url(), "postgres://app@pgbouncer:6432/app");
    }

    #[test]
    fn a_multi_host_url_is_refused_with_a_pointer_to_the_docs() {
        let url = "postgres://app:secret@db1:5432,db2:5432/app?target_session_attrs=read-write";
        let err = Settings::load_from(None, env(&[("DATABASE_URL", url)])).unwrap_err().to_string();
        assert!(err.contains("database.url names several hosts") && err.contains("docs/scaling.md"), "{err}");
        assert!(!names_several_hosts("postgres://app:p,w@db1:5432/app?options=a,b"));
    }

    #[test]
    fn a_replica_url_that_is_not_postgres_is_refused() {
        let err =
            Settings::load_from(None, env(&[("SMS__DATABASE__REPLICA_URL", "mysql://x/y")])).unwrap_err().to_string();
        assert!(err.contains("database.replica_url"), "{err}");
    }

    #[test]
    fn a_configured_url_that_is_not_postgres_is_refused() {
        let err = Settings::load_from(None, env(&[("DATABASE_URL", "mysql://x/y")])).unwrap_err().to_string();
        assert!(err.contains("database.url"), "{err}");
    }
}
