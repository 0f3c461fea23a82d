//! How the pages serve a server's tree. Volume groups, logical volumes, Btrfs filesystems,
//! subvolumes and networks are served whole (id and attributes); disks and physical volumes
//! are served with a different subset of their attributes by each page (`ServerDisk` of a
//! source, `TargetDisk` of a task's target), so those two views list their fields.

use serde::Serialize;
use uuid::Uuid;

use super::attrs::{Btrfs, LogicalVolume, Network, Subvolume, VolumeGroup};
use super::rows::{DiskRow, PhysicalVolumeRow, TreeRows};
use crate::model::enums::{DeviceUse, PartitionStyle};
use crate::model::values::{NonNegative, NonNegative32, Text255};

/// One server's tree within loaded [`TreeRows`] (rows are loaded ordered by position).
pub struct ServerTree<'a> {
    rows: &'a TreeRows,
    server_id: Uuid,
}

impl TreeRows {
    /// The rows that belong to `server_id`, in their stored order.
    pub fn of_server(&self, server_id: Uuid) -> ServerTree<'_> {
        ServerTree { rows: self, server_id }
    }
}

impl<'a> ServerTree<'a> {
    /// Each disk with its physical volumes.
    pub fn disks(&self) -> impl Iterator<Item = (&'a DiskRow, Vec<&'a PhysicalVolumeRow>)> + '_ {
        let rows = self.rows;
        rows.disks
            .iter()
            .filter(|d| d.server_id == self.server_id)
            .map(|d| (d, rows.physical_volumes.iter().filter(|pv| pv.disk_row_id == d.id).collect()))
    }

    pub fn volume_groups(&self) -> Vec<VolumeGroupView<'a>> {
        let rows = self.rows;
        rows.volume_groups
            .iter()
            .filter(|g| g.server_id == self.server_id)
            .map(|g| VolumeGroupView {
                id: g.id,
                attrs: &g.attrs,
                logical_volumes: rows
                    .logical_volumes
                    .iter()
                    .filter(|lv| lv.volume_group_id == g.id)
                    .map(|lv| LogicalVolumeView { id: lv.id, attrs: &lv.attrs })
                    .collect(),
            })
            .collect()
    }

    pub fn btrfs_list(&self) -> Vec<BtrfsView<'a>> {
        let rows = self.rows;
        rows.btrfs
            .iter()
            .filter(|fs| fs.server_id == self.server_id)
            .map(|fs| BtrfsView {
                id: fs.id,
                attrs: &fs.attrs,
                subvolumn: rows.subvolumes.iter().filter(|sv| sv.filesystem_id == fs.id).map(|sv| &sv.attrs).collect(),
            })
            .collect()
    }

    pub fn networks(&self) -> Vec<NetworkView<'a>> {
        self.rows
            .networks
            .iter()
            .filter(|n| n.server_id == self.server_id)
            .map(|n| NetworkView { id: n.id.to_string(), attrs: &n.attrs })
            .collect()
    }
}

/// `VolumeGroups`, with its id and logical volumes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VolumeGroupView<'a> {
    pub id: i64,
    #[serde(flatten)]
    pub attrs: &'a VolumeGroup,
    pub logical_volumes: Vec<LogicalVolumeView<'a>>,
}

/// `LogicalVolumes`, with its id.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogicalVolumeView<'a> {
    pub id: i64,
    #[serde(flatten)]
    pub attrs: &'a LogicalVolume,
}

/// `BtrfsFileSystem` with its id and subvolumes. Show-task serves each as JSON text.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BtrfsView<'a> {
    pub id: i64,
    #[serde(flatten)]
    pub attrs: &'a Btrfs,
    pub subvolumn: Vec<&'a Subvolume>,
}

/// `NetWork`; the SDK types its id as a string.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NetworkView<'a> {
    pub id: String,
    #[serde(flatten)]
    pub attrs: &'a Network,
}

/// `TargetDisk` of show-task (page 000): no `inode_size`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TargetDiskView<'a> {
    pub id: i64,
    pub device_use: Option<DeviceUse>,
    pub disk_id: Option<&'a Text255>,
    pub name: Option<&'a Text255>,
    pub physical_volumes: Vec<TargetPhysicalVolumeView<'a>>,
    pub size: Option<NonNegative>,
    pub used_size: Option<NonNegative>,
    pub disk_index: Option<&'a Text255>,
    pub os_disk: Option<bool>,
    pub partition_style: Option<PartitionStyle>,
    pub relation_name: Option<&'a Text255>,
}

/// `TargetPhysicalVolumes` of show-task (page 000): no inode figures, no cluster size.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TargetPhysicalVolumeView<'a> {
    pub id: i64,
    pub device_use: Option<&'a Text255>,
    pub file_system: Option<&'a Text255>,
    pub index: Option<NonNegative32>,
    pub mount_point: Option<&'a Text255>,
    pub name: Option<&'a Text255>,
    pub size: Option<NonNegative>,
    pub used_size: Option<NonNegative>,
    pub uuid: Option<&'a Text255>,
    pub relation_name: Option<&'a Text255>,
    pub free_size: Option<NonNegative>,
}

impl<'a> TargetDiskView<'a> {
    pub fn new(disk: &'a DiskRow, volumes: &[&'a PhysicalVolumeRow]) -> TargetDiskView<'a> {
        let d = &disk.attrs;
        TargetDiskView {
            id: disk.id,
            device_use: d.device_use,
            disk_id: d.disk_id.as_ref(),
            name: d.name.as_ref(),
            physical_volumes: volumes
                .iter()
                .map(|pv| {
                    let v = &pv.attrs;
                    TargetPhysicalVolumeView {
                        id: pv.id,
                        device_use: v.device_use.as_ref(),
                        file_system: v.file_system.as_ref(),
                        index: v.index,
                        mount_point: v.mount_point.as_ref(),
                        name: v.name.as_ref(),
                        size: v.size,
                        used_size: v.used_size,
                        uuid: v.uuid.as_ref(),
                        relation_name: v.relation_name.as_ref(),
                        free_size: v.free_size,
                    }
                })
                .collect(),
            size: d.size,
            used_size: d.used_size,
            disk_index: d.disk_index.as_ref(),
            os_disk: d.os_disk,
            partition_style: d.partition_style,
            relation_name: d.relation_name.as_ref(),
        }
    }
}

/// `ServerDisk` of a source server (show-source): no `disk_id`, no `disk_index`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ServerDiskView<'a> {
    pub id: i64,
    pub name: Option<&'a Text255>,
    pub partition_style: Option<PartitionStyle>,
    pub device_use: Option<DeviceUse>,
    pub size: Option<NonNegative>,
    pub used_size: Option<NonNegative>,
    pub physical_volumes: Vec<PhysicalVolumeView<'a>>,
    pub os_disk: Option<bool>,
    pub relation_name: Option<&'a Text255>,
    pub inode_size: Option<NonNegative32>,
}

/// `PhysicalVolume` of a source server's disk: no `free_size`, no `relation_name`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PhysicalVolumeView<'a> {
    pub id: i64,
    pub device_use: Option<&'a Text255>,
    pub file_system: Option<&'a Text255>,
    pub index: Option<NonNegative32>,
    pub mount_point: Option<&'a Text255>,
    pub name: Option<&'a Text255>,
    pub size: Option<NonNegative>,
    pub used_size: Option<NonNegative>,
    pub inode_size: Option<NonNegative>,
    pub inode_nums: Option<NonNegative>,
    pub uuid: Option<&'a Text255>,
    pub size_per_cluster: Option<NonNegative32>,
}

impl<'a> ServerDiskView<'a> {
    pub fn new(disk: &'a DiskRow, volumes: &[&'a PhysicalVolumeRow]) -> ServerDiskView<'a> {
        let d = &disk.attrs;
        ServerDiskView {
            id: disk.id,
            name: d.name.as_ref(),
            partition_style: d.partition_style,
            device_use: d.device_use,
            size: d.size,
            used_size: d.used_size,
            physical_volumes: volumes
                .iter()
                .map(|pv| {
                    let v = &pv.attrs;
                    PhysicalVolumeView {
                        id: pv.id,
                        device_use: v.device_use.as_ref(),
                        file_system: v.file_system.as_ref(),
                        index: v.index,
                        mount_point: v.mount_point.as_ref(),
                        name: v.name.as_ref(),
                        size: v.size,
                        used_size: v.used_size,
                        inode_size: v.inode_size,
                        inode_nums: v.inode_nums,
                        uuid: v.uuid.as_ref(),
                        size_per_cluster: v.size_per_cluster,
                    }
                })
                .collect(),
            os_disk: d.os_disk,
            relation_name: d.relation_name.as_ref(),
            inode_size: d.inode_size,
        }
    }
}

/// `DiskIntargetServer`: a source disk as the target's proposed layout (`init_target_server` of
/// show-source, which Terraform copies into a new task when it is given no target disks).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TargetLayoutDiskView<'a> {
    pub name: Option<&'a Text255>,
    pub size: Option<NonNegative>,
    pub device_use: Option<DeviceUse>,
    pub used_size: Option<NonNegative>,
    pub physical_volumes: Vec<TargetLayoutVolumeView<'a>>,
}

/// `PhysicalVolumes` of a `DiskIntargetServer`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TargetLayoutVolumeView<'a> {
    pub device_use: Option<&'a Text255>,
    pub file_system: Option<&'a Text255>,
    pub index: Option<NonNegative32>,
    pub mount_point: Option<&'a Text255>,
    pub name: Option<&'a Text255>,
    pub size: Option<NonNegative>,
    pub inode_size: Option<NonNegative>,
    pub used_size: Option<NonNegative>,
    pub uuid: Option<&'a Text255>,
}

impl<'a> TargetLayoutDiskView<'a> {
    pub fn new(disk: &'a DiskRow, volumes: &[&'a PhysicalVolumeRow]) -> TargetLayoutDiskView<'a> {
        let d = &disk.attrs;
        TargetLayoutDiskView {
            name: d.name.as_ref(),
            size: d.size,
            device_use: d.device_use,
            used_size: d.used_size,
            physical_volumes: volumes
                .iter()
                .map(|pv| {
                    let v = &pv.attrs;
                    TargetLayoutVolumeView {
                        device_use: v.device_use.as_ref(),
                        file_system: v.file_system.as_ref(),
                        index: v.index,
                        mount_point: v.mount_point.as_ref(),
                        name: v.name.as_ref(),
                        size: v.size,
                        inode_size: v.inode_size,
                        used_size: v.used_size,
                        uuid: v.uuid.as_ref(),
                    }
                })
                .collect(),
        }
    }
}
