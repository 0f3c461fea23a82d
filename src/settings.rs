//! Layered settings: the built-in `config/default.toml` < an optional file < `SMS__…`
//! environment variables < `DATABASE_URL`. Validated once, at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;

/// The documented defaults, built into the binary so it runs outside the checkout too.
const DEFAULTS: &str = include_str!("../config/default.toml");

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
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout_secs: u64,
    pub local_cluster: bool,
    pub local_cluster_dir: PathBuf,
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

impl Settings {
    /// Loads the layers and validates the result. `file` is `--config` (or `SMS_CONFIG`).
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        let mut builder =
            config::Config::builder().add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml));
        if let Some(file) = file {
            builder = builder.add_source(config::File::from(file).required(true));
        }
        builder = builder.add_source(
            config::Environment::with_prefix("SMS").prefix_separator("__").separator("__").try_parsing(true),
        );
        if let Ok(url) = std::env::var("DATABASE_URL") {
            builder = builder.set_override("database.url", url)?;
        }
        let settings: Settings = builder.build().and_then(|c| c.try_deserialize()).context("invalid settings")?;
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.listen_addr()?;
        if self.server.body_limit_bytes == 0 {
            bail!("invalid settings: server.body_limit_bytes must be greater than 0");
        }
        if self.database.pool_size == 0 {
            bail!("invalid settings: database.pool_size must be at least 1");
        }
        if !self.database.url.starts_with("postgres://") && !self.database.url.starts_with("postgresql://") {
            bail!("invalid settings: database.url must be a postgres:// URL");
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
}
