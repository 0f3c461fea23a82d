//! Source-server views: `ShowServerResponse` and `SourceServersResponseBody`.

use serde::Serialize;
use uuid::Uuid;

use super::server::ServerRow;
use super::task::TaskRow;
use super::tree::{BtrfsView, NetworkView, ServerDiskView, TreeRows, VolumeGroupView};

/// `TaskByServerSource`: the source's task, briefly.
#[derive(Debug, Serialize)]
pub struct CurrentTaskView {
    pub id: Uuid,
    pub name: String,
    #[serde(rename = "type")]
    pub task_type: String,
    pub state: String,
    pub start_date: Option<i64>,
    pub speed_limit: i32,
    pub migrate_speed: Option<f64>,
    pub start_target_server: bool,
    pub vm_template_id: Option<String>,
    pub region_id: String,
    pub project_name: String,
    pub project_id: String,
    pub log_collect_status: Option<String>,
    pub exist_server: Option<bool>,
    pub use_public_ip: bool,
    pub subtask_info: Option<String>,
}

impl From<&TaskRow> for CurrentTaskView {
    fn from(t: &TaskRow) -> CurrentTaskView {
        CurrentTaskView {
            id: t.id,
            name: t.name.clone(),
            task_type: t.task_type.clone(),
            state: t.state.clone(),
            start_date: t.start_date,
            speed_limit: t.speed_limit,
            migrate_speed: t.migrate_speed,
            start_target_server: t.start_target_server,
            vm_template_id: t.vm_template_id.clone(),
            region_id: t.region_id.clone(),
            project_name: t.project_name.clone(),
            project_id: t.project_id.clone(),
            log_collect_status: t.log_collect_status.clone(),
            exist_server: t.exist_server,
            use_public_ip: t.use_public_ip,
            subtask_info: t.subtask_info.clone(),
        }
    }
}

/// `GET /v3/sources/{id}` (`ShowServerResponse`), with the whole registered tree.
#[derive(Debug, Serialize)]
pub struct SourceView {
    pub id: Uuid,
    pub ip: Option<String>,
    pub ipv6: Option<String>,
    pub name: Option<String>,
    pub hostname: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub add_date: i64,
    pub os_type: Option<String>,
    pub os_version: Option<String>,
    pub oem_system: Option<bool>,
    pub state: Option<String>,
    pub connected: bool,
    pub firmware: Option<String>,
    pub cpu_quantity: Option<i32>,
    pub memory: Option<i64>,
    pub current_task: Option<CurrentTaskView>,
    pub disks: Vec<ServerDiskView>,
    pub volume_groups: Vec<VolumeGroupView>,
    pub btrfs_list: Vec<BtrfsView>,
    pub networks: Vec<NetworkView>,
    pub migration_cycle: Option<String>,
    pub agent_version: Option<String>,
    pub kernel_version: Option<String>,
    pub has_tc: Option<bool>,
    pub start_type: Option<String>,
    pub platform: Option<String>,
    pub system_dir: Option<String>,
    pub boot_loader: Option<String>,
    pub has_rsync: Option<bool>,
    pub paravirtualization: Option<bool>,
    pub raw_devices: Option<String>,
    pub driver_files: Option<bool>,
    pub system_services: Option<bool>,
    pub account_rights: Option<bool>,
    pub linux_block_check: Option<String>,
    pub virtualization_type: Option<String>,
    pub io_read_wait: Option<f64>,
    pub domain_id: Option<String>,
}

impl SourceView {
    pub fn new(server: ServerRow, tree: &TreeRows, task: Option<&TaskRow>) -> SourceView {
        let of_server = tree.of_server(server.id);
        SourceView {
            id: server.id,
            ip: server.ip,
            ipv6: server.ipv6,
            name: server.name,
            hostname: server.hostname,
            enterprise_project_id: server.enterprise_project_id,
            add_date: server.add_date,
            os_type: server.os_type,
            os_version: server.os_version,
            oem_system: server.oem_system,
            state: server.state,
            connected: server.connected,
            firmware: server.firmware,
            cpu_quantity: server.cpu_quantity,
            memory: server.memory,
            current_task: task.map(CurrentTaskView::from),
            disks: of_server.disks().iter().map(|(disk, volumes)| ServerDiskView::new(disk, volumes)).collect(),
            volume_groups: of_server.volume_groups(),
            btrfs_list: of_server.btrfs_list(),
            networks: of_server.networks(),
            migration_cycle: server.migration_cycle,
            agent_version: server.agent_version,
            kernel_version: server.kernel_version,
            has_tc: server.has_tc,
            start_type: server.start_type,
            platform: server.platform,
            system_dir: server.system_dir,
            boot_loader: server.boot_loader,
            has_rsync: server.has_rsync,
            paravirtualization: server.paravirtualization,
            raw_devices: server.raw_devices,
            driver_files: server.driver_files,
            system_services: server.system_services,
            account_rights: server.account_rights,
            linux_block_check: server.linux_block_check,
            virtualization_type: server.virtualization_type,
            io_read_wait: server.io_read_wait,
            domain_id: server.reported_domain_id,
        }
    }
}

/// An element of `GET /v3/sources` (`SourceServersResponseBody`).
#[derive(Debug, Serialize)]
pub struct SourceListItem {
    pub id: Uuid,
    pub ip: Option<String>,
    pub name: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub add_date: i64,
    pub os_type: Option<String>,
    pub os_version: Option<String>,
    pub oem_system: Option<bool>,
    pub state: Option<String>,
    pub connected: bool,
    pub cpu_quantity: Option<i32>,
    pub memory: Option<i64>,
    pub migration_cycle: Option<String>,
    pub has_tc: Option<bool>,
    pub start_type: Option<String>,
}

impl From<ServerRow> for SourceListItem {
    fn from(s: ServerRow) -> SourceListItem {
        SourceListItem {
            id: s.id,
            ip: s.ip,
            name: s.name,
            enterprise_project_id: s.enterprise_project_id,
            add_date: s.add_date,
            os_type: s.os_type,
            os_version: s.os_version,
            oem_system: s.oem_system,
            state: s.state,
            connected: s.connected,
            cpu_quantity: s.cpu_quantity,
            memory: s.memory,
            migration_cycle: s.migration_cycle,
            has_tc: s.has_tc,
            start_type: s.start_type,
        }
    }
}
