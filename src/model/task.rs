//! Tasks: the stored rows of a task and its parts (subtasks, special configs, clone server,
//! network check) and the show view (page 000 and the SDK's `ShowTaskResponse`).

use serde::{Deserialize, Serialize};

use super::columns::attributes;
use uuid::Uuid;

use super::domain::DomainId;
use super::enums::{OsType, TaskState, TaskType};
use super::new_task::NewTask;
use super::server::SourceBriefView;
use super::tree::views::{TargetDiskView, VolumeGroupView};
use super::tree::TreeRows;
use super::values::{Int32, NonNegative, Speed, Text, Text255};

attributes! {
    /// A `tasks` row, column for column.
    pub struct TaskRow {
        pub id: Uuid,
        pub domain_id: DomainId,
        pub source_server_id: Uuid,
        pub name: String,
        #[serde(rename = "type")]
        pub task_type: TaskType => "type",
        pub os_type: Option<OsType>,
        pub state: TaskState,
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
}

impl TaskRow {
    /// A new `READY` task, with the defaults of page 003.
    pub fn new(body: &NewTask, id: Uuid, domain: &DomainId, source_server_id: Uuid, now_ms: i64) -> TaskRow {
        let text = |value: &Option<Text255>| value.as_ref().map(|v| v.to_string());
        TaskRow {
            id,
            domain_id: domain.clone(),
            source_server_id,
            name: body.name.clone().into_string(),
            task_type: body.task_type,
            os_type: body.os_type,
            state: TaskState::Ready,
            priority: body.priority.map_or(1, Int32::get),
            speed_limit: body.speed_limit.map_or(0, Int32::get),
            start_target_server: body.start_target_server.unwrap_or(true),
            auto_start: body.auto_start,
            migration_ip: text(&body.migration_ip),
            region_name: body.region_name.to_string(),
            region_id: body.region_id.to_string(),
            project_name: body.project_name.to_string(),
            project_id: body.project_id.to_string(),
            enterprise_project_id: None,
            vm_template_id: body.vm_template_id.as_ref().map(|v| v.to_string()),
            clonevm_template_id: body.clonevm_template_id.as_ref().map(|v| v.to_string()),
            use_public_ip: body.use_public_ip.unwrap_or(true),
            use_ipv6: body.use_ipv6.unwrap_or(false),
            syncing: body.syncing.unwrap_or(false),
            exist_server: body.exist_server,
            start_network_check: body.start_network_check,
            over_speed_threshold: body.over_speed_threshold.map_or(10.0, |t| t.get()),
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

attributes! {
    /// `SubTask`: the attributes of a subtask, as sent by an update, stored and shown.
    pub struct Subtask {
        pub name: Option<Text255>,
        pub progress: Int32<0, 100>,
        pub start_date: Option<NonNegative>,
        pub end_date: Option<NonNegative>,
        pub migrate_speed: Option<Speed>,
        pub user_op: Option<Text<0, 50>>,
        pub process_trace: Option<Text<0, 2048>>,
    }
}

#[derive(Debug, Clone, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SubtaskRow {
    pub id: i64,
    pub domain_id: DomainId,
    pub task_id: Uuid,
    pub position: i32,
    #[serde(flatten)]
    #[sqlx(flatten)]
    pub attrs: Subtask,
}

/// `SubTask` of show: its id and attributes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubtaskView<'a> {
    pub id: i64,
    #[serde(flatten)]
    pub attrs: &'a Subtask,
}

/// `ConfigBody`: a special config of a task.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SpecialConfig {
    pub config_key: String,
    pub config_value: Option<String>,
    pub config_status: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SpecialConfigRow {
    pub task_id: Uuid,
    #[sqlx(flatten)]
    pub config: SpecialConfig,
}

/// `CloneServer`: a row of `task_clone_servers`, as sent by an update and shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct CloneServer {
    pub vm_id: Option<Text255>,
    pub name: Option<Text255>,
    pub clone_error: Option<Text255>,
    pub clone_state: Option<Text255>,
    pub error_msg: Option<Text<0, 1024>>,
}

/// `NetworkCheckInfoRequestBody`: a row of `task_network_checks`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct NetworkCheck {
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

/// The target server of a task as show loads it: the fields its view serves.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TaskTargetRow {
    pub id: Uuid,
    pub vm_id: Option<String>,
    pub name: Option<String>,
    pub ip: Option<String>,
    pub os_type: Option<OsType>,
    pub os_version: Option<String>,
    pub system_dir: Option<String>,
    pub image_disk_id: Option<String>,
    pub cutovered_snapshot_ids: Option<String>,
}

/// `TaskTargetServer` of show (`btrfs_list` as JSON strings, `api-decisions.md` Show).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskTargetServerView<'a> {
    #[serde(flatten)]
    pub server: &'a TaskTargetRow,
    pub disks: Vec<TargetDiskView<'a>>,
    pub volume_groups: Vec<VolumeGroupView<'a>>,
    pub btrfs_list: Vec<String>,
}

impl<'a> TaskTargetServerView<'a> {
    pub fn new(server: &'a TaskTargetRow, rows: &'a TreeRows) -> TaskTargetServerView<'a> {
        let tree = rows.of_server(server.id);
        TaskTargetServerView {
            server,
            disks: tree.disks().map(|(disk, volumes)| TargetDiskView::new(disk, &volumes)).collect(),
            volume_groups: tree.volume_groups(),
            btrfs_list: tree
                .btrfs_list()
                .iter()
                .map(|fs| serde_json::to_string(fs).expect("a Btrfs view serializes"))
                .collect(),
        }
    }
}

/// Everything stored about one task, as loaded.
pub struct TaskRecord {
    pub task: TaskRow,
    pub source: Option<SourceBriefView>,
    pub target: Option<TaskTargetRow>,
    pub target_tree: TreeRows,
    pub clone_server: Option<CloneServer>,
    pub network_check: Option<NetworkCheck>,
    pub subtasks: Vec<SubtaskRow>,
}

/// `GET /v3/tasks/{task_id}`: every field of page 000 and the SDK's `ShowTaskResponse`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskView<'a> {
    pub id: Uuid,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub task_type: TaskType,
    pub os_type: Option<OsType>,
    pub state: TaskState,
    pub priority: i32,
    pub speed_limit: i32,
    pub region_id: &'a str,
    pub region_name: &'a str,
    pub project_name: &'a str,
    pub project_id: &'a str,
    pub start_target_server: bool,
    pub enterprise_project_id: Option<&'a str>,
    pub migration_ip: Option<&'a str>,
    pub vm_template_id: Option<&'a str>,
    pub source_server: Option<&'a SourceBriefView>,
    pub target_server: Option<TaskTargetServerView<'a>>,
    pub estimate_complete_time: Option<i64>,
    pub connected: bool,
    pub create_date: i64,
    pub start_date: Option<i64>,
    pub finish_date: Option<i64>,
    pub migrate_speed: Option<f64>,
    pub compress_rate: Option<f64>,
    pub error_json: Option<&'a str>,
    pub total_time: Option<i64>,
    pub float_ip: Option<&'a str>,
    pub remain_seconds: Option<i64>,
    pub target_snapshot_id: Option<&'a str>,
    pub clone_server: Option<&'a CloneServer>,
    pub sub_tasks: Vec<SubtaskView<'a>>,
    pub network_check_info: Option<&'a NetworkCheck>,
    pub total_cpu_usage: Option<f64>,
    pub agent_cpu_usage: Option<f64>,
    pub total_mem_usage: Option<f64>,
    pub agent_mem_usage: Option<f64>,
    pub total_disk_io: Option<f64>,
    pub agent_disk_io: Option<f64>,
    pub need_migration_test: Option<bool>,
    pub subtask_info: Option<&'a str>,
    /// Not in the SDK's `ShowTaskResponse`, but Terraform reads them back.
    pub use_public_ip: bool,
    pub use_ipv6: bool,
    pub syncing: bool,
}

impl<'a> From<&'a TaskRecord> for TaskView<'a> {
    fn from(record: &'a TaskRecord) -> TaskView<'a> {
        let t = &record.task;
        TaskView {
            id: t.id,
            name: &t.name,
            task_type: t.task_type,
            os_type: t.os_type,
            state: t.state,
            priority: t.priority,
            speed_limit: t.speed_limit,
            region_id: &t.region_id,
            region_name: &t.region_name,
            project_name: &t.project_name,
            project_id: &t.project_id,
            start_target_server: t.start_target_server,
            enterprise_project_id: t.enterprise_project_id.as_deref(),
            migration_ip: t.migration_ip.as_deref(),
            vm_template_id: t.vm_template_id.as_deref(),
            source_server: record.source.as_ref(),
            target_server: record.target.as_ref().map(|s| TaskTargetServerView::new(s, &record.target_tree)),
            estimate_complete_time: t.estimate_complete_time,
            connected: t.connected,
            create_date: t.create_date,
            start_date: t.start_date,
            finish_date: t.finish_date,
            migrate_speed: t.migrate_speed,
            compress_rate: t.compress_rate,
            error_json: t.error_json.as_deref(),
            total_time: t.total_time,
            float_ip: t.float_ip.as_deref(),
            remain_seconds: t.remain_seconds,
            target_snapshot_id: t.target_snapshot_id.as_deref(),
            clone_server: record.clone_server.as_ref(),
            sub_tasks: record.subtasks.iter().map(|s| SubtaskView { id: s.id, attrs: &s.attrs }).collect(),
            network_check_info: record.network_check.as_ref(),
            total_cpu_usage: t.total_cpu_usage,
            agent_cpu_usage: t.agent_cpu_usage,
            total_mem_usage: t.total_mem_usage,
            agent_mem_usage: t.agent_mem_usage,
            total_disk_io: t.total_disk_io,
            agent_disk_io: t.agent_disk_io,
            need_migration_test: t.need_migration_test,
            subtask_info: t.subtask_info.as_deref(),
            use_public_ip: t.use_public_ip,
            use_ipv6: t.use_ipv6,
            syncing: t.syncing,
        }
    }
}
