//! Source-server views: `ShowServerResponse` (show, with the whole tree and the current task)
//! and `SourceServersResponseBody` (list).

use serde::Serialize;
use uuid::Uuid;

use super::enums::{
    BootLoader, Firmware, MigrationCycle, OsType, Platform, SourceState, StartType, TaskState, TaskType,
};
use super::server::ServerRow;
use super::task::TaskRow;
use super::tree::views::{BtrfsView, NetworkView, ServerDiskView, TargetLayoutDiskView, VolumeGroupView};
use super::tree::TreeRows;
use super::values::{Int32, NonNegative, Speed, Text255};

/// `TaskByServerSource`: the source's task, briefly.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CurrentTaskView<'a> {
    pub id: Uuid,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub task_type: TaskType,
    pub state: TaskState,
    pub start_date: Option<i64>,
    pub speed_limit: i32,
    pub migrate_speed: Option<f64>,
    pub start_target_server: bool,
    pub vm_template_id: Option<&'a str>,
    pub region_id: &'a str,
    pub project_name: &'a str,
    pub project_id: &'a str,
    pub log_collect_status: Option<&'a str>,
    pub exist_server: Option<bool>,
    pub use_public_ip: bool,
    pub subtask_info: Option<&'a str>,
}

impl<'a> From<&'a TaskRow> for CurrentTaskView<'a> {
    fn from(t: &'a TaskRow) -> CurrentTaskView<'a> {
        CurrentTaskView {
            id: t.id,
            name: &t.name,
            task_type: t.task_type,
            state: t.state,
            start_date: t.start_date,
            speed_limit: t.speed_limit,
            migrate_speed: t.migrate_speed,
            start_target_server: t.start_target_server,
            vm_template_id: t.vm_template_id.as_deref(),
            region_id: &t.region_id,
            project_name: &t.project_name,
            project_id: &t.project_id,
            log_collect_status: t.log_collect_status.as_deref(),
            exist_server: t.exist_server,
            use_public_ip: t.use_public_ip,
            subtask_info: t.subtask_info.as_deref(),
        }
    }
}

/// `InitTargetServer`: the target layout a task for this source starts from.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InitTargetServerView<'a> {
    pub disks: Vec<TargetLayoutDiskView<'a>>,
    pub volume_groups: Vec<VolumeGroupView<'a>>,
}

/// `GET /v3/sources/{id}` (`ShowServerResponse`): the attributes of a source (not those of a
/// target: `vm_id`, `flavor`, snapshot and image ids), its tree and its task.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceView<'a> {
    pub id: Uuid,
    pub ip: Option<&'a Text255>,
    pub ipv6: Option<&'a Text255>,
    pub name: Option<&'a Text255>,
    pub hostname: Option<&'a Text255>,
    pub enterprise_project_id: Option<&'a str>,
    pub add_date: i64,
    pub os_type: Option<OsType>,
    pub os_version: Option<&'a Text255>,
    pub oem_system: Option<bool>,
    pub state: Option<SourceState>,
    pub connected: bool,
    pub firmware: Option<Firmware>,
    pub cpu_quantity: Option<Int32<0, 65535>>,
    pub memory: Option<NonNegative>,
    pub current_task: Option<CurrentTaskView<'a>>,
    pub init_target_server: InitTargetServerView<'a>,
    pub disks: Vec<ServerDiskView<'a>>,
    pub volume_groups: Vec<VolumeGroupView<'a>>,
    pub btrfs_list: Vec<BtrfsView<'a>>,
    pub networks: Vec<NetworkView<'a>>,
    pub migration_cycle: Option<MigrationCycle>,
    pub agent_version: Option<&'a Text255>,
    pub kernel_version: Option<&'a Text255>,
    pub has_tc: Option<bool>,
    pub start_type: Option<StartType>,
    pub platform: Option<Platform>,
    pub system_dir: Option<&'a Text255>,
    pub boot_loader: Option<BootLoader>,
    pub has_rsync: Option<bool>,
    pub paravirtualization: Option<bool>,
    pub raw_devices: Option<&'a Text255>,
    pub driver_files: Option<bool>,
    pub system_services: Option<bool>,
    pub account_rights: Option<bool>,
    pub linux_block_check: Option<&'a Text255>,
    pub virtualization_type: Option<&'a Text255>,
    pub io_read_wait: Option<Speed>,
    pub domain_id: Option<&'a Text255>,
}

impl<'a> SourceView<'a> {
    pub fn new(server: &'a ServerRow, tree: &'a TreeRows, task: Option<&'a TaskRow>) -> SourceView<'a> {
        let of_server = tree.of_server(server.id);
        let s = &server.attrs;
        SourceView {
            id: server.id,
            ip: s.ip.as_ref(),
            ipv6: s.ipv6.as_ref(),
            name: s.name.as_ref(),
            hostname: s.hostname.as_ref(),
            enterprise_project_id: server.enterprise_project_id.as_deref(),
            add_date: server.add_date,
            os_type: s.os_type,
            os_version: s.os_version.as_ref(),
            oem_system: s.oem_system,
            state: s.state,
            connected: server.connected,
            firmware: s.firmware,
            cpu_quantity: s.cpu_quantity,
            memory: s.memory,
            current_task: task.map(CurrentTaskView::from),
            init_target_server: InitTargetServerView {
                disks: of_server.disks().map(|(disk, volumes)| TargetLayoutDiskView::new(disk, &volumes)).collect(),
                volume_groups: of_server.volume_groups(),
            },
            disks: of_server.disks().map(|(disk, volumes)| ServerDiskView::new(disk, &volumes)).collect(),
            volume_groups: of_server.volume_groups(),
            btrfs_list: of_server.btrfs_list(),
            networks: of_server.networks(),
            migration_cycle: s.migration_cycle,
            agent_version: s.agent_version.as_ref(),
            kernel_version: s.kernel_version.as_ref(),
            has_tc: s.has_tc,
            start_type: s.start_type,
            platform: s.platform,
            system_dir: s.system_dir.as_ref(),
            boot_loader: s.boot_loader,
            has_rsync: s.has_rsync,
            paravirtualization: s.paravirtualization,
            raw_devices: s.raw_devices.as_ref(),
            driver_files: s.driver_files,
            system_services: s.system_services,
            account_rights: s.account_rights,
            linux_block_check: s.linux_block_check.as_ref(),
            virtualization_type: s.virtualization_type.as_ref(),
            io_read_wait: s.io_read_wait,
            domain_id: s.domain_id.as_ref(),
        }
    }
}

/// An element of `GET /v3/sources` (`SourceServersResponseBody`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceListItem<'a> {
    pub id: Uuid,
    pub ip: Option<&'a Text255>,
    pub name: Option<&'a Text255>,
    pub enterprise_project_id: Option<&'a str>,
    pub add_date: i64,
    pub os_type: Option<OsType>,
    pub os_version: Option<&'a Text255>,
    pub oem_system: Option<bool>,
    pub state: Option<SourceState>,
    pub connected: bool,
    pub cpu_quantity: Option<Int32<0, 65535>>,
    pub memory: Option<NonNegative>,
    pub migration_cycle: Option<MigrationCycle>,
    pub has_tc: Option<bool>,
    pub start_type: Option<StartType>,
}

impl<'a> From<&'a ServerRow> for SourceListItem<'a> {
    fn from(server: &'a ServerRow) -> SourceListItem<'a> {
        let s = &server.attrs;
        SourceListItem {
            id: server.id,
            ip: s.ip.as_ref(),
            name: s.name.as_ref(),
            enterprise_project_id: server.enterprise_project_id.as_deref(),
            add_date: server.add_date,
            os_type: s.os_type,
            os_version: s.os_version.as_ref(),
            oem_system: s.oem_system,
            state: s.state,
            connected: server.connected,
            cpu_quantity: s.cpu_quantity,
            memory: s.memory,
            migration_cycle: s.migration_cycle,
            has_tc: s.has_tc,
            start_type: s.start_type,
        }
    }
}
