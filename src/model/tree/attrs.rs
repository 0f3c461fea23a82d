//! The attributes of each node of a server's tree: one struct per node, the fields that its
//! table stores and that the API sends and serves under the same names. A request's node
//! (`input`), its stored row (`rows`) and its views (`views`) all carry this struct, so a
//! field is declared, typed and bounded once.

use crate::model::columns::attributes;
use crate::model::enums::{DeviceUse, PartitionStyle};
use crate::model::values::{Int64, NonNegative, NonNegative32, Text, Text255};

attributes! {
    /// `ServerDisk` / `TargetDisk`.
    #[derive(Default)]
    pub struct Disk {
        pub name: Option<Text255>,
        pub disk_id: Option<Text255>,
        pub device_use: Option<DeviceUse>,
        pub partition_style: Option<PartitionStyle>,
        pub size: Option<NonNegative>,
        pub used_size: Option<NonNegative>,
        pub os_disk: Option<bool>,
        pub relation_name: Option<Text255>,
        pub inode_size: Option<NonNegative32>,
        pub disk_index: Option<Text255>,
    }
}

attributes! {
    /// `PhysicalVolume`: a partition of a disk. Its `device_use` is free text on most pages (an
    /// enum only in an update's target server: see `TreeRules`).
    #[derive(Default)]
    pub struct PhysicalVolume {
        pub device_use: Option<Text255>,
        pub file_system: Option<Text255>,
        pub index: Option<NonNegative32>,
        pub mount_point: Option<Text255>,
        pub name: Option<Text255>,
        pub size: Option<NonNegative>,
        pub used_size: Option<NonNegative>,
        pub free_size: Option<NonNegative>,
        /// A `Long` on the create page, an `Integer` for a source (see `TreeRules`).
        pub inode_size: Option<NonNegative>,
        pub inode_nums: Option<NonNegative>,
        pub uuid: Option<Text255>,
        pub size_per_cluster: Option<NonNegative32>,
        pub relation_name: Option<Text255>,
    }
}

attributes! {
    /// `VolumeGroups`.
    #[derive(Default)]
    pub struct VolumeGroup {
        pub name: Option<Text255>,
        pub components: Option<Text255>,
        pub size: Option<NonNegative>,
        pub free_size: Option<NonNegative>,
    }
}

attributes! {
    /// `LogicalVolumes`.
    #[derive(Default)]
    pub struct LogicalVolume {
        pub block_count: Option<NonNegative32>,
        pub block_size: Option<Int64<0, 1_048_576>>,
        pub file_system: Option<Text255>,
        pub inode_size: Option<NonNegative32>,
        pub inode_nums: Option<NonNegative>,
        pub device_use: Option<Text255>,
        pub mount_point: Option<Text<0, 256>>,
        pub name: Option<Text<0, 1024>>,
        pub size: Option<NonNegative>,
        pub used_size: Option<NonNegative>,
        pub free_size: Option<NonNegative>,
    }
}

attributes! {
    /// `BtrfsFileSystem`, without its subvolumes.
    #[derive(Default)]
    pub struct Btrfs {
        pub name: Option<Text255>,
        pub label: Option<Text255>,
        pub uuid: Option<Text255>,
        pub device: Option<Text255>,
        pub size: Option<NonNegative>,
        pub nodesize: Option<NonNegative>,
        pub sectorsize: Option<NonNegative32>,
        pub data_profile: Option<Text255>,
        pub system_profile: Option<Text255>,
        pub metadata_profile: Option<Text255>,
        pub global_reserve1: Option<Text255>,
        pub g_vol_used_size: Option<NonNegative>,
        pub default_subvolid: Option<Text255>,
        pub default_subvol_name: Option<Text255>,
        pub default_subvol_mountpath: Option<Text255>,
    }
}

attributes! {
    /// `BtrfsSubvolumn`: it has no id in the API, so its input is these attributes alone.
    #[derive(Default)]
    pub struct Subvolume {
        pub uuid: Option<Text255>,
        pub is_snapshot: Option<Text255>,
        pub subvol_id: Option<Text255>,
        pub parent_id: Option<Text255>,
        pub subvol_name: Option<Text255>,
        pub subvol_mount_path: Option<Text255>,
    }
}

attributes! {
    /// `NetWork`.
    #[derive(Default)]
    pub struct Network {
        pub name: Option<Text255>,
        pub ip: Option<Text255>,
        pub ipv6: Option<Text255>,
        pub netmask: Option<Text255>,
        pub gateway: Option<Text255>,
        pub mtu: Option<NonNegative32>,
        pub mac: Option<Text255>,
    }
}
