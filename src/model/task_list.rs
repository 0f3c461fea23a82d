//! `GET /v3/tasks`: the rows of one list page and the items they make (`TasksResponseBody`,
//! page 002 table 4 and the SDK).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::enums::{OsType, SourceState, TaskState, TaskType};
use super::task::{NetworkCheck, SpecialConfig, SpecialConfigRow, SubtaskRow, TaskRow};
use super::values::{NonNegative, Text, Text255};

/// `SubTaskAssociatedWithTask`: a subtask without `migrate_speed` and `user_op`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubtaskBriefView<'a> {
    pub id: i64,
    pub name: Option<&'a Text255>,
    pub progress: i32,
    pub start_date: Option<NonNegative>,
    pub end_date: Option<NonNegative>,
    pub process_trace: Option<&'a Text<0, 2048>>,
}

impl<'a> From<&'a SubtaskRow> for SubtaskBriefView<'a> {
    fn from(s: &'a SubtaskRow) -> SubtaskBriefView<'a> {
        SubtaskBriefView {
            id: s.id,
            name: s.attrs.name.as_ref(),
            progress: s.attrs.progress.get(),
            start_date: s.attrs.start_date,
            end_date: s.attrs.end_date,
            process_trace: s.attrs.process_trace.as_ref(),
        }
    }
}

/// `SourceServerAssociatedWithTask`.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SourceServerAssociatedView {
    pub id: Uuid,
    pub ip: Option<String>,
    pub name: Option<String>,
    pub os_type: Option<OsType>,
    pub os_version: Option<String>,
    pub oem_system: Option<bool>,
    pub state: Option<SourceState>,
}

/// `TargetServerAssociatedWithTask`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct TargetServerAssociatedView {
    pub id: Uuid,
    #[serde(skip)]
    pub task_id: Uuid,
    pub vm_id: Option<String>,
    pub name: Option<String>,
    pub ip: Option<String>,
    pub os_type: Option<OsType>,
    pub os_version: Option<String>,
}

/// `CloneServerBrief`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
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
    pub check: NetworkCheck,
}

/// An element of `GET /v3/tasks`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TaskListItem<'a> {
    pub id: Uuid,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub task_type: TaskType,
    pub os_type: Option<OsType>,
    pub state: TaskState,
    pub estimate_complete_time: Option<i64>,
    pub create_date: i64,
    pub priority: i32,
    pub speed_limit: i32,
    pub migrate_speed: Option<f64>,
    pub compress_rate: Option<f64>,
    pub start_target_server: bool,
    pub error_json: Option<&'a str>,
    pub total_time: Option<i64>,
    pub migration_ip: Option<&'a str>,
    pub sub_tasks: Vec<SubtaskBriefView<'a>>,
    pub source_server: Option<&'a SourceServerAssociatedView>,
    pub enterprise_project_id: Option<&'a str>,
    pub target_server: Option<&'a TargetServerAssociatedView>,
    pub log_collect_status: Option<&'a str>,
    pub clone_server: Option<&'a CloneServerBriefView>,
    pub syncing: bool,
    pub network_check_info: Option<&'a NetworkCheck>,
    pub special_config: Vec<&'a SpecialConfig>,
    pub total_cpu_usage: Option<f64>,
    pub agent_cpu_usage: Option<f64>,
    pub total_mem_usage: Option<f64>,
    pub agent_mem_usage: Option<f64>,
    pub total_disk_io: Option<f64>,
    pub agent_disk_io: Option<f64>,
    pub need_migration_test: Option<bool>,
    pub subtask_info: Option<&'a str>,
    /// Not in the SDK's list item, but Terraform's data source reads them.
    pub use_public_ip: bool,
    pub use_ipv6: bool,
}

/// The rows of one list page: its tasks and their children, one query per table.
#[derive(Default)]
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
    pub fn items(&self) -> Vec<TaskListItem<'_>> {
        let sources: HashMap<Uuid, &SourceServerAssociatedView> = self.sources.iter().map(|s| (s.id, s)).collect();
        let targets: HashMap<Uuid, &TargetServerAssociatedView> = self.targets.iter().map(|t| (t.task_id, t)).collect();
        let clones: HashMap<Uuid, &CloneServerBriefView> = self.clone_servers.iter().map(|c| (c.task_id, c)).collect();
        let checks: HashMap<Uuid, &NetworkCheck> = self.network_checks.iter().map(|n| (n.task_id, &n.check)).collect();
        let subtasks_of = group_by_task(&self.subtasks, |s| s.task_id);
        let configs_of = group_by_task(&self.special_configs, |c| c.task_id);
        self.tasks
            .iter()
            .map(|t| TaskListItem {
                id: t.id,
                name: &t.name,
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
                error_json: t.error_json.as_deref(),
                total_time: t.total_time,
                migration_ip: t.migration_ip.as_deref(),
                sub_tasks: subtasks_of.get(&t.id).into_iter().flatten().map(|s| SubtaskBriefView::from(*s)).collect(),
                source_server: sources.get(&t.source_server_id).copied(),
                enterprise_project_id: t.enterprise_project_id.as_deref(),
                target_server: targets.get(&t.id).copied(),
                log_collect_status: t.log_collect_status.as_deref(),
                clone_server: clones.get(&t.id).copied(),
                syncing: t.syncing,
                network_check_info: checks.get(&t.id).copied(),
                special_config: configs_of.get(&t.id).into_iter().flatten().map(|c| &c.config).collect(),
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
            })
            .collect()
    }
}

/// Rows grouped by their task, keeping their order.
fn group_by_task<T>(rows: &[T], task_of: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Vec<&T>> {
    let mut groups: HashMap<Uuid, Vec<&T>> = HashMap::new();
    for row in rows {
        groups.entry(task_of(row)).or_default().push(row);
    }
    groups
}
