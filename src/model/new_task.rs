//! `POST /v3/tasks` (`PostTask`, page 003): a new task as sent, held to every rule of the page.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use super::enums::{OsType, TaskType};
use super::server::ServerInput;
use super::values::{Float, Int32, TaskName, Text, Text255};
use crate::parse::Command;
use crate::parse::{Checked, JsonPath};

/// A new task. Mandatory fields are not `Option`s: a body without one is refused naming it.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewTask {
    pub name: TaskName,
    #[serde(rename = "type")]
    pub task_type: TaskType,
    pub start_target_server: Option<bool>,
    pub auto_start: Option<bool>,
    pub os_type: Option<OsType>,
    pub source_server: SourceServerRef,
    pub target_server: ServerInput,
    pub migration_ip: Option<Text255>,
    pub region_name: Text255,
    pub region_id: Text255,
    pub project_name: Text255,
    pub project_id: Text255,
    pub priority: Option<Int32<0, 65535>>,
    pub vm_template_id: Option<Text<0, 100>>,
    pub clonevm_template_id: Option<Text<0, 100>>,
    pub use_public_ip: Option<bool>,
    pub use_ipv6: Option<bool>,
    pub syncing: Option<bool>,
    pub exist_server: Option<bool>,
    pub start_network_check: Option<bool>,
    pub speed_limit: Option<Int32<0, 1000>>,
    pub over_speed_threshold: Option<Float<10, 100>>,
    pub is_need_consistency_check: Option<bool>,
    pub need_migration_test: Option<bool>,
}

/// `SourceServerByTask`: the source server a new task migrates.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SourceServerRef {
    pub id: SourceServerId,
}

/// A source server id as sent: a string of at most 255 characters. One that is not a UUID
/// names no source server of ours (`SMS.2216` once the body is otherwise valid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceServerId {
    Id(Uuid),
    Unknown,
}

crate::openapi::custom_schema!(
    SourceServerId,
    ObjectBuilder::new().schema_type(Type::String).max_length(Some(255)).pattern(Some(crate::model::values::NO_NUL))
);

impl<'de> Deserialize<'de> for SourceServerId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SourceServerId, D::Error> {
        let text = Text255::deserialize(deserializer)?;
        Ok(Uuid::parse_str(&text).map_or(SourceServerId::Unknown, SourceServerId::Id))
    }
}

impl Command for NewTask {
    fn check(&mut self) -> Checked {
        let root = JsonPath::root();
        self.check_migration_ip(&root)?;
        // A task made from a template (`vm_template_id`) may leave the target's name and VM
        // to the template: Terraform sends neither (`api-decisions.md`).
        self.target_server.check_create_target(&root.field("target_server"), self.vm_template_id.is_some())
    }
}

impl NewTask {
    /// "If use_ipv6 is false, migration_ip must be IPv4; if true, IPv6."
    fn check_migration_ip(&self, root: &JsonPath) -> Checked {
        let Some(ip) = self.migration_ip.as_deref().filter(|ip| !ip.is_empty()) else {
            return Ok(());
        };
        if self.use_ipv6.unwrap_or(false) {
            if ip.parse::<Ipv6Addr>().is_err() {
                return Err(root.invalid("migration_ip", "must be an IPv6 address when use_ipv6 is true"));
            }
        } else if ip.parse::<Ipv4Addr>().is_err() {
            return Err(root.invalid("migration_ip", "must be an IPv4 address when use_ipv6 is false"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse::parse;

    fn body() -> serde_json::Value {
        json!({
            "name": "t1", "type": "MIGRATE_FILE", "region_name": "r", "region_id": "r",
            "project_name": "p", "project_id": "p",
            "source_server": { "id": "0a1b2c3d-0000-4000-8000-000000000001" },
            "target_server": { "name": "target", "vm_id": "vm-1" }
        })
    }

    fn refusal(body: serde_json::Value) -> String {
        parse::<NewTask>(body).unwrap_err().to_string()
    }

    #[test]
    fn a_valid_body_parses_into_a_command() {
        let task = parse::<NewTask>(body()).unwrap();
        assert_eq!(task.task_type, TaskType::MigrateFile);
        assert!(matches!(task.source_server.id, SourceServerId::Id(_)));
    }

    #[test]
    fn refusals_name_their_path() {
        let mut missing = body();
        missing.as_object_mut().unwrap().remove("region_id");
        assert_eq!(refusal(missing), "region_id: is mandatory");
        let mut target = body();
        target["target_server"].as_object_mut().unwrap().remove("vm_id");
        assert_eq!(refusal(target), "target_server.vm_id: is mandatory");
        let mut ip = body();
        ip["migration_ip"] = json!("::1");
        assert!(refusal(ip).starts_with("migration_ip: must be an IPv4 address"));
        let mut priority = body();
        priority["priority"] = json!(65536);
        assert!(refusal(priority).starts_with("priority: must be between 0 and 65535"));
    }

    #[test]
    fn a_target_from_a_template_needs_no_name_or_vm() {
        let mut templated = body();
        templated["target_server"] = json!({ "disks": [] });
        assert_eq!(refusal(templated.clone()), "target_server.name: is mandatory");
        templated["vm_template_id"] = json!("tpl-1");
        assert!(parse::<NewTask>(templated).is_ok());
    }

    #[test]
    fn a_source_id_that_is_not_a_uuid_names_no_source() {
        let mut other = body();
        other["source_server"]["id"] = json!("not-a-uuid");
        assert_eq!(parse::<NewTask>(other).unwrap().source_server.id, SourceServerId::Unknown);
    }
}
