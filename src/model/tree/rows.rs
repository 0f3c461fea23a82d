//! The stored rows of a server's tree, one type per table: the keys (id, tenant, parent,
//! position) beside the node's attributes. Built from a [`TreeInput`] with ids from an
//! [`IdAssigner`]; read back as JSON rows (`store::servers::load_trees`).

use std::collections::{HashMap, HashSet};

use serde::Deserialize;
use uuid::Uuid;

use super::attrs::{Btrfs, Disk, LogicalVolume, Network, PhysicalVolume, Subvolume, VolumeGroup};
use super::input::TreeInput;
use crate::model::domain::DomainId;
use crate::model::enums::DeviceUse;
use crate::model::values::{Int32, Int64, NonNegative};

/// Defines a row type: its keys, then its node's attributes flattened.
macro_rules! tree_row {
    ($(#[$meta:meta])* $name:ident, $parent:ident : $parent_ty:ty, $attrs:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Deserialize)]
        pub struct $name {
            pub id: i64,
            pub domain_id: DomainId,
            pub $parent: $parent_ty,
            pub position: i32,
            #[serde(flatten)]
            pub attrs: $attrs,
        }
    };
}

tree_row!(DiskRow, server_id: Uuid, Disk);
tree_row!(
    /// `disk_row_id` is the owning `disks.id`; `disk_id` among the attributes is the API's own.
    PhysicalVolumeRow,
    disk_row_id: i64,
    PhysicalVolume
);
tree_row!(VolumeGroupRow, server_id: Uuid, VolumeGroup);
tree_row!(LogicalVolumeRow, volume_group_id: i64, LogicalVolume);
tree_row!(BtrfsRow, server_id: Uuid, Btrfs);
tree_row!(SubvolumeRow, filesystem_id: i64, Subvolume);
tree_row!(NetworkRow, server_id: Uuid, Network);

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

    /// The id of the next element: `requested` when it may be kept, else a fresh one. The
    /// caller allocates one fresh id per element (`TreeInput::node_count`).
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
    /// The rows for `input` below `server_id`, with ids from `ids`, and the defaults of pages
    /// 003 and 004 (a disk's `device_use` NORMAL; a logical volume's block count and size 0).
    pub fn build(input: &TreeInput, domain: &DomainId, server_id: Uuid, ids: &mut IdAssigner) -> TreeRows {
        let mut rows = TreeRows::default();
        let server_key = server_id.to_string();
        let id_of = |id: Option<NonNegative>| id.map(NonNegative::get);
        for (position, disk) in input.disks.unwrap_or_default().iter().enumerate() {
            let disk_row_id = ids.assign(id_of(disk.members.id), &server_key);
            let mut attrs = disk.attrs.clone();
            attrs.device_use.get_or_insert(DeviceUse::Normal);
            rows.disks.push(DiskRow {
                id: disk_row_id,
                domain_id: domain.clone(),
                server_id,
                position: position as i32,
                attrs,
            });
            for (position, pv) in disk.members.physical_volumes.iter().flatten().enumerate() {
                rows.physical_volumes.push(PhysicalVolumeRow {
                    id: ids.assign(id_of(pv.members.id), &disk_row_id.to_string()),
                    domain_id: domain.clone(),
                    disk_row_id,
                    position: position as i32,
                    attrs: pv.attrs.clone(),
                });
            }
        }
        for (position, group) in input.volume_groups.unwrap_or_default().iter().enumerate() {
            let volume_group_id = ids.assign(id_of(group.members.id), &server_key);
            rows.volume_groups.push(VolumeGroupRow {
                id: volume_group_id,
                domain_id: domain.clone(),
                server_id,
                position: position as i32,
                attrs: group.attrs.clone(),
            });
            for (position, lv) in group.members.logical_volumes.iter().flatten().enumerate() {
                let mut attrs = lv.attrs.clone();
                attrs.block_count.get_or_insert(Int32::LOWEST);
                attrs.block_size.get_or_insert(Int64::LOWEST);
                rows.logical_volumes.push(LogicalVolumeRow {
                    id: ids.assign(id_of(lv.members.id), &volume_group_id.to_string()),
                    domain_id: domain.clone(),
                    volume_group_id,
                    position: position as i32,
                    attrs,
                });
            }
        }
        for (position, fs) in input.btrfs_list.unwrap_or_default().iter().enumerate() {
            let filesystem_id = ids.assign(id_of(fs.members.id), &server_key);
            rows.btrfs.push(BtrfsRow {
                id: filesystem_id,
                domain_id: domain.clone(),
                server_id,
                position: position as i32,
                attrs: fs.attrs.clone(),
            });
            for (position, sv) in fs.members.subvolumn.iter().flatten().enumerate() {
                rows.subvolumes.push(SubvolumeRow {
                    // Subvolumes have no id in the API: a sent list replaces them all.
                    id: ids.assign(None, &filesystem_id.to_string()),
                    domain_id: domain.clone(),
                    filesystem_id,
                    position: position as i32,
                    attrs: sv.clone(),
                });
            }
        }
        for (position, network) in input.networks.unwrap_or_default().iter().enumerate() {
            rows.networks.push(NetworkRow {
                id: ids.assign(network.members.id.and_then(|id| id.0), &server_key),
                domain_id: domain.clone(),
                server_id,
                position: position as i32,
                attrs: network.attrs.clone(),
            });
        }
        rows
    }
}
