//! Tasks: the create body (`PostTask`, seed 003), the stored rows and the show view (seed 000
//! and the SDK's `ShowTaskResponse`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::server::{ServerInput, ServerRules, SourceBriefView, OS_TYPES};
use super::tree::{TargetDiskView, TreeRows, VolumeGroupView};
use crate::validate::{lengths, Checked, JsonPath};

pub const TASK_TYPES: &[&str] = &["MIGRATE_FILE", "MIGRATE_BLOCK"];

/// The union of the two state lists of seed 002 (response enum and filter enum).
pub const TASK_STATES: &[&str] = &[
    "READY",
    "RUNNING",
    "SYNCING",
    "MIGRATE_SUCCESS",
    "SYNC_SUCCESS",
    "MIGRATE_FAIL",
    "SYNC_FAIL",
    "ABORTING",
    "ABORT",
    "SKIPPING",
    "DELETING",
    "RESETING",
    "SYNC_F_ROLLBACKING",
    "SYNC_F_ROLLBACK_SUCCESS",
];

/// `SourceServerByTask`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct SourceServerRef {
    pub id: Option<String>,
}

/// `POST /v3/tasks` body (`PostTask`): every field of seed 003.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct CreateTask {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub task_type: Option<String>,
    pub start_target_server: Option<bool>,
    pub auto_start: Option<bool>,
    pub os_type: Option<String>,
    pub source_server: Option<SourceServerRef>,
    pub target_server: Option<ServerInput>,
    pub migration_ip: Option<String>,
    pub region_name: Option<String>,
    pub region_id: Option<String>,
    pub project_name: Option<String>,
    pub project_id: Option<String>,
    pub priority: Option<i32>,
    pub vm_template_id: Option<String>,
    pub clonevm_template_id: Option<String>,
    pub use_public_ip: Option<bool>,
    pub use_ipv6: Option<bool>,
    pub syncing: Option<bool>,
    pub exist_server: Option<bool>,
    pub start_network_check: Option<bool>,
    pub speed_limit: Option<i32>,
    pub over_speed_threshold: Option<f64>,
    pub is_need_consistency_check: Option<bool>,
    pub need_migration_test: Option<bool>,
}

/// A task name on create: 1–64 of `[A-Za-z0-9_-]`.
pub fn is_valid_task_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

impl CreateTask {
    /// Every rule of seed 003. Returns the source server id it names.
    pub fn validate(&self) -> Result<Uuid, crate::error::ApiError> {
        let root = JsonPath::root();
        let name = root.required("name", &self.name)?;
        if !is_valid_task_name(name) {
            return Err(root.invalid("name", "must be 1 to 64 characters of letters, digits, _ and -"));
        }
        root.required("type", &self.task_type)?;
        root.one_of("type", &self.task_type, TASK_TYPES)?;
        root.one_of("os_type", &self.os_type, OS_TYPES)?;
        for (name, value) in [
            ("region_name", &self.region_name),
            ("region_id", &self.region_id),
            ("project_name", &self.project_name),
            ("project_id", &self.project_id),
        ] {
            root.required(name, value)?;
        }
        let source = root.required("source_server", &self.source_server)?;
        let source_id = root.field("source_server").required("id", &source.id)?;
        root.field("source_server").length("id", &source.id, 0, 255)?;
        let target = root.required("target_server", &self.target_server)?;
        lengths(
            &root,
            &[
                ("migration_ip", &self.migration_ip),
                ("region_name", &self.region_name),
                ("region_id", &self.region_id),
                ("project_name", &self.project_name),
                ("project_id", &self.project_id),
            ],
            255,
        )?;
        lengths(
            &root,
            &[("vm_template_id", &self.vm_template_id), ("clonevm_template_id", &self.clonevm_template_id)],
            100,
        )?;
        root.range("priority", self.priority, 0, 65535)?;
        root.range("speed_limit", self.speed_limit, 0, 1000)?;
        root.range("over_speed_threshold", self.over_speed_threshold, 10.0, 100.0)?;
        self.validate_migration_ip(&root)?;
        target.validate(&root.field("target_server"), ServerRules::CreateTarget)?;
        // An id that is not a UUID names no source server of ours.
        Uuid::parse_str(source_id).map_err(|_| crate::error::ApiError::SourceServerMissing)
    }

    /// "If use_ipv6 is false, migration_ip must be IPv4; if true, IPv6."
    fn validate_migration_ip(&self, root: &JsonPath) -> Checked {
        let Some(ip) = self.migration_ip.as_deref().filter(|ip| !ip.is_empty()) else {
            return Ok(());
        };
        if self.use_ipv6.unwrap_or(false) {
            if ip.parse::<std::net::Ipv6Addr>().is_err() {
                return Err(root.invalid("migration_ip", "must be an IPv6 address when use_ipv6 is true"));
            }
        } else if ip.parse::<std::net::Ipv4Addr>().is_err() {
            return Err(root.invalid("migration_ip", "must be an IPv4 address when use_ipv6 is false"));
        }
        Ok(())
    }
}

/// A `tasks` row, column for column.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct TaskRow {
    pub id: Uuid,
    pub domain_id: String,
    pub source_server_id: Uuid,
    pub name: String,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    pub task_type: String,
    pub os_type: Option<String>,
    pub state: String,
    pub priority: i32,
    pub speed_limit: i32,
    pub start_target_server: bool,
    pub auto_start: Option<bool>,
    pub migration_ip: Option<String>,
    pub region_name: String,
    pub region_id: String,
    pub project_name: String,
    pub project_id: String,
    pub enterprise_project_id: Option<String>,
    pub vm_template_id: Option<String>,
    pub clonevm_template_id: Option<String>,
    pub use_public_ip: bool,
    pub use_ipv6: bool,
    pub syncing: bool,
    pub exist_server: Option<bool>,
    pub start_network_check: Option<bool>,
    pub over_speed_threshold: f64,
    pub is_need_consistency_check: Option<bool>,
    pub need_migration_test: Option<bool>,
    pub target_disk_ids: Option<String>,
    pub connected: bool,
    pub estimate_complete_time: Option<i64>,
    pub create_date: i64,
    pub start_date: Option<i64>,
    pub finish_date: Option<i64>,
    pub migrate_speed: Option<f64>,
    pub compress_rate: Option<f64>,
    pub error_json: Option<String>,
    pub total_time: Option<i64>,
    pub float_ip: Option<String>,
    pub remain_seconds: Option<i64>,
    pub target_snapshot_id: Option<String>,
    pub log_collect_status: Option<String>,
    pub total_cpu_usage: Option<f64>,
    pub agent_cpu_usage: Option<f64>,
    pub total_mem_usage: Option<f64>,
    pub agent_mem_usage: Option<f64>,
    pub total_disk_io: Option<f64>,
    pub agent_disk_io: Option<f64>,
    pub subtask_info: Option<String>,
}

impl TaskRow {
    /// A new `READY` task from a validated create body, with the defaults of seed 003.
    pub fn new(body: &CreateTask, id: Uuid, domain: &str, source_server_id: Uuid, now_ms: i64) -> TaskRow {
        TaskRow {
            id,
            domain_id: domain.to_string(),
            source_server_id,
            name: body.name.clone().unwrap_or_default(),
            task_type: body.task_type.clone().unwrap_or_default(),
            os_type: body.os_type.clone(),
            state: "READY".into(),
            priority: body.priority.unwrap_or(1),
            speed_limit: body.speed_limit.unwrap_or(0),
            start_target_server: body.start_target_server.unwrap_or(true),
            auto_start: body.auto_start,
            migration_ip: body.migration_ip.clone(),
            region_name: body.region_name.clone().unwrap_or_default(),
            region_id: body.region_id.clone().unwrap_or_default(),
            project_name: body.project_name.clone().unwrap_or_default(),
            project_id: body.project_id.clone().unwrap_or_default(),
            enterprise_project_id: None,
            vm_template_id: body.vm_template_id.clone(),
            clonevm_template_id: body.clonevm_template_id.clone(),
            use_public_ip: body.use_public_ip.unwrap_or(true),
            use_ipv6: body.use_ipv6.unwrap_or(false),
            syncing: body.syncing.unwrap_or(false),
            exist_server: body.exist_server,
            start_network_check: body.start_network_check,
            over_speed_threshold: body.over_speed_threshold.unwrap_or(10.0),
            is_need_consistency_check: body.is_need_consistency_check,
            need_migration_test: body.need_migration_test,
            target_disk_ids: None,
            connected: true,
            estimate_complete_time: None,
            create_date: now_ms,
            start_date: None,
            finish_date: None,
            migrate_speed: None,
            compress_rate: None,
            error_json: None,
            total_time: None,
            float_ip: None,
            remain_seconds: None,
            target_snapshot_id: None,
            log_collect_status: None,
            total_cpu_usage: None,
            agent_cpu_usage: None,
            total_mem_usage: None,
            agent_mem_usage: None,
            total_disk_io: None,
            agent_disk_io: None,
            subtask_info: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct SubtaskRow {
    pub id: i64,
    pub domain_id: String,
    pub task_id: Uuid,
    pub position: i32,
    pub name: Option<String>,
    pub progress: i32,
    pub start_date: Option<i64>,
    pub end_date: Option<i64>,
    pub migrate_speed: Option<f64>,
    pub user_op: Option<String>,
    pub process_trace: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct SpecialConfigRow {
    pub id: i64,
    pub domain_id: String,
    pub task_id: Uuid,
    pub position: i32,
    pub config_key: String,
    pub config_value: Option<String>,
    pub config_status: Option<String>,
}

/// `CloneServer`: a row of `task_clone_servers`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, sqlx::FromRow)]
pub struct CloneServerView {
    pub vm_id: Option<String>,
    pub name: Option<String>,
    pub clone_error: Option<String>,
    pub clone_state: Option<String>,
    pub error_msg: Option<String>,
}

/// `NetworkCheckInfoRequestBody`: a row of `task_network_checks`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, sqlx::FromRow)]
pub struct NetworkCheckView {
    pub domain_connectivity: Option<bool>,
    pub destination_connectivity: Option<bool>,
    pub network_delay: Option<f64>,
    pub network_jitter: Option<f64>,
    pub migration_speed: Option<f64>,
    pub loss_percentage: Option<f64>,
    pub cpu_usage: Option<f64>,
    pub mem_usage: Option<f64>,
    pub evaluation_result: Option<String>,
}

/// `SubTask` of show.
#[derive(Debug, Serialize)]
pub struct SubtaskView {
    pub id: i64,
    pub name: Option<String>,
    pub progress: i32,
    pub start_date: Option<i64>,
    pub end_date: Option<i64>,
    pub migrate_speed: Option<f64>,
    pub user_op: Option<String>,
    pub process_trace: Option<String>,
}

impl From<&SubtaskRow> for SubtaskView {
    fn from(s: &SubtaskRow) -> SubtaskView {
        SubtaskView {
            id: s.id,
            name: s.name.clone(),
            progress: s.progress,
            start_date: s.start_date,
            end_date: s.end_date,
            migrate_speed: s.migrate_speed,
            user_op: s.user_op.clone(),
            process_trace: s.process_trace.clone(),
        }
    }
}

/// `ConfigBody`.
#[derive(Debug, Serialize)]
pub struct SpecialConfigView {
    pub config_key: String,
    pub config_value: Option<String>,
    pub config_status: Option<String>,
}

impl From<&SpecialConfigRow> for SpecialConfigView {
    fn from(c: &SpecialConfigRow) -> SpecialConfigView {
        SpecialConfigView {
            config_key: c.config_key.clone(),
            config_value: c.config_value.clone(),
            config_status: c.config_status.clone(),
        }
    }
}

/// `TaskTargetServer` of show (`btrfs_list` as JSON strings, `api-decisions.md` Show).
#[derive(Debug, Serialize)]
pub struct TaskTargetServerView {
    pub id: Uuid,
    pub vm_id: Option<String>,
    pub name: Option<String>,
    pub ip: Option<String>,
    pub os_type: Option<String>,
    pub os_version: Option<String>,
    pub system_dir: Option<String>,
    pub disks: Vec<TargetDiskView>,
    pub volume_groups: Vec<VolumeGroupView>,
    pub btrfs_list: Vec<String>,
    pub image_disk_id: Option<String>,
    pub cutovered_snapshot_ids: Option<String>,
}

impl TaskTargetServerView {
    pub fn new(server: &super::server::ServerRow, rows: &TreeRows) -> TaskTargetServerView {
        let tree = rows.of_server(server.id);
        TaskTargetServerView {
            id: server.id,
            vm_id: server.vm_id.clone(),
            name: server.name.clone(),
            ip: server.ip.clone(),
            os_type: server.os_type.clone(),
            os_version: server.os_version.clone(),
            system_dir: server.system_dir.clone(),
            disks: tree.disks().iter().map(|(disk, volumes)| TargetDiskView::new(disk, volumes)).collect(),
            volume_groups: tree.volume_groups(),
            btrfs_list: tree
                .btrfs_list()
                .iter()
                .map(|fs| serde_json::to_string(fs).expect("a Btrfs view serializes"))
                .collect(),
            image_disk_id: server.image_disk_id.clone(),
            cutovered_snapshot_ids: server.cutovered_snapshot_ids.clone(),
        }
    }
}

/// `GET /v3/tasks/{task_id}`: every field of seed 000 and the SDK's `ShowTaskResponse`.
#[derive(Debug, Serialize)]
pub struct TaskView {
    pub id: Uuid,
    pub name: String,
    #[serde(rename = "type")]
    pub task_type: String,
    pub os_type: Option<String>,
    pub state: String,
    pub priority: i32,
    pub speed_limit: i32,
    pub region_id: String,
    pub region_name: String,
    pub project_name: String,
    pub project_id: String,
    pub start_target_server: bool,
    pub enterprise_project_id: Option<String>,
    pub migration_ip: Option<String>,
    pub vm_template_id: Option<String>,
    pub source_server: Option<SourceBriefView>,
    pub target_server: Option<TaskTargetServerView>,
    pub estimate_complete_time: Option<i64>,
    pub connected: bool,
    pub create_date: i64,
    pub start_date: Option<i64>,
    pub finish_date: Option<i64>,
    pub migrate_speed: Option<f64>,
    pub compress_rate: Option<f64>,
    pub error_json: Option<String>,
    pub total_time: Option<i64>,
    pub float_ip: Option<String>,
    pub remain_seconds: Option<i64>,
    pub target_snapshot_id: Option<String>,
    pub clone_server: Option<CloneServerView>,
    pub sub_tasks: Vec<SubtaskView>,
    pub network_check_info: Option<NetworkCheckView>,
    pub total_cpu_usage: Option<f64>,
    pub agent_cpu_usage: Option<f64>,
    pub total_mem_usage: Option<f64>,
    pub agent_mem_usage: Option<f64>,
    pub total_disk_io: Option<f64>,
    pub agent_disk_io: Option<f64>,
    pub need_migration_test: Option<bool>,
    pub subtask_info: Option<String>,
}

/// Everything stored about one task, as loaded.
pub struct TaskRecord {
    pub task: TaskRow,
    pub source: Option<SourceBriefView>,
    pub target: Option<super::server::ServerRow>,
    pub target_tree: TreeRows,
    pub clone_server: Option<CloneServerView>,
    pub network_check: Option<NetworkCheckView>,
    pub subtasks: Vec<SubtaskRow>,
}

impl From<TaskRecord> for TaskView {
    fn from(record: TaskRecord) -> TaskView {
        let t = record.task;
        TaskView {
            id: t.id,
            name: t.name,
            task_type: t.task_type,
            os_type: t.os_type,
            state: t.state,
            priority: t.priority,
            speed_limit: t.speed_limit,
            region_id: t.region_id,
            region_name: t.region_name,
            project_name: t.project_name,
            project_id: t.project_id,
            start_target_server: t.start_target_server,
            enterprise_project_id: t.enterprise_project_id,
            migration_ip: t.migration_ip,
            vm_template_id: t.vm_template_id,
            source_server: record.source,
            target_server: record.target.as_ref().map(|s| TaskTargetServerView::new(s, &record.target_tree)),
            estimate_complete_time: t.estimate_complete_time,
            connected: t.connected,
            create_date: t.create_date,
            start_date: t.start_date,
            finish_date: t.finish_date,
            migrate_speed: t.migrate_speed,
            compress_rate: t.compress_rate,
            error_json: t.error_json,
            total_time: t.total_time,
            float_ip: t.float_ip,
            remain_seconds: t.remain_seconds,
            target_snapshot_id: t.target_snapshot_id,
            clone_server: record.clone_server,
            sub_tasks: record.subtasks.iter().map(SubtaskView::from).collect(),
            network_check_info: record.network_check,
            total_cpu_usage: t.total_cpu_usage,
            agent_cpu_usage: t.agent_cpu_usage,
            total_mem_usage: t.total_mem_usage,
            agent_mem_usage: t.agent_mem_usage,
            total_disk_io: t.total_disk_io,
            agent_disk_io: t.agent_disk_io,
            need_migration_test: t.need_migration_test,
            subtask_info: t.subtask_info,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_names_follow_the_create_rule() {
        assert!(is_valid_task_name("MigrationTask"));
        assert!(is_valid_task_name("a-b_C9"));
        assert!(is_valid_task_name(&"x".repeat(64)));
        assert!(!is_valid_task_name(""));
        assert!(!is_valid_task_name(&"x".repeat(65)));
        assert!(!is_valid_task_name("with space"));
        assert!(!is_valid_task_name("dot.ted"));
        assert!(!is_valid_task_name("ünïcode"));
    }
}

/// `SubTaskAssociatedWithTask` (list): a subtask without `migrate_speed` and `user_op`.
#[derive(Debug, Serialize)]
pub struct SubtaskBriefView {
    pub id: i64,
    pub name: Option<String>,
    pub progress: i32,
    pub start_date: Option<i64>,
    pub end_date: Option<i64>,
    pub process_trace: Option<String>,
}

/// `SourceServerAssociatedWithTask` (list).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SourceServerAssociatedView {
    pub id: Uuid,
    pub ip: Option<String>,
    pub name: Option<String>,
    pub os_type: Option<String>,
    pub os_version: Option<String>,
    pub oem_system: Option<bool>,
    pub state: Option<String>,
}

/// `TargetServerAssociatedWithTask` (list).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct TargetServerAssociatedView {
    pub id: Uuid,
    #[serde(skip)]
    pub task_id: Uuid,
    pub vm_id: Option<String>,
    pub name: Option<String>,
    pub ip: Option<String>,
    pub os_type: Option<String>,
    pub os_version: Option<String>,
}

/// `CloneServerBrief` (list).
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct CloneServerBriefView {
    #[serde(skip)]
    pub task_id: Uuid,
    pub vm_id: Option<String>,
    pub name: Option<String>,
}

/// A task's network check, keyed by task.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NetworkCheckRow {
    pub task_id: Uuid,
    #[sqlx(flatten)]
    pub check: NetworkCheckView,
}

/// An element of `GET /v3/tasks` (`TasksResponseBody`, seed 002 table 4 and the SDK).
#[derive(Debug, Serialize)]
pub struct TaskListItem {
    pub id: Uuid,
    pub name: String,
    #[serde(rename = "type")]
    pub task_type: String,
    pub os_type: Option<String>,
    pub state: String,
    pub estimate_complete_time: Option<i64>,
    pub create_date: i64,
    pub priority: i32,
    pub speed_limit: i32,
    pub migrate_speed: Option<f64>,
    pub compress_rate: Option<f64>,
    pub start_target_server: bool,
    pub error_json: Option<String>,
    pub total_time: Option<i64>,
    pub migration_ip: Option<String>,
    pub sub_tasks: Vec<SubtaskBriefView>,
    pub source_server: Option<SourceServerAssociatedView>,
    pub enterprise_project_id: Option<String>,
    pub target_server: Option<TargetServerAssociatedView>,
    pub log_collect_status: Option<String>,
    pub clone_server: Option<CloneServerBriefView>,
    pub syncing: bool,
    pub network_check_info: Option<NetworkCheckView>,
    pub special_config: Vec<SpecialConfigView>,
    pub total_cpu_usage: Option<f64>,
    pub agent_cpu_usage: Option<f64>,
    pub total_mem_usage: Option<f64>,
    pub agent_mem_usage: Option<f64>,
    pub total_disk_io: Option<f64>,
    pub agent_disk_io: Option<f64>,
    pub need_migration_test: Option<bool>,
    pub subtask_info: Option<String>,
}

/// The rows of one list page: its tasks and their children, one query per table.
pub struct TaskPage {
    pub tasks: Vec<TaskRow>,
    pub subtasks: Vec<SubtaskRow>,
    pub special_configs: Vec<SpecialConfigRow>,
    pub sources: Vec<SourceServerAssociatedView>,
    pub targets: Vec<TargetServerAssociatedView>,
    pub clone_servers: Vec<CloneServerBriefView>,
    pub network_checks: Vec<NetworkCheckRow>,
}

impl TaskPage {
    /// The page's items, in the page's order.
    pub fn into_items(self) -> Vec<TaskListItem> {
        let TaskPage { tasks, subtasks, special_configs, sources, targets, clone_servers, network_checks } = self;
        let sources: std::collections::HashMap<Uuid, SourceServerAssociatedView> =
            sources.into_iter().map(|s| (s.id, s)).collect();
        let mut targets: std::collections::HashMap<Uuid, TargetServerAssociatedView> =
            targets.into_iter().map(|t| (t.task_id, t)).collect();
        let mut clones: std::collections::HashMap<Uuid, CloneServerBriefView> =
            clone_servers.into_iter().map(|c| (c.task_id, c)).collect();
        let mut checks: std::collections::HashMap<Uuid, NetworkCheckView> =
            network_checks.into_iter().map(|n| (n.task_id, n.check)).collect();
        let mut subtasks_of = group_by_task(subtasks, |s| s.task_id);
        let mut configs_of = group_by_task(special_configs, |c| c.task_id);
        tasks
            .into_iter()
            .map(|t| TaskListItem {
                sub_tasks: subtasks_of
                    .remove(&t.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| SubtaskBriefView {
                        id: s.id,
                        name: s.name,
                        progress: s.progress,
                        start_date: s.start_date,
                        end_date: s.end_date,
                        process_trace: s.process_trace,
                    })
                    .collect(),
                special_config: configs_of
                    .remove(&t.id)
                    .unwrap_or_default()
                    .iter()
                    .map(SpecialConfigView::from)
                    .collect(),
                source_server: sources.get(&t.source_server_id).cloned(),
                target_server: targets.remove(&t.id),
                clone_server: clones.remove(&t.id),
                network_check_info: checks.remove(&t.id),
                id: t.id,
                name: t.name,
                task_type: t.task_type,
                os_type: t.os_type,
                state: t.state,
                estimate_complete_time: t.estimate_complete_time,
                create_date: t.create_date,
                priority: t.priority,
                speed_limit: t.speed_limit,
                migrate_speed: t.migrate_speed,
                compress_rate: t.compress_rate,
                start_target_server: t.start_target_server,
                error_json: t.error_json,
                total_time: t.total_time,
                migration_ip: t.migration_ip,
                enterprise_project_id: t.enterprise_project_id,
                log_collect_status: t.log_collect_status,
                syncing: t.syncing,
                total_cpu_usage: t.total_cpu_usage,
                agent_cpu_usage: t.agent_cpu_usage,
                total_mem_usage: t.total_mem_usage,
                agent_mem_usage: t.agent_mem_usage,
                total_disk_io: t.total_disk_io,
                agent_disk_io: t.agent_disk_io,
                need_migration_test: t.need_migration_test,
                subtask_info: t.subtask_info,
            })
            .collect()
    }
}

/// Rows grouped by their task, keeping their order.
fn group_by_task<T>(rows: Vec<T>, task_of: impl Fn(&T) -> Uuid) -> std::collections::HashMap<Uuid, Vec<T>> {
    let mut groups: std::collections::HashMap<Uuid, Vec<T>> = std::collections::HashMap::new();
    for row in rows {
        groups.entry(task_of(&row)).or_default().push(row);
    }
    groups
}
