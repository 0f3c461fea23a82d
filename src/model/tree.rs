//! The tree below a server, shared by source servers and task target servers: disks →
//! physical volumes, volume groups → logical volumes, Btrfs filesystems → subvolumes, networks.
//!
//! Three kinds of types per node: the request input (`…Input`, every documented field of every
//! page that sends it), the stored row (`…Row`, one per table, column for column), and the
//! response views (`…View`), which serve exactly the fields of the page that reads them.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validate::{lengths, non_negative, Checked, JsonPath};

/// Whose rules a tree is checked against: they differ between the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeRules {
    /// A source server's tree (register, or `source_server` of an update): seed 004 tables 5–14.
    Source,
    /// `target_server` of a create: seed 003 (at most 50 disks, volumes and groups; all optional).
    CreateTarget,
    /// `target_server` of an update: seed 004 tables 7–14.
    UpdateTarget,
}

impl TreeRules {
    /// Seed 004 marks fields inside its nested objects mandatory; seed 003 marks none.
    fn strict(self) -> bool {
        self != TreeRules::CreateTarget
    }

    fn max_disks(self) -> usize {
        if self == TreeRules::CreateTarget {
            50
        } else {
            65535
        }
    }

    fn max_logical_volumes(self) -> usize {
        if self == TreeRules::CreateTarget {
            50
        } else {
            255
        }
    }
}

pub const DEVICE_USES: &[&str] = &["BOOT", "OS", "NORMAL"];
pub const PARTITION_STYLES: &[&str] = &["MBR", "GPT"];

/// The children of one server, as sent.
#[derive(Debug, Clone, Default)]
pub struct TreeInput<'a> {
    pub disks: Option<&'a Vec<DiskInput>>,
    pub volume_groups: Option<&'a Vec<VolumeGroupInput>>,
    pub btrfs_list: Option<&'a Vec<BtrfsInput>>,
    pub networks: Option<&'a Vec<NetworkInput>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct DiskInput {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub disk_id: Option<String>,
    pub device_use: Option<String>,
    pub partition_style: Option<String>,
    pub size: Option<i64>,
    pub used_size: Option<i64>,
    pub os_disk: Option<bool>,
    pub relation_name: Option<String>,
    pub inode_size: Option<i32>,
    pub disk_index: Option<String>,
    pub physical_volumes: Option<Vec<PhysicalVolumeInput>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct PhysicalVolumeInput {
    pub id: Option<i64>,
    pub device_use: Option<String>,
    pub file_system: Option<String>,
    pub index: Option<i32>,
    pub mount_point: Option<String>,
    pub name: Option<String>,
    pub size: Option<i64>,
    pub used_size: Option<i64>,
    pub free_size: Option<i64>,
    pub inode_size: Option<i64>,
    pub inode_nums: Option<i64>,
    pub uuid: Option<String>,
    pub size_per_cluster: Option<i32>,
    pub relation_name: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct VolumeGroupInput {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub components: Option<String>,
    pub size: Option<i64>,
    pub free_size: Option<i64>,
    pub logical_volumes: Option<Vec<LogicalVolumeInput>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct LogicalVolumeInput {
    pub id: Option<i64>,
    pub block_count: Option<i32>,
    pub block_size: Option<i64>,
    pub file_system: Option<String>,
    pub inode_size: Option<i32>,
    pub inode_nums: Option<i64>,
    pub device_use: Option<String>,
    pub mount_point: Option<String>,
    pub name: Option<String>,
    pub size: Option<i64>,
    pub used_size: Option<i64>,
    pub free_size: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct BtrfsInput {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub label: Option<String>,
    pub uuid: Option<String>,
    pub device: Option<String>,
    pub size: Option<i64>,
    pub nodesize: Option<i64>,
    pub sectorsize: Option<i32>,
    pub data_profile: Option<String>,
    pub system_profile: Option<String>,
    pub metadata_profile: Option<String>,
    pub global_reserve1: Option<String>,
    pub g_vol_used_size: Option<i64>,
    pub default_subvolid: Option<String>,
    pub default_subvol_name: Option<String>,
    pub default_subvol_mountpath: Option<String>,
    pub subvolumn: Option<Vec<SubvolumeInput>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct SubvolumeInput {
    pub uuid: Option<String>,
    pub is_snapshot: Option<String>,
    pub subvol_id: Option<String>,
    pub parent_id: Option<String>,
    pub subvol_name: Option<String>,
    pub subvol_mount_path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
pub struct NetworkInput {
    /// The SDK types it as a string; it is our bigint id as text.
    pub id: Option<String>,
    pub name: Option<String>,
    pub ip: Option<String>,
    pub ipv6: Option<String>,
    pub netmask: Option<String>,
    pub gateway: Option<String>,
    pub mtu: Option<i32>,
    pub mac: Option<String>,
}

impl TreeInput<'_> {
    pub fn validate(&self, path: &JsonPath, rules: TreeRules) -> Checked {
        if let Some(disks) = self.disks {
            path.max_items("disks", Some(disks), rules.max_disks())?;
            for (i, disk) in disks.iter().enumerate() {
                disk.validate(&path.field("disks").index(i), rules)?;
            }
        }
        if let Some(groups) = self.volume_groups {
            path.max_items("volume_groups", Some(groups), rules.max_disks())?;
            for (i, group) in groups.iter().enumerate() {
                group.validate(&path.field("volume_groups").index(i), rules)?;
            }
        }
        if let Some(list) = self.btrfs_list {
            path.max_items("btrfs_list", Some(list), 65535)?;
            for (i, fs) in list.iter().enumerate() {
                fs.validate(&path.field("btrfs_list").index(i), rules)?;
            }
        }
        if let Some(networks) = self.networks {
            path.max_items("networks", Some(networks), 65535)?;
            for (i, network) in networks.iter().enumerate() {
                network.validate(&path.field("networks").index(i), rules)?;
            }
        }
        Ok(())
    }
}

impl DiskInput {
    fn validate(&self, path: &JsonPath, rules: TreeRules) -> Checked {
        if rules == TreeRules::Source {
            path.required("name", &self.name)?;
            path.required("device_use", &self.device_use)?;
            path.required("size", &self.size)?;
            path.required("used_size", &self.used_size)?;
            path.required("physical_volumes", &self.physical_volumes)?;
        }
        path.range("id", self.id, 0, i64::MAX)?;
        lengths(
            path,
            &[
                ("name", &self.name),
                ("disk_id", &self.disk_id),
                ("relation_name", &self.relation_name),
                ("disk_index", &self.disk_index),
            ],
            255,
        )?;
        path.one_of("device_use", &self.device_use, DEVICE_USES)?;
        path.one_of("partition_style", &self.partition_style, PARTITION_STYLES)?;
        non_negative(
            path,
            &[("size", self.size), ("used_size", self.used_size), ("inode_size", self.inode_size.map(i64::from))],
        )?;
        path.max_items("physical_volumes", self.physical_volumes.as_ref(), rules.max_disks())?;
        for (i, volume) in self.physical_volumes.iter().flatten().enumerate() {
            volume.validate(&path.field("physical_volumes").index(i), rules)?;
        }
        Ok(())
    }
}

impl PhysicalVolumeInput {
    fn validate(&self, path: &JsonPath, rules: TreeRules) -> Checked {
        path.range("id", self.id, 0, i64::MAX)?;
        lengths(
            path,
            &[
                ("device_use", &self.device_use),
                ("file_system", &self.file_system),
                ("mount_point", &self.mount_point),
                ("name", &self.name),
                ("uuid", &self.uuid),
                ("relation_name", &self.relation_name),
            ],
            255,
        )?;
        if rules == TreeRules::UpdateTarget {
            path.one_of("device_use", &self.device_use, DEVICE_USES)?;
        }
        non_negative(
            path,
            &[
                ("index", self.index.map(i64::from)),
                ("size", self.size),
                ("used_size", self.used_size),
                ("free_size", self.free_size),
                ("inode_size", self.inode_size),
                ("inode_nums", self.inode_nums),
                ("size_per_cluster", self.size_per_cluster.map(i64::from)),
            ],
        )?;
        if rules == TreeRules::Source {
            // Seed 004 types a source volume's inode_size as Integer; create's as Long.
            path.range("inode_size", self.inode_size, 0, i64::from(i32::MAX))?;
        }
        Ok(())
    }
}

impl VolumeGroupInput {
    fn validate(&self, path: &JsonPath, rules: TreeRules) -> Checked {
        path.range("id", self.id, 0, i64::MAX)?;
        lengths(path, &[("name", &self.name), ("components", &self.components)], 255)?;
        non_negative(path, &[("size", self.size), ("free_size", self.free_size)])?;
        path.max_items("logical_volumes", self.logical_volumes.as_ref(), rules.max_logical_volumes())?;
        for (i, volume) in self.logical_volumes.iter().flatten().enumerate() {
            volume.validate(&path.field("logical_volumes").index(i), rules)?;
        }
        Ok(())
    }
}

impl LogicalVolumeInput {
    fn validate(&self, path: &JsonPath, rules: TreeRules) -> Checked {
        if rules.strict() {
            path.required("file_system", &self.file_system)?;
            path.required("inode_size", &self.inode_size)?;
            path.required("mount_point", &self.mount_point)?;
            path.required("name", &self.name)?;
            path.required("size", &self.size)?;
            path.required("used_size", &self.used_size)?;
            path.required("free_size", &self.free_size)?;
        }
        path.range("id", self.id, 0, i64::MAX)?;
        lengths(path, &[("file_system", &self.file_system), ("device_use", &self.device_use)], 255)?;
        path.length("mount_point", &self.mount_point, 0, 256)?;
        path.length("name", &self.name, 0, 1024)?;
        path.range("block_size", self.block_size, 0, 1_048_576)?;
        non_negative(
            path,
            &[
                ("block_count", self.block_count.map(i64::from)),
                ("inode_size", self.inode_size.map(i64::from)),
                ("inode_nums", self.inode_nums),
                ("size", self.size),
                ("used_size", self.used_size),
                ("free_size", self.free_size),
            ],
        )
    }
}

impl BtrfsInput {
    fn validate(&self, path: &JsonPath, rules: TreeRules) -> Checked {
        let texts = [
            ("name", &self.name),
            ("label", &self.label),
            ("uuid", &self.uuid),
            ("device", &self.device),
            ("data_profile", &self.data_profile),
            ("system_profile", &self.system_profile),
            ("metadata_profile", &self.metadata_profile),
            ("global_reserve1", &self.global_reserve1),
            ("default_subvolid", &self.default_subvolid),
            ("default_subvol_name", &self.default_subvol_name),
            ("default_subvol_mountpath", &self.default_subvol_mountpath),
        ];
        if rules.strict() {
            for (name, value) in texts {
                path.required(name, value)?;
            }
            path.required("size", &self.size)?;
            path.required("nodesize", &self.nodesize)?;
            path.required("sectorsize", &self.sectorsize)?;
            path.required("g_vol_used_size", &self.g_vol_used_size)?;
            path.required("subvolumn", &self.subvolumn)?;
        }
        path.range("id", self.id, 0, i64::MAX)?;
        lengths(path, &texts, 255)?;
        non_negative(
            path,
            &[
                ("size", self.size),
                ("nodesize", self.nodesize),
                ("sectorsize", self.sectorsize.map(i64::from)),
                ("g_vol_used_size", self.g_vol_used_size),
            ],
        )?;
        path.max_items("subvolumn", self.subvolumn.as_ref(), 65535)?;
        for (i, subvolume) in self.subvolumn.iter().flatten().enumerate() {
            subvolume.validate(&path.field("subvolumn").index(i), rules)?;
        }
        Ok(())
    }
}

impl SubvolumeInput {
    fn validate(&self, path: &JsonPath, rules: TreeRules) -> Checked {
        let texts = [
            ("uuid", &self.uuid),
            ("is_snapshot", &self.is_snapshot),
            ("subvol_id", &self.subvol_id),
            ("parent_id", &self.parent_id),
            ("subvol_name", &self.subvol_name),
            ("subvol_mount_path", &self.subvol_mount_path),
        ];
        if rules.strict() {
            for (name, value) in texts {
                path.required(name, value)?;
            }
        }
        lengths(path, &texts, 255)
    }
}

impl NetworkInput {
    fn validate(&self, path: &JsonPath, rules: TreeRules) -> Checked {
        let texts = [
            ("name", &self.name),
            ("ip", &self.ip),
            ("netmask", &self.netmask),
            ("gateway", &self.gateway),
            ("mac", &self.mac),
        ];
        if rules.strict() {
            for (name, value) in texts {
                path.required(name, value)?;
            }
        }
        lengths(path, &texts, 255)?;
        lengths(path, &[("ipv6", &self.ipv6), ("id", &self.id)], 255)?;
        path.range("mtu", self.mtu, 0, i32::MAX)?;
        if let Some(id) = &self.id {
            if !id.is_empty() && id.parse::<i64>().map_or(true, |n| n < 0) {
                return Err(path.invalid("id", format_args!("must be the numeric id of a network, found {id:?}")));
            }
        }
        Ok(())
    }
}

// ---- Stored rows: column for column, written with `jsonb_populate_recordset`. ----

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct DiskRow {
    pub id: i64,
    pub domain_id: String,
    pub server_id: Uuid,
    pub position: i32,
    pub name: Option<String>,
    pub disk_id: Option<String>,
    pub device_use: Option<String>,
    pub partition_style: Option<String>,
    pub size: Option<i64>,
    pub used_size: Option<i64>,
    pub os_disk: Option<bool>,
    pub relation_name: Option<String>,
    pub inode_size: Option<i32>,
    pub disk_index: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct PhysicalVolumeRow {
    pub id: i64,
    pub domain_id: String,
    pub disk_row_id: i64,
    pub position: i32,
    pub device_use: Option<String>,
    pub file_system: Option<String>,
    pub volume_index: Option<i32>,
    pub mount_point: Option<String>,
    pub name: Option<String>,
    pub size: Option<i64>,
    pub used_size: Option<i64>,
    pub free_size: Option<i64>,
    pub inode_size: Option<i64>,
    pub inode_nums: Option<i64>,
    pub uuid: Option<String>,
    pub size_per_cluster: Option<i32>,
    pub relation_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct VolumeGroupRow {
    pub id: i64,
    pub domain_id: String,
    pub server_id: Uuid,
    pub position: i32,
    pub name: Option<String>,
    pub components: Option<String>,
    pub size: Option<i64>,
    pub free_size: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct LogicalVolumeRow {
    pub id: i64,
    pub domain_id: String,
    pub volume_group_id: i64,
    pub position: i32,
    pub name: Option<String>,
    pub block_count: Option<i32>,
    pub block_size: Option<i64>,
    pub file_system: Option<String>,
    pub inode_size: Option<i32>,
    pub inode_nums: Option<i64>,
    pub device_use: Option<String>,
    pub mount_point: Option<String>,
    pub size: Option<i64>,
    pub used_size: Option<i64>,
    pub free_size: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct BtrfsRow {
    pub id: i64,
    pub domain_id: String,
    pub server_id: Uuid,
    pub position: i32,
    pub name: Option<String>,
    pub label: Option<String>,
    pub uuid: Option<String>,
    pub device: Option<String>,
    pub size: Option<i64>,
    pub nodesize: Option<i64>,
    pub sectorsize: Option<i32>,
    pub data_profile: Option<String>,
    pub system_profile: Option<String>,
    pub metadata_profile: Option<String>,
    pub global_reserve1: Option<String>,
    pub g_vol_used_size: Option<i64>,
    pub default_subvolid: Option<String>,
    pub default_subvol_name: Option<String>,
    pub default_subvol_mountpath: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct SubvolumeRow {
    pub id: i64,
    pub domain_id: String,
    pub filesystem_id: i64,
    pub position: i32,
    pub uuid: Option<String>,
    pub is_snapshot: Option<String>,
    pub subvol_id: Option<String>,
    pub parent_id: Option<String>,
    pub subvol_name: Option<String>,
    pub subvol_mount_path: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, sqlx::FromRow)]
pub struct NetworkRow {
    pub id: i64,
    pub domain_id: String,
    pub server_id: Uuid,
    pub position: i32,
    pub name: Option<String>,
    pub ip: Option<String>,
    pub ipv6: Option<String>,
    pub netmask: Option<String>,
    pub gateway: Option<String>,
    pub mtu: Option<i32>,
    pub mac: Option<String>,
}

/// Gives nested rows their ids: an element keeps the id it names when that id is an existing
/// child of the same parent (an update in place); every other element gets a fresh id.
pub struct IdAssigner {
    fresh: std::vec::IntoIter<i64>,
    /// Existing child id → its parent's key (a server uuid or a parent row id, as text).
    existing: HashMap<i64, String>,
    used: HashSet<i64>,
}

impl IdAssigner {
    /// Only fresh ids: a new tree.
    pub fn fresh(ids: Vec<i64>) -> IdAssigner {
        IdAssigner::keeping(ids, HashMap::new())
    }

    /// Fresh ids, and `existing` children whose ids may be kept.
    pub fn keeping(ids: Vec<i64>, existing: HashMap<i64, String>) -> IdAssigner {
        IdAssigner { fresh: ids.into_iter(), existing, used: HashSet::new() }
    }

    pub fn assign(&mut self, requested: Option<i64>, parent: &str) -> i64 {
        if let Some(id) = requested {
            if self.existing.get(&id).is_some_and(|p| p == parent) && self.used.insert(id) {
                return id;
            }
        }
        self.fresh.next().expect("one fresh id was allocated per element")
    }
}

/// Every row of one server's tree (or several servers' trees), grouped by table.
#[derive(Debug, Clone, Default)]
pub struct TreeRows {
    pub disks: Vec<DiskRow>,
    pub physical_volumes: Vec<PhysicalVolumeRow>,
    pub volume_groups: Vec<VolumeGroupRow>,
    pub logical_volumes: Vec<LogicalVolumeRow>,
    pub btrfs: Vec<BtrfsRow>,
    pub subvolumes: Vec<SubvolumeRow>,
    pub networks: Vec<NetworkRow>,
}

impl TreeRows {
    /// How many ids the tree of `input` needs.
    pub fn id_count(input: &TreeInput) -> usize {
        let disks = input
            .disks
            .map_or(0, |d| d.len() + d.iter().map(|d| d.physical_volumes.as_ref().map_or(0, Vec::len)).sum::<usize>());
        let groups = input
            .volume_groups
            .map_or(0, |g| g.len() + g.iter().map(|g| g.logical_volumes.as_ref().map_or(0, Vec::len)).sum::<usize>());
        let btrfs = input
            .btrfs_list
            .map_or(0, |b| b.len() + b.iter().map(|b| b.subvolumn.as_ref().map_or(0, Vec::len)).sum::<usize>());
        disks + groups + btrfs + input.networks.map_or(0, Vec::len)
    }

    /// The rows for `input` below `server_id`, with ids from `ids`.
    pub fn build(input: &TreeInput, domain: &str, server_id: Uuid, ids: &mut IdAssigner) -> TreeRows {
        let mut rows = TreeRows::default();
        let server_key = server_id.to_string();
        for (position, disk) in input.disks.into_iter().flatten().enumerate() {
            let disk_row_id = ids.assign(disk.id, &server_key);
            rows.disks.push(DiskRow {
                id: disk_row_id,
                domain_id: domain.to_string(),
                server_id,
                position: position as i32,
                name: disk.name.clone(),
                disk_id: disk.disk_id.clone(),
                // Pages 003 and 004: "Default: NORMAL".
                device_use: Some(disk.device_use.clone().unwrap_or_else(|| "NORMAL".into())),
                partition_style: disk.partition_style.clone(),
                size: disk.size,
                used_size: disk.used_size,
                os_disk: disk.os_disk,
                relation_name: disk.relation_name.clone(),
                inode_size: disk.inode_size,
                disk_index: disk.disk_index.clone(),
            });
            for (position, pv) in disk.physical_volumes.iter().flatten().enumerate() {
                rows.physical_volumes.push(PhysicalVolumeRow {
                    id: ids.assign(pv.id, &disk_row_id.to_string()),
                    domain_id: domain.to_string(),
                    disk_row_id,
                    position: position as i32,
                    device_use: pv.device_use.clone(),
                    file_system: pv.file_system.clone(),
                    volume_index: pv.index,
                    mount_point: pv.mount_point.clone(),
                    name: pv.name.clone(),
                    size: pv.size,
                    used_size: pv.used_size,
                    free_size: pv.free_size,
                    inode_size: pv.inode_size,
                    inode_nums: pv.inode_nums,
                    uuid: pv.uuid.clone(),
                    size_per_cluster: pv.size_per_cluster,
                    relation_name: pv.relation_name.clone(),
                });
            }
        }
        for (position, group) in input.volume_groups.into_iter().flatten().enumerate() {
            let volume_group_id = ids.assign(group.id, &server_key);
            rows.volume_groups.push(VolumeGroupRow {
                id: volume_group_id,
                domain_id: domain.to_string(),
                server_id,
                position: position as i32,
                name: group.name.clone(),
                components: group.components.clone(),
                size: group.size,
                free_size: group.free_size,
            });
            for (position, lv) in group.logical_volumes.iter().flatten().enumerate() {
                rows.logical_volumes.push(LogicalVolumeRow {
                    id: ids.assign(lv.id, &volume_group_id.to_string()),
                    domain_id: domain.to_string(),
                    volume_group_id,
                    position: position as i32,
                    name: lv.name.clone(),
                    // Pages 003 and 004: both "Default: 0".
                    block_count: Some(lv.block_count.unwrap_or(0)),
                    block_size: Some(lv.block_size.unwrap_or(0)),
                    file_system: lv.file_system.clone(),
                    inode_size: lv.inode_size,
                    inode_nums: lv.inode_nums,
                    device_use: lv.device_use.clone(),
                    mount_point: lv.mount_point.clone(),
                    size: lv.size,
                    used_size: lv.used_size,
                    free_size: lv.free_size,
                });
            }
        }
        for (position, fs) in input.btrfs_list.into_iter().flatten().enumerate() {
            let filesystem_id = ids.assign(fs.id, &server_key);
            rows.btrfs.push(BtrfsRow {
                id: filesystem_id,
                domain_id: domain.to_string(),
                server_id,
                position: position as i32,
                name: fs.name.clone(),
                label: fs.label.clone(),
                uuid: fs.uuid.clone(),
                device: fs.device.clone(),
                size: fs.size,
                nodesize: fs.nodesize,
                sectorsize: fs.sectorsize,
                data_profile: fs.data_profile.clone(),
                system_profile: fs.system_profile.clone(),
                metadata_profile: fs.metadata_profile.clone(),
                global_reserve1: fs.global_reserve1.clone(),
                g_vol_used_size: fs.g_vol_used_size,
                default_subvolid: fs.default_subvolid.clone(),
                default_subvol_name: fs.default_subvol_name.clone(),
                default_subvol_mountpath: fs.default_subvol_mountpath.clone(),
            });
            for (position, sv) in fs.subvolumn.iter().flatten().enumerate() {
                rows.subvolumes.push(SubvolumeRow {
                    id: ids.assign(None, &filesystem_id.to_string()),
                    domain_id: domain.to_string(),
                    filesystem_id,
                    position: position as i32,
                    uuid: sv.uuid.clone(),
                    is_snapshot: sv.is_snapshot.clone(),
                    subvol_id: sv.subvol_id.clone(),
                    parent_id: sv.parent_id.clone(),
                    subvol_name: sv.subvol_name.clone(),
                    subvol_mount_path: sv.subvol_mount_path.clone(),
                });
            }
        }
        for (position, net) in input.networks.into_iter().flatten().enumerate() {
            rows.networks.push(NetworkRow {
                id: ids.assign(net.id.as_deref().and_then(|id| id.parse().ok()), &server_key),
                domain_id: domain.to_string(),
                server_id,
                position: position as i32,
                name: net.name.clone(),
                ip: net.ip.clone(),
                ipv6: net.ipv6.clone(),
                netmask: net.netmask.clone(),
                gateway: net.gateway.clone(),
                mtu: net.mtu,
                mac: net.mac.clone(),
            });
        }
        rows
    }

    /// The rows that belong to `server_id`, in their stored order.
    pub fn of_server(&self, server_id: Uuid) -> ServerTree<'_> {
        ServerTree { rows: self, server_id }
    }
}

/// One server's tree within loaded [`TreeRows`] (rows are loaded ordered by position).
pub struct ServerTree<'a> {
    rows: &'a TreeRows,
    server_id: Uuid,
}

impl<'a> ServerTree<'a> {
    /// Each disk with its physical volumes.
    pub fn disks(&self) -> Vec<(&'a DiskRow, Vec<&'a PhysicalVolumeRow>)> {
        let rows = self.rows;
        rows.disks
            .iter()
            .filter(|d| d.server_id == self.server_id)
            .map(|d| (d, rows.physical_volumes.iter().filter(|pv| pv.disk_row_id == d.id).collect()))
            .collect()
    }

    pub fn volume_groups(&self) -> Vec<VolumeGroupView> {
        let rows = self.rows;
        rows.volume_groups
            .iter()
            .filter(|g| g.server_id == self.server_id)
            .map(|g| VolumeGroupView {
                components: g.components.clone(),
                free_size: g.free_size,
                logical_volumes: rows
                    .logical_volumes
                    .iter()
                    .filter(|lv| lv.volume_group_id == g.id)
                    .map(LogicalVolumeView::from)
                    .collect(),
                name: g.name.clone(),
                size: g.size,
                id: g.id,
            })
            .collect()
    }

    pub fn btrfs_list(&self) -> Vec<BtrfsView> {
        let rows = self.rows;
        rows.btrfs
            .iter()
            .filter(|fs| fs.server_id == self.server_id)
            .map(|fs| BtrfsView {
                id: fs.id,
                name: fs.name.clone(),
                label: fs.label.clone(),
                uuid: fs.uuid.clone(),
                device: fs.device.clone(),
                size: fs.size,
                nodesize: fs.nodesize,
                sectorsize: fs.sectorsize,
                data_profile: fs.data_profile.clone(),
                system_profile: fs.system_profile.clone(),
                metadata_profile: fs.metadata_profile.clone(),
                global_reserve1: fs.global_reserve1.clone(),
                g_vol_used_size: fs.g_vol_used_size,
                default_subvolid: fs.default_subvolid.clone(),
                default_subvol_name: fs.default_subvol_name.clone(),
                default_subvol_mountpath: fs.default_subvol_mountpath.clone(),
                subvolumn: rows
                    .subvolumes
                    .iter()
                    .filter(|sv| sv.filesystem_id == fs.id)
                    .map(SubvolumeView::from)
                    .collect(),
            })
            .collect()
    }

    pub fn networks(&self) -> Vec<NetworkView> {
        self.rows.networks.iter().filter(|n| n.server_id == self.server_id).map(NetworkView::from).collect()
    }
}

// ---- Response views ----

/// `TargetDisk` of show (seed 000).
#[derive(Debug, Serialize)]
pub struct TargetDiskView {
    pub id: i64,
    pub device_use: Option<String>,
    pub disk_id: Option<String>,
    pub name: Option<String>,
    pub physical_volumes: Vec<TargetPhysicalVolumeView>,
    pub size: Option<i64>,
    pub used_size: Option<i64>,
    pub disk_index: Option<String>,
    pub os_disk: Option<bool>,
    pub partition_style: Option<String>,
    pub relation_name: Option<String>,
}

/// `TargetPhysicalVolumes` of show (seed 000).
#[derive(Debug, Serialize)]
pub struct TargetPhysicalVolumeView {
    pub id: i64,
    pub device_use: Option<String>,
    pub file_system: Option<String>,
    pub index: Option<i32>,
    pub mount_point: Option<String>,
    pub name: Option<String>,
    pub size: Option<i64>,
    pub used_size: Option<i64>,
    pub uuid: Option<String>,
    pub relation_name: Option<String>,
    pub free_size: Option<i64>,
}

impl TargetDiskView {
    pub fn new(disk: &DiskRow, volumes: &[&PhysicalVolumeRow]) -> TargetDiskView {
        TargetDiskView {
            id: disk.id,
            device_use: disk.device_use.clone(),
            disk_id: disk.disk_id.clone(),
            name: disk.name.clone(),
            physical_volumes: volumes
                .iter()
                .map(|pv| TargetPhysicalVolumeView {
                    id: pv.id,
                    device_use: pv.device_use.clone(),
                    file_system: pv.file_system.clone(),
                    index: pv.volume_index,
                    mount_point: pv.mount_point.clone(),
                    name: pv.name.clone(),
                    size: pv.size,
                    used_size: pv.used_size,
                    uuid: pv.uuid.clone(),
                    relation_name: pv.relation_name.clone(),
                    free_size: pv.free_size,
                })
                .collect(),
            size: disk.size,
            used_size: disk.used_size,
            disk_index: disk.disk_index.clone(),
            os_disk: disk.os_disk,
            partition_style: disk.partition_style.clone(),
            relation_name: disk.relation_name.clone(),
        }
    }
}

/// `ServerDisk` of a source server (show source), with its id.
#[derive(Debug, Serialize)]
pub struct ServerDiskView {
    pub id: i64,
    pub name: Option<String>,
    pub partition_style: Option<String>,
    pub device_use: Option<String>,
    pub size: Option<i64>,
    pub used_size: Option<i64>,
    pub physical_volumes: Vec<PhysicalVolumeView>,
    pub os_disk: Option<bool>,
    pub relation_name: Option<String>,
    pub inode_size: Option<i32>,
}

/// `PhysicalVolume` of a source server's disk.
#[derive(Debug, Serialize)]
pub struct PhysicalVolumeView {
    pub id: i64,
    pub device_use: Option<String>,
    pub file_system: Option<String>,
    pub index: Option<i32>,
    pub mount_point: Option<String>,
    pub name: Option<String>,
    pub size: Option<i64>,
    pub used_size: Option<i64>,
    pub inode_size: Option<i64>,
    pub inode_nums: Option<i64>,
    pub uuid: Option<String>,
    pub size_per_cluster: Option<i32>,
}

impl ServerDiskView {
    pub fn new(disk: &DiskRow, volumes: &[&PhysicalVolumeRow]) -> ServerDiskView {
        ServerDiskView {
            id: disk.id,
            name: disk.name.clone(),
            partition_style: disk.partition_style.clone(),
            device_use: disk.device_use.clone(),
            size: disk.size,
            used_size: disk.used_size,
            physical_volumes: volumes
                .iter()
                .map(|pv| PhysicalVolumeView {
                    id: pv.id,
                    device_use: pv.device_use.clone(),
                    file_system: pv.file_system.clone(),
                    index: pv.volume_index,
                    mount_point: pv.mount_point.clone(),
                    name: pv.name.clone(),
                    size: pv.size,
                    used_size: pv.used_size,
                    inode_size: pv.inode_size,
                    inode_nums: pv.inode_nums,
                    uuid: pv.uuid.clone(),
                    size_per_cluster: pv.size_per_cluster,
                })
                .collect(),
            os_disk: disk.os_disk,
            relation_name: disk.relation_name.clone(),
            inode_size: disk.inode_size,
        }
    }
}

/// `VolumeGroups`, with its id.
#[derive(Debug, Serialize)]
pub struct VolumeGroupView {
    pub id: i64,
    pub components: Option<String>,
    pub free_size: Option<i64>,
    pub logical_volumes: Vec<LogicalVolumeView>,
    pub name: Option<String>,
    pub size: Option<i64>,
}

/// `LogicalVolumes`, with its id.
#[derive(Debug, Serialize)]
pub struct LogicalVolumeView {
    pub id: i64,
    pub block_count: Option<i32>,
    pub block_size: Option<i64>,
    pub file_system: Option<String>,
    pub inode_size: Option<i32>,
    pub inode_nums: Option<i64>,
    pub device_use: Option<String>,
    pub mount_point: Option<String>,
    pub name: Option<String>,
    pub size: Option<i64>,
    pub used_size: Option<i64>,
    pub free_size: Option<i64>,
}

impl From<&LogicalVolumeRow> for LogicalVolumeView {
    fn from(lv: &LogicalVolumeRow) -> LogicalVolumeView {
        LogicalVolumeView {
            id: lv.id,
            block_count: lv.block_count,
            block_size: lv.block_size,
            file_system: lv.file_system.clone(),
            inode_size: lv.inode_size,
            inode_nums: lv.inode_nums,
            device_use: lv.device_use.clone(),
            mount_point: lv.mount_point.clone(),
            name: lv.name.clone(),
            size: lv.size,
            used_size: lv.used_size,
            free_size: lv.free_size,
        }
    }
}

/// `BtrfsFileSystem` with its subvolumes and id. Show-task serves each as JSON text.
#[derive(Debug, Serialize)]
pub struct BtrfsView {
    pub id: i64,
    pub name: Option<String>,
    pub label: Option<String>,
    pub uuid: Option<String>,
    pub device: Option<String>,
    pub size: Option<i64>,
    pub nodesize: Option<i64>,
    pub sectorsize: Option<i32>,
    pub data_profile: Option<String>,
    pub system_profile: Option<String>,
    pub metadata_profile: Option<String>,
    pub global_reserve1: Option<String>,
    pub g_vol_used_size: Option<i64>,
    pub default_subvolid: Option<String>,
    pub default_subvol_name: Option<String>,
    pub default_subvol_mountpath: Option<String>,
    pub subvolumn: Vec<SubvolumeView>,
}

#[derive(Debug, Serialize)]
pub struct SubvolumeView {
    pub uuid: Option<String>,
    pub is_snapshot: Option<String>,
    pub subvol_id: Option<String>,
    pub parent_id: Option<String>,
    pub subvol_name: Option<String>,
    pub subvol_mount_path: Option<String>,
}

impl From<&SubvolumeRow> for SubvolumeView {
    fn from(sv: &SubvolumeRow) -> SubvolumeView {
        SubvolumeView {
            uuid: sv.uuid.clone(),
            is_snapshot: sv.is_snapshot.clone(),
            subvol_id: sv.subvol_id.clone(),
            parent_id: sv.parent_id.clone(),
            subvol_name: sv.subvol_name.clone(),
            subvol_mount_path: sv.subvol_mount_path.clone(),
        }
    }
}

/// `NetWork`; the SDK types its id as a string.
#[derive(Debug, Serialize)]
pub struct NetworkView {
    pub id: String,
    pub name: Option<String>,
    pub ip: Option<String>,
    pub ipv6: Option<String>,
    pub netmask: Option<String>,
    pub gateway: Option<String>,
    pub mtu: Option<i32>,
    pub mac: Option<String>,
}

impl From<&NetworkRow> for NetworkView {
    fn from(n: &NetworkRow) -> NetworkView {
        NetworkView {
            id: n.id.to_string(),
            name: n.name.clone(),
            ip: n.ip.clone(),
            ipv6: n.ipv6.clone(),
            netmask: n.netmask.clone(),
            gateway: n.gateway.clone(),
            mtu: n.mtu,
            mac: n.mac.clone(),
        }
    }
}
