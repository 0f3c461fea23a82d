//! Servers: registered source servers and task target servers (one table, `role`).

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::tree::{BtrfsInput, DiskInput, NetworkInput, TreeInput, TreeRules, VolumeGroupInput};
use crate::validate::{lengths, Checked, JsonPath};

pub const OS_TYPES: &[&str] = &["WINDOWS", "LINUX"];
pub const FIRMWARES: &[&str] = &["BIOS", "UEFI"];
pub const BOOT_LOADERS: &[&str] = &["GRUB", "LILO"];
pub const START_TYPES: &[&str] = &["MANUAL", "MGC", ""];
pub const PLATFORMS: &[&str] = &["hw", "ali", "aws", "azure", "gcp", "tencent", "vmware", "hyperv", "other", "default"];
pub const MIGRATION_CYCLES: &[&str] = &["cutovering", "cutovered", "checking", "setting", "replicating", "syncing"];
pub const SOURCE_STATES: &[&str] = &[
    "unavailable",
    "waiting",
    "initialize",
    "replicate",
    "syncing",
    "stopping",
    "stopped",
    "skipping",
    "deleting",
    "clearing",
    "cleared",
    "clearfailed",
    "premigready",
    "premiged",
    "premigfailed",
    "cloning",
    "cutovering",
    "finished",
    "error",
];

/// Which page's rules a server body is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerRules {
    /// `POST /v3/sources`: `name` 1–64 and `os_type` mandatory, `ip` or `ipv6` required.
    Register,
    /// `target_server` of `POST /v3/tasks` (`TargetServerByTask`): `name` and `vm_id` mandatory.
    CreateTarget,
}

/// A server as sent: `PostSourceServerBody` (seed 004 table 4 and the SDK), `TargetServer`
/// (seed 004 table 7) and `TargetServerByTask` (seed 003) together.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct ServerInput {
    pub id: Option<String>,
    pub ip: Option<String>,
    pub ipv6: Option<String>,
    pub name: Option<String>,
    pub hostname: Option<String>,
    pub os_type: Option<String>,
    pub os_version: Option<String>,
    pub virtualization_type: Option<String>,
    pub linux_block_check: Option<String>,
    pub firmware: Option<String>,
    pub cpu_quantity: Option<i32>,
    pub memory: Option<i64>,
    pub disks: Option<Vec<DiskInput>>,
    pub btrfs_list: Option<Vec<BtrfsInput>>,
    pub networks: Option<Vec<NetworkInput>>,
    pub domain_id: Option<String>,
    pub has_rsync: Option<bool>,
    pub paravirtualization: Option<bool>,
    pub raw_devices: Option<String>,
    pub driver_files: Option<bool>,
    pub system_services: Option<bool>,
    pub account_rights: Option<bool>,
    pub boot_loader: Option<String>,
    pub system_dir: Option<String>,
    pub volume_groups: Option<Vec<VolumeGroupInput>>,
    pub agent_version: Option<String>,
    pub kernel_version: Option<String>,
    pub migration_cycle: Option<String>,
    pub state: Option<String>,
    pub oem_system: Option<bool>,
    pub start_type: Option<String>,
    pub io_read_wait: Option<f64>,
    pub has_tc: Option<bool>,
    pub platform: Option<String>,
    pub vm_id: Option<String>,
    pub flavor: Option<String>,
    pub image_disk_id: Option<String>,
    pub snapshot_ids: Option<String>,
    pub cutovered_snapshot_ids: Option<String>,
}

impl ServerInput {
    pub fn tree(&self) -> TreeInput<'_> {
        TreeInput {
            disks: self.disks.as_ref(),
            volume_groups: self.volume_groups.as_ref(),
            btrfs_list: self.btrfs_list.as_ref(),
            networks: self.networks.as_ref(),
        }
    }

    pub fn validate(&self, path: &JsonPath, rules: ServerRules) -> Checked {
        match rules {
            ServerRules::Register => {
                path.required("name", &self.name)?;
                path.length("name", &self.name, 1, 64)?;
                path.length("hostname", &self.hostname, 1, 64)?;
                path.required("os_type", &self.os_type)?;
                if self.ip.is_none() && self.ipv6.is_none() {
                    return Err(path.invalid("ip", "either ip or ipv6 is mandatory"));
                }
            }
            ServerRules::CreateTarget => {
                path.required("name", &self.name)?;
                path.required("vm_id", &self.vm_id)?;
            }
        }
        self.validate_values(path)?;
        let tree_rules = match rules {
            ServerRules::Register => TreeRules::Source,
            ServerRules::CreateTarget => TreeRules::CreateTarget,
        };
        self.tree().validate(path, tree_rules)
    }

    /// The rules every page shares: lengths, enums and ranges of the server's own fields.
    pub fn validate_values(&self, path: &JsonPath) -> Checked {
        lengths(
            path,
            &[
                ("id", &self.id),
                ("ip", &self.ip),
                ("ipv6", &self.ipv6),
                ("name", &self.name),
                ("hostname", &self.hostname),
                ("os_version", &self.os_version),
                ("virtualization_type", &self.virtualization_type),
                ("linux_block_check", &self.linux_block_check),
                ("domain_id", &self.domain_id),
                ("raw_devices", &self.raw_devices),
                ("system_dir", &self.system_dir),
                ("agent_version", &self.agent_version),
                ("kernel_version", &self.kernel_version),
                ("vm_id", &self.vm_id),
                ("flavor", &self.flavor),
                ("image_disk_id", &self.image_disk_id),
                ("snapshot_ids", &self.snapshot_ids),
                ("cutovered_snapshot_ids", &self.cutovered_snapshot_ids),
            ],
            255,
        )?;
        path.one_of("os_type", &self.os_type, OS_TYPES)?;
        path.one_of("firmware", &self.firmware, FIRMWARES)?;
        path.one_of("boot_loader", &self.boot_loader, BOOT_LOADERS)?;
        path.one_of("start_type", &self.start_type, START_TYPES)?;
        path.one_of("platform", &self.platform, PLATFORMS)?;
        path.one_of("migration_cycle", &self.migration_cycle, MIGRATION_CYCLES)?;
        path.one_of("state", &self.state, SOURCE_STATES)?;
        path.range("cpu_quantity", self.cpu_quantity, 0, 65535)?;
        path.range("memory", self.memory, 0, i64::MAX)?;
        path.range("io_read_wait", self.io_read_wait, 0.0, 10000.0)
    }
}

/// A `servers` row, column for column.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct ServerRow {
    pub id: Uuid,
    pub domain_id: String,
    pub role: String,
    pub task_id: Option<Uuid>,
    pub name: Option<String>,
    pub hostname: Option<String>,
    pub ip: Option<String>,
    pub ipv6: Option<String>,
    pub os_type: Option<String>,
    pub os_version: Option<String>,
    pub virtualization_type: Option<String>,
    pub linux_block_check: Option<String>,
    pub firmware: Option<String>,
    pub cpu_quantity: Option<i32>,
    pub memory: Option<i64>,
    pub reported_domain_id: Option<String>,
    pub has_rsync: Option<bool>,
    pub paravirtualization: Option<bool>,
    pub raw_devices: Option<String>,
    pub driver_files: Option<bool>,
    pub system_services: Option<bool>,
    pub account_rights: Option<bool>,
    pub boot_loader: Option<String>,
    pub system_dir: Option<String>,
    pub agent_version: Option<String>,
    pub kernel_version: Option<String>,
    pub migration_cycle: Option<String>,
    pub state: Option<String>,
    pub oem_system: Option<bool>,
    pub start_type: Option<String>,
    pub io_read_wait: Option<f64>,
    pub has_tc: Option<bool>,
    pub platform: Option<String>,
    pub enterprise_project_id: Option<String>,
    pub connected: bool,
    pub add_date: i64,
    pub vm_id: Option<String>,
    pub flavor: Option<String>,
    pub image_disk_id: Option<String>,
    pub snapshot_ids: Option<String>,
    pub cutovered_snapshot_ids: Option<String>,
}

impl ServerRow {
    /// A new row from a body. A registered source starts connected and `waiting`.
    pub fn new(input: &ServerInput, id: Uuid, domain: &str, task_id: Option<Uuid>, now_ms: i64) -> ServerRow {
        let is_source = task_id.is_none();
        ServerRow {
            id,
            domain_id: domain.to_string(),
            role: if is_source { "source" } else { "target" }.to_string(),
            task_id,
            name: input.name.clone(),
            hostname: input.hostname.clone(),
            ip: input.ip.clone(),
            ipv6: input.ipv6.clone(),
            os_type: input.os_type.clone(),
            os_version: input.os_version.clone(),
            virtualization_type: input.virtualization_type.clone(),
            linux_block_check: input.linux_block_check.clone(),
            firmware: input.firmware.clone(),
            cpu_quantity: input.cpu_quantity,
            memory: input.memory,
            reported_domain_id: input.domain_id.clone(),
            has_rsync: input.has_rsync,
            paravirtualization: input.paravirtualization,
            raw_devices: input.raw_devices.clone(),
            driver_files: input.driver_files,
            system_services: input.system_services,
            account_rights: input.account_rights,
            boot_loader: input.boot_loader.clone(),
            system_dir: input.system_dir.clone(),
            agent_version: input.agent_version.clone(),
            kernel_version: input.kernel_version.clone(),
            migration_cycle: input.migration_cycle.clone(),
            state: if is_source {
                Some(input.state.clone().unwrap_or_else(|| "waiting".into()))
            } else {
                input.state.clone()
            },
            oem_system: input.oem_system,
            start_type: input.start_type.clone(),
            io_read_wait: input.io_read_wait,
            has_tc: input.has_tc,
            platform: input.platform.clone(),
            enterprise_project_id: None,
            connected: true,
            add_date: now_ms,
            vm_id: input.vm_id.clone(),
            flavor: input.flavor.clone(),
            image_disk_id: input.image_disk_id.clone(),
            snapshot_ids: input.snapshot_ids.clone(),
            cutovered_snapshot_ids: input.cutovered_snapshot_ids.clone(),
        }
    }
}

/// The brief source server of a task shown alone: `SourceServerResponse`.
#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct SourceBriefView {
    pub id: Uuid,
    pub ip: Option<String>,
    pub name: Option<String>,
    pub os_type: Option<String>,
    pub os_version: Option<String>,
    pub oem_system: Option<bool>,
    pub state: Option<String>,
    pub migration_cycle: Option<String>,
}
