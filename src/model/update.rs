//! `PUT /v3/tasks/{task_id}`: every field of seed 004's request table and of the SDK's
//! `PutTaskReq`, with partial semantics (`api-decisions.md`, Update): an absent field is
//! unchanged, a present value replaces, `null` clears a nullable field; a present array
//! replaces its collection, keeping the ids of elements that match an existing child.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::server::{ServerInput, OS_TYPES};
use super::task::{CloneServerView, TASK_STATES, TASK_TYPES};
use super::tree::TreeRules;
use crate::error::ApiError;
use crate::extract::from_value;
use crate::validate::{lengths, non_negative, Checked, JsonPath};

/// `SubTask` as sent in an update.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct SubtaskInput {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub progress: Option<i32>,
    pub start_date: Option<i64>,
    pub end_date: Option<i64>,
    pub migrate_speed: Option<f64>,
    pub user_op: Option<String>,
    pub process_trace: Option<String>,
}

/// The typed values of an update body. Which fields were present (and which were `null`) is
/// read from the body itself: see [`TaskUpdate`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct UpdateFields {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub task_type: Option<String>,
    pub os_type: Option<String>,
    pub id: Option<String>,
    pub priority: Option<i32>,
    pub region_id: Option<String>,
    pub start_target_server: Option<bool>,
    pub enterprise_project_id: Option<String>,
    /// The SDK's name for `enterprise_project_id`.
    pub enterprise_project: Option<String>,
    pub exist_server: Option<bool>,
    pub migration_ip: Option<String>,
    pub region_name: Option<String>,
    pub speed_limit: Option<i32>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub vm_template_id: Option<String>,
    pub source_server: Option<ServerInput>,
    pub target_server: Option<ServerInput>,
    pub state: Option<String>,
    pub estimate_complete_time: Option<i64>,
    pub connected: Option<bool>,
    pub create_date: Option<i64>,
    pub start_date: Option<i64>,
    pub finish_date: Option<i64>,
    pub migrate_speed: Option<f64>,
    pub error_json: Option<String>,
    pub total_time: Option<i64>,
    pub float_ip: Option<String>,
    pub remain_seconds: Option<i64>,
    pub target_snapshot_id: Option<String>,
    pub clone_server: Option<CloneServerView>,
    pub sub_tasks: Option<Vec<SubtaskInput>>,
    pub use_ipv6: Option<bool>,
    pub use_public_ip: Option<bool>,
    /// The SDK sends these target-server attributes at the top level.
    pub image_disk_id: Option<String>,
    pub target_disk_ids: Option<String>,
    pub snapshot_ids: Option<String>,
    pub cutovered_snapshot_ids: Option<String>,
}

/// An update body: its typed values and the keys it carried.
pub struct TaskUpdate {
    pub fields: UpdateFields,
    body: Map<String, Value>,
}

/// Presence of one key in a JSON object: absent, `null`, or a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Absent,
    Null,
    Value,
}

pub fn presence(object: &Map<String, Value>, key: &str) -> Presence {
    match object.get(key) {
        None => Presence::Absent,
        Some(Value::Null) => Presence::Null,
        Some(_) => Presence::Value,
    }
}

/// Task columns that may not be cleared with `null`.
const NOT_NULL: &[&str] = &[
    "name",
    "type",
    "priority",
    "speed_limit",
    "start_target_server",
    "region_id",
    "region_name",
    "project_name",
    "project_id",
    "state",
    "create_date",
    "connected",
    "use_ipv6",
    "use_public_ip",
    "source_server",
    "target_server",
];

impl TaskUpdate {
    pub fn parse(body: Value) -> Result<TaskUpdate, ApiError> {
        let Value::Object(map) = body else {
            return Err(ApiError::NotAnObject("found a non-object".into()));
        };
        let fields = from_value(Value::Object(map.clone()))?;
        Ok(TaskUpdate { fields, body: map })
    }

    pub fn presence(&self, key: &str) -> Presence {
        presence(&self.body, key)
    }

    /// The keys of a nested object of the body (`source_server`, `target_server`).
    pub fn object(&self, key: &str) -> Option<&Map<String, Value>> {
        self.body.get(key).and_then(Value::as_object)
    }

    /// Every rule of seed 004.
    pub fn validate(&self) -> Checked {
        let root = JsonPath::root();
        for key in NOT_NULL {
            if self.presence(key) == Presence::Null {
                return Err(root.invalid(key, "cannot be null"));
            }
        }
        let f = &self.fields;
        lengths(
            &root,
            &[
                ("name", &f.name),
                ("id", &f.id),
                ("region_id", &f.region_id),
                ("migration_ip", &f.migration_ip),
                ("region_name", &f.region_name),
                ("project_name", &f.project_name),
                ("project_id", &f.project_id),
                ("vm_template_id", &f.vm_template_id),
                ("float_ip", &f.float_ip),
                ("target_snapshot_id", &f.target_snapshot_id),
                ("image_disk_id", &f.image_disk_id),
                ("snapshot_ids", &f.snapshot_ids),
                ("cutovered_snapshot_ids", &f.cutovered_snapshot_ids),
            ],
            255,
        )?;
        root.length("enterprise_project_id", &f.enterprise_project_id, 1, 255)?;
        root.length("enterprise_project", &f.enterprise_project, 1, 255)?;
        root.length("error_json", &f.error_json, 0, 1024)?;
        root.length("target_disk_ids", &f.target_disk_ids, 0, 1024)?;
        root.one_of("type", &f.task_type, TASK_TYPES)?;
        root.one_of("os_type", &f.os_type, OS_TYPES)?;
        root.one_of("state", &f.state, TASK_STATES)?;
        root.range("priority", f.priority, 0, 2)?;
        root.range("speed_limit", f.speed_limit, 0, 10000)?;
        root.range("migrate_speed", f.migrate_speed, 0.0, 10000.0)?;
        non_negative(
            &root,
            &[
                ("estimate_complete_time", f.estimate_complete_time),
                ("create_date", f.create_date),
                ("start_date", f.start_date),
                ("finish_date", f.finish_date),
                ("total_time", f.total_time),
                ("remain_seconds", f.remain_seconds),
            ],
        )?;
        if let Some(clone) = &f.clone_server {
            let path = root.field("clone_server");
            lengths(
                &path,
                &[
                    ("vm_id", &clone.vm_id),
                    ("name", &clone.name),
                    ("clone_error", &clone.clone_error),
                    ("clone_state", &clone.clone_state),
                ],
                255,
            )?;
            path.length("error_msg", &clone.error_msg, 0, 1024)?;
        }
        if let Some(subtasks) = &f.sub_tasks {
            path_max(&root, "sub_tasks", subtasks.len(), 65535)?;
            for (i, subtask) in subtasks.iter().enumerate() {
                validate_subtask(&root.field("sub_tasks").index(i), subtask)?;
            }
        }
        if let Some(source) = &f.source_server {
            validate_server(&root.field("source_server"), source, TreeRules::Source)?;
        }
        if let Some(target) = &f.target_server {
            let path = root.field("target_server");
            // Seed 004 table 7 marks ip, os_type and disks mandatory in a TargetServer, yet the
            // page's own example sends `"ip": null` and the SDK drops null fields, so `ip` may
            // be absent; os_type and disks are required.
            path.required("os_type", &target.os_type)?;
            path.required("disks", &target.disks)?;
            validate_server(&path, target, TreeRules::UpdateTarget)?;
        }
        Ok(())
    }
}

fn path_max(path: &JsonPath, name: &str, n: usize, max: usize) -> Checked {
    if n > max {
        return Err(path.invalid(name, format_args!("must have at most {max} elements, found {n}")));
    }
    Ok(())
}

fn validate_subtask(path: &JsonPath, s: &SubtaskInput) -> Checked {
    path.required("progress", &s.progress)?;
    path.range("id", s.id, 0, i64::MAX)?;
    path.length("name", &s.name, 0, 255)?;
    path.range("progress", s.progress, 0, 100)?;
    non_negative(path, &[("start_date", s.start_date), ("end_date", s.end_date)])?;
    path.range("migrate_speed", s.migrate_speed, 0.0, 10000.0)?;
    path.length("user_op", &s.user_op, 0, 50)?;
    path.length("process_trace", &s.process_trace, 0, 2048)
}

/// A server object inside an update: seed 004's `PostSourceServerBody` or `TargetServer`.
fn validate_server(path: &JsonPath, server: &ServerInput, rules: TreeRules) -> Checked {
    server.validate_values(path)?;
    server.tree().validate(path, rules)
}
