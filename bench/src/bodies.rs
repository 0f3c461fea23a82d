//! Request bodies the benchmark sends.
//!
//! The standard tree is the one `sms-tasks seed` writes (2 disks × 3 physical volumes, 1 volume
//! group × 2 logical volumes, 1 Btrfs × 2 subvolumes), so created tasks look like seeded ones.
//! The maximum tree is at the create page's limits (50 disks × 50 volumes, 50 groups × 50
//! logical volumes), plus 50 Btrfs filesystems × 50 subvolumes.

use serde_json::{json, Value};

/// Every name the benchmark gives a task or a source starts with this, so that what it adds
/// to a kept database can be found and deleted (seeded names never start with it).
pub const BENCH_PREFIX: &str = "zz-bench-";

/// Disks (and physical volumes per disk, groups, logical volumes per group, filesystems,
/// subvolumes per filesystem) of the maximum tree.
pub const MAX_FANOUT: usize = 50;

/// `POST /v3/sources`: the smallest valid registration.
pub fn source(n: usize) -> Value {
    json!({
        "name": format!("{BENCH_PREFIX}src-{n}"),
        "os_type": "LINUX",
        "ip": format!("10.{}.{}.{}", 200 + (n >> 16) % 50, (n >> 8) & 255, n & 255),
        "os_version": "CENTOS_7_64BIT",
    })
}

/// `POST /v3/tasks` for `source_id` with the given target tree.
pub fn create_task(name: &str, source_id: &str, tree: Tree) -> Value {
    let mut target = json!({ "vm_id": format!("vm-{name}"), "name": format!("tgt-{name}") });
    let (disks, volumes, groups, logical, btrfs, subvolumes) = match tree {
        Tree::Standard => (2, 3, 1, 2, 1, 2),
        Tree::Maximum => (MAX_FANOUT, MAX_FANOUT, MAX_FANOUT, MAX_FANOUT, MAX_FANOUT, MAX_FANOUT),
    };
    target["disks"] = (0..disks).map(|d| disk(d, volumes)).collect();
    target["volume_groups"] = (0..groups).map(|g| volume_group(g, logical)).collect();
    target["btrfs_list"] = (0..btrfs).map(|f| btrfs_filesystem(f, subvolumes)).collect();
    json!({
        "name": name,
        "type": "MIGRATE_FILE",
        "os_type": "LINUX",
        "start_target_server": true,
        "use_public_ip": true,
        "migration_ip": "192.168.0.1",
        "region_name": "region name",
        "region_id": "region-1",
        "project_name": "project name",
        "project_id": "0123456789abcdef0123456789abcdef",
        "source_server": { "id": source_id },
        "target_server": target,
    })
}

#[derive(Debug, Clone, Copy)]
pub enum Tree {
    Standard,
    Maximum,
}

fn disk(d: usize, volumes: usize) -> Value {
    let size: i64 = 107_374_182_400;
    json!({
        "name": format!("/dev/vd{d}"),
        "disk_id": format!("disk-{d}"),
        "device_use": if d == 0 { "BOOT" } else { "NORMAL" },
        "partition_style": "GPT",
        "size": size,
        "used_size": size / 3,
        "os_disk": d == 0,
        "physical_volumes": (0..volumes).map(|p| json!({
            "index": p,
            "name": format!("/dev/vd{d}p{p}"),
            "device_use": if p == 0 { "BOOT" } else { "NORMAL" },
            "file_system": "ext4",
            "mount_point": format!("/mnt/d{d}p{p}"),
            "size": size / 64,
            "used_size": size / 128,
            "free_size": size / 128,
            "uuid": format!("uuid-{d}-{p}"),
        })).collect::<Vec<_>>(),
    })
}

fn volume_group(g: usize, logical: usize) -> Value {
    json!({
        "name": format!("vg{g}"),
        "components": "/dev/vdb2",
        "size": 107_374_182_400i64,
        "free_size": 10_737_418_240i64,
        "logical_volumes": (0..logical).map(|l| json!({
            "name": format!("lv{g}-{l}"),
            "block_count": 1024,
            "block_size": 4096,
            "file_system": "xfs",
            "inode_size": 256,
            "device_use": "NORMAL",
            "mount_point": format!("/data{g}-{l}"),
            "size": 1_073_741_824i64,
            "used_size": 536_870_912i64,
            "free_size": 536_870_912i64,
        })).collect::<Vec<_>>(),
    })
}

fn btrfs_filesystem(f: usize, subvolumes: usize) -> Value {
    json!({
        "name": format!("btrfs-{f}"),
        "label": "",
        "uuid": format!("fs-{f}"),
        "device": "/dev/vdb3",
        "size": 21_474_836_480i64,
        "nodesize": 16_384,
        "sectorsize": 4_096,
        "data_profile": "single",
        "system_profile": "DUP",
        "metadata_profile": "DUP",
        "global_reserve1": "512.00MiB",
        "g_vol_used_size": 1_073_741_824i64,
        "default_subvolid": "5",
        "default_subvol_name": "@",
        "default_subvol_mountpath": "/",
        "subvolumn": (0..subvolumes).map(|v| json!({
            "uuid": format!("fs-{f}"),
            "is_snapshot": "false",
            "subvol_id": (256 + v).to_string(),
            "parent_id": "5",
            "subvol_name": format!("@sub{v}"),
            "subvol_mount_path": format!("/sub{v}"),
        })).collect::<Vec<_>>(),
    })
}

/// `PUT /v3/tasks/{id}` replacing the subtasks with the 5 a seeded task has (no ids: each
/// update deletes the previous five and inserts five new rows).
pub fn replace_subtasks(n: usize) -> Value {
    const NAMES: [&str; 5] =
        ["CREATE_CLOUD_SERVER", "SSL_CONFIG", "ATTACH_AGENT_IMAGE", "FORMAT_DISK_LINUX", "MIGRATE_LINUX_FILE"];
    let start = 1_700_000_000_000i64 + n as i64 * 1_000;
    let sub_tasks: Vec<Value> = NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({
                "name": name,
                "progress": if i < 2 { 100 } else { (n % 100) as i64 },
                "start_date": start + i as i64 * 10_000,
                "end_date": if i < 2 { Some(start + (i as i64 + 1) * 10_000) } else { None },
                "migrate_speed": 12.5,
                "user_op": "REPLICATE",
            })
        })
        .collect();
    json!({ "sub_tasks": sub_tasks })
}
