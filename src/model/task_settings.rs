//! A task's settings beside its row, each written by an endpoint of its own: the time-window
//! speed-limit rules (`SpeedLimit`), the special configurations (`ConfigurationRequestBody`),
//! the network check report (`NetworkCheckInfoRequestBody`), and the views that serve them
//! (with the passphrase's).
//! Each request body is a typed command: single values carry their rules in their types; what
//! spans values (rule order and overlap, repeated keys) is checked by the command.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};
use uuid::Uuid;

use super::enums::MigrateType;
use super::task::SpecialConfig;
use super::values::{Float, Int32, Text, UnknownValue};
use crate::parse::Command;
use crate::parse::{Checked, JsonPath};

// --- speed limits ------------------------------------------------------------------------

/// A time of day to the minute, `"HH:MM"` from `00:00` to `23:59` (two digits each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClockTime(u16);

impl ClockTime {
    pub fn parse(text: &str) -> Result<ClockTime, String> {
        let refuse = || format!("must be a time of day HH:MM from 00:00 to 23:59, found {text:?}");
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return Err(refuse());
        }
        let number = |digits: &[u8]| -> Option<u16> {
            digits.iter().try_fold(0u16, |n, b| b.is_ascii_digit().then(|| n * 10 + u16::from(b - b'0')))
        };
        match (number(&bytes[..2]), number(&bytes[3..])) {
            (Some(hours), Some(minutes)) if hours < 24 && minutes < 60 => Ok(ClockTime(hours * 60 + minutes)),
            _ => Err(refuse()),
        }
    }

    /// Minutes since midnight.
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

crate::openapi::custom_schema!(
    ClockTime,
    ObjectBuilder::new().schema_type(Type::String).pattern(Some("^([01][0-9]|2[0-3]):[0-5][0-9]$"))
);

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        ClockTime::parse(&text).map_err(D::Error::custom)
    }
}

/// Stored as its `"HH:MM"` text (`task_speed_limits.start_time`, `end_time`).
impl Type<Postgres> for ClockTime {
    fn type_info() -> PgTypeInfo {
        <String as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <String as Type<Postgres>>::compatible(ty)
    }
}

impl PgHasArrayType for ClockTime {
    fn array_type_info() -> PgTypeInfo {
        <String as PgHasArrayType>::array_type_info()
    }
}

impl Encode<'_, Postgres> for ClockTime {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <String as Encode<Postgres>>::encode_by_ref(&self.to_string(), buf)
    }
}

impl<'r> Decode<'r, Postgres> for ClockTime {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(ClockTime::parse(<&str as Decode<Postgres>>::decode(value)?)?)
    }
}

/// `SpeedLimitlJson`: from `start` (inclusive) to `end` (exclusive), at most `speed` Mbit/s
/// (0 = unlimited); `over_speed_threshold` is the percentage above which the task is stopped.
/// The pages mark `start`, `end` and `speed` mandatory (the SDK only `start`): all three are
/// needed for a rule to mean anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SpeedLimitRule {
    pub start: ClockTime,
    pub end: ClockTime,
    pub speed: Int32<0, 10000>,
    #[serde(default)]
    pub over_speed_threshold: Option<Float<0, 100>>,
}

/// `POST /v3/tasks/{task_id}/speed-limit`'s body (`SpeedLimit`): the task's whole rule set.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SpeedLimits {
    pub speed_limit: Vec<SpeedLimitRule>,
}

/// The pages' item limit; non-overlapping rules of at least a minute are far fewer anyway.
const MAX_SPEED_RULES: usize = 65535;

impl Command for SpeedLimits {
    fn check(&mut self) -> Checked {
        let root = JsonPath::root();
        root.max_items("speed_limit", self.speed_limit.len(), MAX_SPEED_RULES)?;
        let rules = root.field("speed_limit");
        for (i, rule) in self.speed_limit.iter().enumerate() {
            if rule.start >= rule.end {
                return Err(rules.index(i).invalid("end", format_args!("must be later than start ({})", rule.start)));
            }
        }
        if let Some((earlier, later)) = first_overlap(&self.speed_limit) {
            let (a, b) = (&self.speed_limit[earlier], &self.speed_limit[later]);
            // Name the field of the later rule (in the body) that reaches into the other one.
            let field = if b.start >= a.start { "start" } else { "end" };
            return Err(rules
                .index(later)
                .invalid(field, format_args!("overlaps speed_limit[{earlier}] ({}-{})", a.start, a.end)));
        }
        Ok(())
    }
}

/// Two rules whose half-open intervals `[start, end)` share a minute, as (lower index, higher
/// index); rules that only touch (`08:00-12:00`, `12:00-18:00`) do not overlap.
fn first_overlap(rules: &[SpeedLimitRule]) -> Option<(usize, usize)> {
    let mut order: Vec<usize> = (0..rules.len()).collect();
    order.sort_by_key(|&i| (rules[i].start, rules[i].end));
    // The rule reaching furthest among those seen so far.
    let mut reach: Option<usize> = None;
    for i in order {
        if let Some(r) = reach {
            if rules[i].start < rules[r].end {
                return Some((r.min(i), r.max(i)));
            }
            if rules[i].end <= rules[r].end {
                continue;
            }
        }
        reach = Some(i);
    }
    None
}

/// `GET /v3/tasks/{task_id}/speed-limit`'s body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SpeedLimitsView<'a> {
    pub speed_limit: &'a [SpeedLimitRule],
}

// --- special configurations --------------------------------------------------------------

/// A configuration key: the keys of the SDK and of the current pages, and the older pages'
/// names, which are distinct keys kept as sent (what a client writes, it reads back).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConfigKey(&'static str);

impl ConfigKey {
    pub const ALL: &'static [&'static str] = &[
        "MIGRATE_EXCLUDE_DIR",
        "SYNC_EXCLUDE_DIR",
        "ONLY_SYNC_DIR",
        "CONSISTENCY_DIR",
        "CONSISTENCY_DIR_ILLEGAL",
        "LINUX_BLOCK_COMPRESS_THREAD_NUM",
        "MIGRATE_DST_IP",
        "LINUX_BLOCK_CACHE_SIZE",
        "LINUX_CPU_LIMIT",
        "LINUX_MEM_LIMIT",
        "LINUX_IO_LIMIT",
        "NUM_PROCESS_MIGRATE",
        "NUM_PROCESS_SYNC",
        "CONSISTENCY_RECHECK",
        "CONSISTENCY_MODE",
        "DYNAMIC_PORT",
        "INSTALL_PWD_AGENT",
        // Older pages and the Terraform provider's documentation.
        "EXCLUDE_MIGRATE_PATH",
        "SYNC_EXCLUDE_PATH",
        "ONLY_SYNC_PATH",
    ];

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl FromStr for ConfigKey {
    type Err = UnknownValue;
    fn from_str(text: &str) -> Result<ConfigKey, UnknownValue> {
        ConfigKey::ALL
            .iter()
            .find(|key| **key == text)
            .map(|key| ConfigKey(key))
            .ok_or_else(|| UnknownValue { allowed: ConfigKey::ALL, found: text.to_string() })
    }
}

crate::openapi::custom_schema!(
    ConfigKey,
    ObjectBuilder::new().schema_type(Type::String).enum_values(Some(ConfigKey::ALL.iter().copied()))
);

impl<'de> Deserialize<'de> for ConfigKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(D::Error::custom)
    }
}

/// `ConfigBody`: one configuration. `config_value` is stored for the agent to parse;
/// `config_status` is reserved. An absent value or status is stored as `null`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ConfigItem {
    pub config_key: ConfigKey,
    #[serde(default)]
    pub config_value: Option<Text<0, 1024>>,
    #[serde(default)]
    pub config_status: Option<Text<0, 255>>,
}

/// `POST /v3/tasks/{task_id}/configuration-setting`'s body (`ConfigurationRequestBody`).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct Configurations {
    pub configurations: Vec<ConfigItem>,
}

/// The current pages' limit (the 2024 pages said 10).
const MAX_CONFIGURATIONS: usize = 50;

impl Command for Configurations {
    fn check(&mut self) -> Checked {
        let root = JsonPath::root();
        root.max_items("configurations", self.configurations.len(), MAX_CONFIGURATIONS)?;
        let mut seen: HashMap<ConfigKey, usize> = HashMap::new();
        for (i, item) in self.configurations.iter().enumerate() {
            if let Some(first) = seen.insert(item.config_key, i) {
                return Err(root.field("configurations").index(i).invalid(
                    "config_key",
                    format_args!("repeats configurations[{first}].config_key {:?}", item.config_key.as_str()),
                ));
            }
        }
        Ok(())
    }
}

/// `GET /v3/tasks/{task_id}/configuration-setting`'s body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ConfigSettingView {
    pub task_id: Uuid,
    pub migrate_type: MigrateType,
    pub configurations: Vec<SpecialConfig>,
}

/// `GET /v3/tasks/{task_id}/passphrase`'s body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PassphraseView {
    pub task_id: Uuid,
    pub passphrase: String,
}

// --- network check -----------------------------------------------------------------------

/// `POST /v3/{task_id}/update-network-check-info`'s body (`NetworkCheckInfoRequestBody`).
/// Mandatory are the fields that both the SDK and the pages mark so; the report replaces the
/// task's previous one, so an absent optional field is stored as `null`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NetworkCheckReport {
    #[serde(default)]
    pub domain_connectivity: Option<bool>,
    #[serde(default)]
    pub destination_connectivity: Option<bool>,
    /// Milliseconds.
    pub network_delay: Float<0, 10000>,
    #[serde(default)]
    pub network_jitter: Option<Float<0, 10000>>,
    /// Mbit/s.
    pub migration_speed: Float<0, 10000>,
    /// Percentages.
    #[serde(default)]
    pub loss_percentage: Option<Float<0, 100>>,
    pub cpu_usage: Float<0, 100>,
    #[serde(default)]
    pub mem_usage: Option<Float<0, 100>>,
    pub evaluation_result: Text<5, 9>,
}

impl Command for NetworkCheckReport {
    fn check(&mut self) -> Checked {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse;

    fn refusal<T: Command>(body: serde_json::Value) -> String {
        parse::parse::<T>(body).map(|_| ()).unwrap_err().to_string()
    }

    #[test]
    fn clock_times_are_hh_mm_of_one_day() {
        for (text, minutes) in [("00:00", 0), ("09:05", 545), ("23:59", 1439)] {
            let time = ClockTime::parse(text).unwrap();
            assert_eq!((time.minutes(), time.to_string()), (minutes, text.to_string()));
        }
        for bad in ["24:00", "23:60", "9:00", "09:0", "0900", "09:00:00", "+9:00", "aa:bb", "", "09-00", "１２:00"] {
            assert!(ClockTime::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rules_keep_to_their_ranges() {
        let rule = |speed: i64, threshold: f64| json!({ "speed_limit": [{ "start": "00:00", "end": "23:59", "speed": speed, "over_speed_threshold": threshold }] });
        assert!(parse::parse::<SpeedLimits>(rule(10000, 100.0)).is_ok());
        assert!(
            refusal::<SpeedLimits>(rule(10001, 0.0)).starts_with("speed_limit[0].speed: must be between 0 and 10000")
        );
        assert!(refusal::<SpeedLimits>(rule(0, 100.5)).starts_with("speed_limit[0].over_speed_threshold:"));
        assert_eq!(
            refusal::<SpeedLimits>(json!({ "speed_limit": [{ "start": "01:00", "speed": 1 }] })),
            "speed_limit[0].end: is mandatory"
        );
        assert_eq!(refusal::<SpeedLimits>(json!({})), "speed_limit: is mandatory");
    }

    #[test]
    fn a_rule_ends_after_it_starts() {
        let body = json!({ "speed_limit": [
            { "start": "00:00", "end": "01:00", "speed": 1 },
            { "start": "08:00", "end": "08:00", "speed": 1 },
        ] });
        assert_eq!(refusal::<SpeedLimits>(body), "speed_limit[1].end: must be later than start (08:00)");
    }

    #[test]
    fn rules_may_touch_but_not_overlap() {
        let rules = |spans: &[(&str, &str)]| {
            let rules: Vec<_> = spans.iter().map(|(s, e)| json!({ "start": s, "end": e, "speed": 5 })).collect();
            json!({ "speed_limit": rules })
        };
        assert!(
            parse::parse::<SpeedLimits>(rules(&[("12:00", "18:00"), ("08:00", "12:00"), ("18:00", "23:59")])).is_ok()
        );
        assert_eq!(
            refusal::<SpeedLimits>(rules(&[("08:00", "12:00"), ("11:59", "13:00")])),
            "speed_limit[1].start: overlaps speed_limit[0] (08:00-12:00)"
        );
        // The later rule in the body starts earlier and reaches into the first one.
        assert_eq!(
            refusal::<SpeedLimits>(rules(&[("10:00", "12:00"), ("09:00", "10:30")])),
            "speed_limit[1].end: overlaps speed_limit[0] (10:00-12:00)"
        );
        // A long rule covers two others that do not touch it at their neighbours.
        assert_eq!(
            refusal::<SpeedLimits>(rules(&[("13:00", "14:00"), ("00:00", "23:00"), ("05:00", "06:00")])),
            "speed_limit[2].start: overlaps speed_limit[1] (00:00-23:00)"
        );
        assert!(parse::parse::<SpeedLimits>(json!({ "speed_limit": [] })).is_ok());
    }

    #[test]
    fn configuration_keys_are_the_documented_ones() {
        let body = |key: &str| json!({ "configurations": [{ "config_key": key, "config_value": "v" }] });
        for key in ConfigKey::ALL {
            assert!(parse::parse::<Configurations>(body(key)).is_ok(), "{key}");
        }
        assert!(refusal::<Configurations>(body("NOPE")).starts_with("configurations[0].config_key: must be one of"));
        let long = json!({ "configurations": [{ "config_key": "DYNAMIC_PORT", "config_value": "x".repeat(1025) }] });
        assert!(refusal::<Configurations>(long).starts_with("configurations[0].config_value: must be 0 to 1024"));
        let twice = json!({ "configurations": [
            { "config_key": "DYNAMIC_PORT" }, { "config_key": "LINUX_CPU_LIMIT" }, { "config_key": "DYNAMIC_PORT" }
        ] });
        assert_eq!(
            refusal::<Configurations>(twice),
            "configurations[2].config_key: repeats configurations[0].config_key \"DYNAMIC_PORT\""
        );
        let many: Vec<_> = (0..51).map(|_| json!({ "config_key": "DYNAMIC_PORT" })).collect();
        assert!(refusal::<Configurations>(json!({ "configurations": many }))
            .starts_with("configurations: must have at most 50"));
    }

    #[test]
    fn network_checks_keep_to_their_ranges() {
        let report =
            json!({ "network_delay": 20.5, "migration_speed": 100, "cpu_usage": 50, "evaluation_result": "success" });
        assert!(parse::parse::<NetworkCheckReport>(report.clone()).is_ok());
        for (field, value, path) in [
            ("network_delay", json!(10000.1), "network_delay"),
            ("network_jitter", json!(-1), "network_jitter"),
            ("loss_percentage", json!(101), "loss_percentage"),
            ("mem_usage", json!("high"), "mem_usage"),
            ("evaluation_result", json!("fail"), "evaluation_result"),
            ("evaluation_result", json!("0123456789"), "evaluation_result"),
            ("domain_connectivity", json!("yes"), "domain_connectivity"),
        ] {
            let mut body = report.clone();
            body[field] = value;
            assert!(refusal::<NetworkCheckReport>(body).starts_with(&format!("{path}:")), "{field}");
        }
        let mut body = report;
        body.as_object_mut().unwrap().remove("cpu_usage");
        assert_eq!(refusal::<NetworkCheckReport>(body), "cpu_usage: is mandatory");
    }
}
