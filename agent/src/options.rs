//! The command line: every option of the simulated agent, with its defaults and checks.

use std::time::Duration;

use clap::{ArgGroup, Parser};

/// Plays N source-server agents against a running sms-tasks service over its public API:
/// registers the sources, polls their command queues, acknowledges commands and reports
/// progress subtask by subtask, like the real SMS agent.
#[derive(Debug, Clone, Parser)]
#[command(name = "sms-tasks-agent", bin_name = "sms-tasks agent", version)]
#[command(group(ArgGroup::new("credentials").required(true).args(["token", "ak"])))]
pub struct Options {
    /// Base URL of the service.
    #[arg(long, env = "SMS_AGENT_ENDPOINT", default_value = "http://127.0.0.1:8080", value_name = "URL")]
    pub endpoint: url::Url,

    /// A token, sent as `X-Auth-Token`.
    #[arg(long, env = "SMS_AGENT_TOKEN", value_name = "T", hide_env_values = true, conflicts_with = "ak")]
    pub token: Option<String>,

    /// Access key: requests are signed with SDK-HMAC-SHA256 (needs --sk).
    #[arg(long, env = "SMS_AGENT_AK", value_name = "AK", requires = "sk")]
    pub ak: Option<String>,

    /// Secret key of --ak.
    #[arg(long, env = "SMS_AGENT_SK", value_name = "SK", hide_env_values = true, requires = "ak")]
    pub sk: Option<String>,

    /// Sent (and signed) as `X-Domain-Id`, like the SDK's GlobalCredentials (with --ak only).
    #[arg(long, env = "SMS_AGENT_DOMAIN_ID", value_name = "ID", requires = "ak")]
    pub domain_id: Option<String>,

    /// How many source servers (agents) to play.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub sources: u32,

    /// Sources are named `{prefix}-{i}`, i from 0; existing sources of those names are reused.
    #[arg(long, default_value = "sim-agent", value_name = "PREFIX")]
    pub name_prefix: String,

    /// Seconds a whole task takes, all subtasks from 0 to 100.
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    pub pace_secs: f64,

    /// Fraction (0.0–1.0) of START commands acknowledged with `result: fail`.
    #[arg(long, default_value_t = 0.0, value_name = "F")]
    pub fail_fraction: f64,

    /// Upper bound of the agent's own request rate, all sources together (requests/s).
    #[arg(long, default_value_t = 50.0, value_name = "RPS")]
    pub max_rps: f64,

    /// Pause between two polls of one source's command queue when it is empty.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    pub poll_interval_ms: u64,

    /// Seed of the fail selection and of the generated trees: the same seed, the same choices.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// Exit (0) once no command has arrived and no task has been running for SECS seconds.
    #[arg(long, value_name = "SECS")]
    pub exit_when_idle: Option<f64>,

    /// Exit (0) after SECS seconds, whatever is going on.
    #[arg(long, value_name = "SECS")]
    pub run_secs: Option<f64>,

    /// Never show progress bars (they are shown only when stderr is a terminal).
    #[arg(long)]
    pub no_progress: bool,
}

/// How the agent authenticates.
#[derive(Debug, Clone)]
pub enum Credentials {
    Token(String),
    AccessKey { ak: String, sk: String, domain_id: Option<String> },
}

impl Options {
    /// Range checks that clap cannot express.
    pub fn validate(&self) -> Result<(), String> {
        if !matches!(self.endpoint.scheme(), "http" | "https") || self.endpoint.host_str().is_none() {
            return Err(format!("--endpoint must be an http(s) URL, not {}", self.endpoint));
        }
        if self.endpoint.scheme() == "https" {
            return Err("--endpoint: https is not supported (the agent speaks plain HTTP; put it behind no TLS proxy, or use http)".into());
        }
        if !(self.pace_secs.is_finite() && self.pace_secs >= 0.0) {
            return Err("--pace-secs must be a number ≥ 0".into());
        }
        if !(0.0..=1.0).contains(&self.fail_fraction) {
            return Err("--fail-fraction must be between 0.0 and 1.0".into());
        }
        if !(self.max_rps.is_finite() && self.max_rps > 0.0) {
            return Err("--max-rps must be a number > 0".into());
        }
        if self.name_prefix.is_empty() || self.name_prefix.len() + 1 + digits(self.sources) > 64 {
            return Err("--name-prefix must be 1 character or more, and `{prefix}-{i}` at most 64".into());
        }
        for (name, value) in [("--exit-when-idle", self.exit_when_idle), ("--run-secs", self.run_secs)] {
            if value.is_some_and(|v| !(v.is_finite() && v >= 0.0)) {
                return Err(format!("{name} must be a number of seconds ≥ 0"));
            }
        }
        if self.token.as_deref().is_some_and(str::is_empty) {
            return Err("--token is empty".into());
        }
        Ok(())
    }

    pub fn credentials(&self) -> Credentials {
        match (&self.token, &self.ak, &self.sk) {
            (Some(token), _, _) => Credentials::Token(token.clone()),
            (None, Some(ak), Some(sk)) => {
                Credentials::AccessKey { ak: ak.clone(), sk: sk.clone(), domain_id: self.domain_id.clone() }
            }
            // clap's `credentials` group and `requires` make this unreachable.
            _ => unreachable!("clap requires --token or --ak with --sk"),
        }
    }

    pub fn pace(&self) -> Duration {
        Duration::from_secs_f64(self.pace_secs)
    }

    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    /// The name of source `i`.
    pub fn source_name(&self, i: u32) -> String {
        format!("{}-{i}", self.name_prefix)
    }
}

fn digits(n: u32) -> usize {
    n.saturating_sub(1).max(1).ilog10() as usize + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Options, String> {
        let options = Options::try_parse_from(std::iter::once("sms-tasks-agent").chain(args.iter().copied()))
            .map_err(|e| e.to_string())?;
        options.validate()?;
        Ok(options)
    }

    #[test]
    fn defaults_and_credentials() {
        let options = parse(&["--token", "t"]).unwrap();
        assert_eq!(options.endpoint.as_str(), "http://127.0.0.1:8080/");
        assert_eq!((options.sources, options.name_prefix.as_str()), (1, "sim-agent"));
        assert_eq!(options.pace(), Duration::from_secs(60));
        assert_eq!(options.source_name(3), "sim-agent-3");
        assert!(matches!(options.credentials(), Credentials::Token(t) if t == "t"));

        let options = parse(&["--ak", "A", "--sk", "S", "--domain-id", "D"]).unwrap();
        assert!(matches!(options.credentials(), Credentials::AccessKey { domain_id: Some(d), .. } if d == "D"));
    }

    #[test]
    fn refusals() {
        assert!(parse(&[]).is_err(), "credentials are required");
        assert!(parse(&["--ak", "A"]).is_err(), "--ak needs --sk");
        assert!(parse(&["--token", "t", "--ak", "A", "--sk", "S"]).is_err());
        assert!(parse(&["--token", "t", "--domain-id", "D"]).is_err());
        assert!(parse(&["--token", "t", "--fail-fraction", "1.5"]).is_err());
        assert!(parse(&["--token", "t", "--max-rps", "0"]).is_err());
        assert!(parse(&["--token", "t", "--sources", "0"]).is_err());
        assert!(parse(&["--token", "t", "--endpoint", "ftp://x"]).is_err());
        assert!(parse(&["--token", "t", "--name-prefix", &"x".repeat(62), "--sources", "100"]).is_err());
        assert!(parse(&["--token", "t", "--name-prefix", &"x".repeat(61), "--sources", "100"]).is_ok());
    }
}
