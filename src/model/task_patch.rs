//! `PUT /v3/tasks/{task_id}`: every field of page 004's request table and of the SDK's
//! `PutTaskReq`, with partial semantics (`api-decisions.md`, Update). A field that may be
//! cleared is a [`Patch`] (absent / `null` / value); one that may not is an `Option` whose
//! `null` is refused; a present array replaces its collection, keeping the ids of elements
//! that match an existing child.

use serde::Deserialize;

use super::enums::{OsType, TaskState, TaskType};
use super::server::ServerPatch;
use super::task::{CloneServer, Subtask};
use super::tree::node::{members, Node};
use super::values::{not_null, Int32, NonNegative, Patch, Speed, Text, Text255};
use crate::parse::Command;
use crate::parse::{Checked, JsonPath};

members!(
    /// A subtask's id: kept when it names an existing subtask of the task.
    SubtaskMembers { id: Option<NonNegative> }
);

/// `SubTask` as sent in an update.
pub type SubtaskInput = Node<Subtask, SubtaskMembers>;

/// An enterprise project id as sent: 1–255 characters.
pub type ProjectRef = Text<1, 255>;

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct TaskPatch {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub name: Option<Text255>,
    #[serde(rename = "type", default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub task_type: Option<TaskType>,
    #[serde(default)]
    pub os_type: Patch<OsType>,
    /// Checked (at most 255 characters) and otherwise ignored: a task keeps its id.
    #[serde(default)]
    pub id: Patch<Text255>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub priority: Option<Int32<0, 2>>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub region_id: Option<Text255>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub start_target_server: Option<bool>,
    /// The SDK's `enterprise_project` is folded into this field by [`Command::check`].
    #[serde(default)]
    pub enterprise_project_id: Patch<ProjectRef>,
    #[serde(default)]
    enterprise_project: Patch<ProjectRef>,
    #[serde(default)]
    pub exist_server: Patch<bool>,
    #[serde(default)]
    pub migration_ip: Patch<Text255>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub region_name: Option<Text255>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub speed_limit: Option<Int32<0, 10000>>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub project_name: Option<Text255>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub project_id: Option<Text255>,
    #[serde(default)]
    pub vm_template_id: Patch<Text255>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub source_server: Option<ServerPatch>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false, schema_with = ServerPatch::target_schema)]
    pub target_server: Option<ServerPatch>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub state: Option<TaskState>,
    #[serde(default)]
    pub estimate_complete_time: Patch<NonNegative>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub connected: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub create_date: Option<NonNegative>,
    #[serde(default)]
    pub start_date: Patch<NonNegative>,
    #[serde(default)]
    pub finish_date: Patch<NonNegative>,
    #[serde(default)]
    pub migrate_speed: Patch<Speed>,
    #[serde(default)]
    pub error_json: Patch<Text<0, 1024>>,
    #[serde(default)]
    pub total_time: Patch<NonNegative>,
    #[serde(default)]
    pub float_ip: Patch<Text255>,
    #[serde(default)]
    pub remain_seconds: Patch<NonNegative>,
    #[serde(default)]
    pub target_snapshot_id: Patch<Text255>,
    #[serde(default)]
    pub clone_server: Patch<CloneServer>,
    #[serde(default)]
    pub sub_tasks: Patch<Vec<SubtaskInput>>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub use_ipv6: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub use_public_ip: Option<bool>,
    /// The SDK sends these target-server attributes at the top level.
    #[serde(default)]
    pub image_disk_id: Patch<Text255>,
    #[serde(default)]
    pub target_disk_ids: Patch<Text<0, 1024>>,
    #[serde(default)]
    pub snapshot_ids: Patch<Text255>,
    #[serde(default)]
    pub cutovered_snapshot_ids: Patch<Text255>,
}

/// Subtasks a task may hold.
const MAX_SUBTASKS: usize = 65535;

impl Command for TaskPatch {
    /// The rules no field's type holds: collection sizes, the mandatory fields of a target
    /// server and of the trees; and the SDK's alias, which yields to `enterprise_project_id`.
    fn check(&mut self) -> Checked {
        let root = JsonPath::root();
        if let Patch::Value(subtasks) = &self.sub_tasks {
            root.max_items("sub_tasks", subtasks.len(), MAX_SUBTASKS)?;
        }
        if let Some(source) = &self.source_server {
            source.check_source(&root.field("source_server"))?;
        }
        if let Some(target) = &self.target_server {
            target.check_target(&root.field("target_server"))?;
        }
        let alias = std::mem::take(&mut self.enterprise_project);
        self.enterprise_project_id = std::mem::take(&mut self.enterprise_project_id).or(alias);
        Ok(())
    }
}

impl TaskPatch {
    /// The subtasks the patch replaces the task's with (`null`: none), if it does.
    pub fn subtasks(&self) -> Option<&[SubtaskInput]> {
        match &self.sub_tasks {
            Patch::Absent => None,
            Patch::Null => Some(&[]),
            Patch::Value(subtasks) => Some(subtasks),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse::parse;

    fn refusal(body: serde_json::Value) -> String {
        parse::<TaskPatch>(body).unwrap_err().to_string()
    }

    #[test]
    fn absent_null_and_values_are_told_apart_by_type() {
        let patch = parse::<TaskPatch>(json!({ "migration_ip": null, "priority": 2 })).unwrap();
        assert_eq!(patch.migration_ip, Patch::Null);
        assert_eq!(patch.priority.map(Int32::get), Some(2));
        assert!(patch.float_ip.is_absent() && patch.name.is_none());
    }

    #[test]
    fn fields_that_cannot_be_cleared_refuse_null() {
        assert_eq!(refusal(json!({ "state": null })), "state: cannot be null");
        assert_eq!(refusal(json!({ "target_server": null })), "target_server: cannot be null");
    }

    #[test]
    fn enterprise_project_is_an_alias_that_yields() {
        let alias = parse::<TaskPatch>(json!({ "enterprise_project": "ep-1" })).unwrap();
        assert_eq!(alias.enterprise_project_id, Patch::Value(ProjectRef::parse("ep-1".into()).unwrap()));
        let both = parse::<TaskPatch>(json!({ "enterprise_project_id": "a", "enterprise_project": "b" })).unwrap();
        assert_eq!(both.enterprise_project_id, Patch::Value(ProjectRef::parse("a".into()).unwrap()));
        assert!(refusal(json!({ "enterprise_project": "" })).starts_with("enterprise_project: "));
    }

    #[test]
    fn a_target_server_needs_os_type_and_disks() {
        assert_eq!(refusal(json!({ "target_server": { "disks": [] } })), "target_server.os_type: is mandatory");
        assert_eq!(refusal(json!({ "target_server": { "os_type": "LINUX" } })), "target_server.disks: is mandatory");
        let ok = parse::<TaskPatch>(json!({ "target_server": { "os_type": "LINUX", "disks": [] } })).unwrap();
        assert_eq!(ok.target_server.unwrap().tree().disks.map(<[_]>::len), Some(0));
    }

    #[test]
    fn subtasks_need_their_progress() {
        assert_eq!(refusal(json!({ "sub_tasks": [{ "name": "x" }] })), "sub_tasks[0].progress: is mandatory");
        assert!(refusal(json!({ "sub_tasks": [{ "progress": 101 }] })).starts_with("sub_tasks[0].progress: must be"));
    }
}
