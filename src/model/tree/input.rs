//! A server's tree as a request sends it, and the rules that differ between the pages that
//! send one (which fields are mandatory, how many elements a collection may hold). Every rule
//! of a single value is in the value's type (`attrs`, `model::values`).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use super::attrs::{Btrfs, Disk, LogicalVolume, Network, PhysicalVolume, Subvolume, VolumeGroup};
use super::node::{members, Node};
use crate::model::enums::DeviceUse;
use crate::model::values::{NonNegative, Text255};
use crate::parse::{Checked, JsonPath};

members!(
    /// A disk's id (kept by an update when it names an existing disk) and its partitions.
    DiskMembers { id: Option<NonNegative>, physical_volumes: Option<Vec<PhysicalVolumeInput>> }
);
members!(
    /// The id of a node without children.
    IdMember { id: Option<NonNegative> }
);
members!(VolumeGroupMembers { id: Option<NonNegative>, logical_volumes: Option<Vec<LogicalVolumeInput>> });
members!(BtrfsMembers { id: Option<NonNegative>, subvolumn: Option<Vec<Subvolume>> });
members!(NetworkMembers { id: Option<NetworkId> });

pub type DiskInput = Node<Disk, DiskMembers>;
pub type PhysicalVolumeInput = Node<PhysicalVolume, IdMember>;
pub type VolumeGroupInput = Node<VolumeGroup, VolumeGroupMembers>;
pub type LogicalVolumeInput = Node<LogicalVolume, IdMember>;
pub type BtrfsInput = Node<Btrfs, BtrfsMembers>;
pub type NetworkInput = Node<Network, NetworkMembers>;

/// A network's id as sent: the SDK types it as a string; it is our numeric id as text, and
/// the empty string names none.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct NetworkId(pub Option<i64>);

crate::openapi::custom_schema!(
    NetworkId,
    ObjectBuilder::new().schema_type(Type::String).max_length(Some(255)).pattern(Some("^([0-9]+)?$"))
);

impl<'de> Deserialize<'de> for NetworkId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<NetworkId, D::Error> {
        let text = Text255::deserialize(deserializer)?;
        if text.is_empty() {
            return Ok(NetworkId(None));
        }
        match text.parse::<i64>() {
            Ok(id) if id >= 0 => Ok(NetworkId(Some(id))),
            _ => Err(D::Error::custom(format_args!("must be the numeric id of a network, found {:?}", &*text))),
        }
    }
}

/// The collections of one server's tree as sent; `None` is a collection the body does not
/// carry (an update keeps it).
#[derive(Debug, Clone, Copy, Default)]
pub struct TreeInput<'a> {
    pub disks: Option<&'a [DiskInput]>,
    pub volume_groups: Option<&'a [VolumeGroupInput]>,
    pub btrfs_list: Option<&'a [BtrfsInput]>,
    pub networks: Option<&'a [NetworkInput]>,
}

/// Whose rules a tree is checked against: they differ between the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeRules {
    /// A source server's tree (register, or `source_server` of an update): page 004 tables 5–14.
    Source,
    /// `target_server` of a create: page 003 (at most 50 disks, volumes and groups; all optional).
    CreateTarget,
    /// `target_server` of an update: page 004 tables 7–14.
    UpdateTarget,
}

impl TreeRules {
    /// Page 004 marks fields inside its nested objects mandatory; page 003 marks none.
    fn strict(self) -> bool {
        self != TreeRules::CreateTarget
    }

    /// Disks, a disk's physical volumes, volume groups.
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

/// Btrfs filesystems, their subvolumes and networks: the same limit on every page.
const MAX_ELEMENTS: usize = 65535;

/// Each of `items` checked with `check`, at its index below `path.name`, after their count.
fn each<T>(
    path: &JsonPath,
    name: &str,
    items: Option<&[T]>,
    max: usize,
    check: impl Fn(&T, &JsonPath) -> Checked,
) -> Checked {
    let Some(items) = items else { return Ok(()) };
    path.max_items(name, items.len(), max)?;
    let list = path.field(name);
    items.iter().enumerate().try_for_each(|(i, item)| check(item, &list.index(i)))
}

impl TreeInput<'_> {
    pub fn check(&self, path: &JsonPath, rules: TreeRules) -> Checked {
        each(path, "disks", self.disks, rules.max_disks(), |disk, path| check_disk(disk, path, rules))?;
        each(path, "volume_groups", self.volume_groups, rules.max_disks(), |group, path| {
            each(
                path,
                "logical_volumes",
                group.members.logical_volumes.as_deref(),
                rules.max_logical_volumes(),
                |lv, path| check_logical_volume(&lv.attrs, path, rules),
            )
        })?;
        each(path, "btrfs_list", self.btrfs_list, MAX_ELEMENTS, |fs, path| check_btrfs(fs, path, rules))?;
        each(path, "networks", self.networks, MAX_ELEMENTS, |network, path| check_network(&network.attrs, path, rules))
    }

    /// How many rows (and so ids) the tree makes.
    pub fn node_count(&self) -> usize {
        let disks = self.disks.unwrap_or_default();
        let groups = self.volume_groups.unwrap_or_default();
        let btrfs = self.btrfs_list.unwrap_or_default();
        disks.len()
            + disks.iter().map(|d| d.members.physical_volumes.as_ref().map_or(0, Vec::len)).sum::<usize>()
            + groups.len()
            + groups.iter().map(|g| g.members.logical_volumes.as_ref().map_or(0, Vec::len)).sum::<usize>()
            + btrfs.len()
            + btrfs.iter().map(|f| f.members.subvolumn.as_ref().map_or(0, Vec::len)).sum::<usize>()
            + self.networks.map_or(0, <[_]>::len)
    }
}

fn check_disk(disk: &DiskInput, path: &JsonPath, rules: TreeRules) -> Checked {
    if rules == TreeRules::Source {
        let d = &disk.attrs;
        path.required("name", &d.name)?;
        path.required("device_use", &d.device_use)?;
        path.required("size", &d.size)?;
        path.required("used_size", &d.used_size)?;
        path.required("physical_volumes", &disk.members.physical_volumes)?;
    }
    each(path, "physical_volumes", disk.members.physical_volumes.as_deref(), rules.max_disks(), |pv, path| {
        check_physical_volume(&pv.attrs, path, rules)
    })
}

fn check_physical_volume(pv: &PhysicalVolume, path: &JsonPath, rules: TreeRules) -> Checked {
    if rules == TreeRules::UpdateTarget {
        if let Some(device_use) = &pv.device_use {
            device_use.parse::<DeviceUse>().map_err(|e| path.invalid("device_use", e))?;
        }
    }
    if rules == TreeRules::Source {
        // Page 004 types a source volume's inode_size as Integer; page 003 as Long.
        path.range("inode_size", pv.inode_size.map(NonNegative::get), 0, i64::from(i32::MAX))?;
    }
    Ok(())
}

fn check_logical_volume(lv: &LogicalVolume, path: &JsonPath, rules: TreeRules) -> Checked {
    if rules.strict() {
        path.required("file_system", &lv.file_system)?;
        path.required("inode_size", &lv.inode_size)?;
        path.required("mount_point", &lv.mount_point)?;
        path.required("name", &lv.name)?;
        path.required("size", &lv.size)?;
        path.required("used_size", &lv.used_size)?;
        path.required("free_size", &lv.free_size)?;
    }
    Ok(())
}

fn check_btrfs(fs: &BtrfsInput, path: &JsonPath, rules: TreeRules) -> Checked {
    let f = &fs.attrs;
    if rules.strict() {
        for (name, value) in [
            ("name", &f.name),
            ("label", &f.label),
            ("uuid", &f.uuid),
            ("device", &f.device),
            ("data_profile", &f.data_profile),
            ("system_profile", &f.system_profile),
            ("metadata_profile", &f.metadata_profile),
            ("global_reserve1", &f.global_reserve1),
            ("default_subvolid", &f.default_subvolid),
            ("default_subvol_name", &f.default_subvol_name),
            ("default_subvol_mountpath", &f.default_subvol_mountpath),
        ] {
            path.required(name, value)?;
        }
        path.required("size", &f.size)?;
        path.required("nodesize", &f.nodesize)?;
        path.required("sectorsize", &f.sectorsize)?;
        path.required("g_vol_used_size", &f.g_vol_used_size)?;
        path.required("subvolumn", &fs.members.subvolumn)?;
    }
    each(path, "subvolumn", fs.members.subvolumn.as_deref(), MAX_ELEMENTS, |sv, path| check_subvolume(sv, path, rules))
}

fn check_subvolume(sv: &Subvolume, path: &JsonPath, rules: TreeRules) -> Checked {
    if rules.strict() {
        for (name, value) in [
            ("uuid", &sv.uuid),
            ("is_snapshot", &sv.is_snapshot),
            ("subvol_id", &sv.subvol_id),
            ("parent_id", &sv.parent_id),
            ("subvol_name", &sv.subvol_name),
            ("subvol_mount_path", &sv.subvol_mount_path),
        ] {
            path.required(name, value)?;
        }
    }
    Ok(())
}

fn check_network(network: &Network, path: &JsonPath, rules: TreeRules) -> Checked {
    if rules.strict() {
        for (name, value) in [
            ("name", &network.name),
            ("ip", &network.ip),
            ("netmask", &network.netmask),
            ("gateway", &network.gateway),
            ("mac", &network.mac),
        ] {
            path.required(name, value)?;
        }
    }
    Ok(())
}
