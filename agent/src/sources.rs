//! Source registration: the realistic server tree each simulated agent reports, and finding
//! the sources registered by an earlier run (by exact name) so that they are reused.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::client::{ApiError, Client};

const GIB: u64 = 1 << 30;
/// `GET /v3/sources` answers at most this many per page.
const PAGE: u64 = 200;

/// One of the agent's sources.
#[derive(Debug, Clone)]
pub struct Source {
    pub index: u32,
    pub name: String,
    pub id: String,
    /// Registered by an earlier run.
    pub reused: bool,
}

/// Finds sources named `names[i]` among the caller's sources and registers those missing.
pub async fn register_all(client: &Client, prefix: &str, names: &[String], seed: u64) -> Result<Vec<Source>, ApiError> {
    let existing = find_existing(client, prefix, names).await?;
    let mut sources = Vec::with_capacity(names.len());
    for (index, name) in names.iter().enumerate() {
        let index = index as u32;
        let source = match existing.get(name) {
            Some(id) => Source { index, name: name.clone(), id: id.clone(), reused: true },
            None => {
                let answer = client.post("/v3/sources", &source_body(name, index, seed)).await?;
                let id = answer["id"].as_str().unwrap_or_default().to_string();
                if id.is_empty() {
                    return Err(ApiError::Transport {
                        method: reqwest::Method::POST,
                        path: "/v3/sources".into(),
                        message: format!("no id in the answer {answer}"),
                    });
                }
                Source { index, name: name.clone(), id, reused: false }
            }
        };
        tracing::info!(name = %source.name, id = %source.id, reused = source.reused, "source ready");
        sources.push(source);
    }
    Ok(sources)
}

/// The ids of the sources named exactly like one of `names`, listed with the `name` filter
/// (a case-insensitive substring) set to `prefix`, page by page.
async fn find_existing(client: &Client, prefix: &str, names: &[String]) -> Result<HashMap<String, String>, ApiError> {
    let mut found = HashMap::new();
    let mut offset = 0u64;
    loop {
        let (limit, offset_text) = (PAGE.to_string(), offset.to_string());
        let page = client.get("/v3/sources", &[("name", prefix), ("limit", &limit), ("offset", &offset_text)]).await?;
        let items = page["source_servers"].as_array().cloned().unwrap_or_default();
        match_names(names, &items, &mut found);
        offset += items.len() as u64;
        let count = page["count"].as_u64().unwrap_or(0);
        if items.is_empty() || offset >= count || offset > 65_535 - PAGE {
            return Ok(found);
        }
    }
}

/// Adds to `found` each listed source whose name is exactly one of `names` (the list is newest
/// first: the first of several sources of one name wins).
pub fn match_names(names: &[String], listed: &[Value], found: &mut HashMap<String, String>) {
    for item in listed {
        let (Some(name), Some(id)) = (item["name"].as_str(), item["id"].as_str()) else { continue };
        if names.iter().any(|n| n == name) && !found.contains_key(name) {
            found.insert(name.to_string(), id.to_string());
        }
    }
}

/// A `PostSourceServerBody` as a real agent reports it: disks with partitions, an LVM volume
/// group with logical volumes (Linux), networks. Source `index` with `seed` always gives the
/// same tree; about one source in five is a Windows server.
pub fn source_body(name: &str, index: u32, seed: u64) -> Value {
    let mut rng = StdRng::seed_from_u64(seed ^ u64::from(index).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let ip = format!("192.168.{}.{}", 1 + index / 250 % 250, 2 + index % 250);
    let mac = format!("fa:16:3e:{:02x}:{:02x}:{:02x}", (index >> 16) & 0xff, (index >> 8) & 0xff, index & 0xff);
    let cpus = [2, 4, 8, 16][rng.gen_range(0..4)];
    let memory = cpus as u64 * [2, 4][rng.gen_range(0..2)] * GIB;
    let networks = json!([{
        "name": "eth0", "ip": ip, "netmask": "255.255.255.0", "gateway": format!("{}.1", ip.rsplit_once('.').unwrap().0),
        "mac": mac, "mtu": 1500
    }]);
    let data_size = [50, 100, 200, 500][rng.gen_range(0..4)] * GIB;
    let data_used = data_size / 100 * rng.gen_range(10..80);

    if rng.gen_ratio(1, 5) {
        let system_used = rng.gen_range(15..35) * GIB;
        return json!({
            "name": name, "os_type": "WINDOWS", "ip": ip, "hostname": name,
            "os_version": "WINDOWS_2019_DATACENTER_64BIT", "firmware": "BIOS", "cpu_quantity": cpus, "memory": memory,
            "agent_version": "25.3.0", "system_dir": "C:\\Windows",
            "disks": [
                {"name": "Disk 0", "device_use": "BOOT", "partition_style": "MBR", "size": 60 * GIB, "used_size": system_used,
                 "os_disk": true, "physical_volumes": [
                    {"name": "System Reserved", "device_use": "BOOT", "file_system": "NTFS", "mount_point": "",
                     "index": 0, "size": 549_453_824u64, "used_size": 34_603_008u64, "size_per_cluster": 4096},
                    {"name": "C:", "device_use": "OS", "file_system": "NTFS", "mount_point": "C:\\", "index": 1,
                     "size": 60 * GIB - 549_453_824, "used_size": system_used, "size_per_cluster": 4096}]},
                {"name": "Disk 1", "device_use": "NORMAL", "partition_style": "GPT", "size": data_size, "used_size": data_used,
                 "os_disk": false, "physical_volumes": [
                    {"name": "D:", "device_use": "NORMAL", "file_system": "NTFS", "mount_point": "D:\\", "index": 0,
                     "size": data_size, "used_size": data_used, "size_per_cluster": 4096}]}
            ],
            "volume_groups": [],
            "networks": networks,
        });
    }

    let (os_version, vg) = [("CENTOS_7_64BIT", "centos"), ("UBUNTU_22_04_64BIT", "ubuntu-vg"), ("ROCKY_9_64BIT", "rl")]
        [rng.gen_range(0..3)];
    let root_size = 35 * GIB;
    let root_used = rng.gen_range(3..20) * GIB;
    let swap_size = 4 * GIB;
    let lvm_size = 40 * GIB - GIB;
    let lv = |name: &str, fs: &str, mount: &str, size: u64, used: u64| {
        json!({"name": format!("/dev/mapper/{vg}-{name}"), "file_system": fs, "mount_point": mount, "device_use": "NORMAL",
               "size": size, "used_size": used, "free_size": size - used, "inode_size": 256, "inode_nums": size / 16384,
               "block_size": 4096, "block_count": (size / 4096).min(i32::MAX as u64)})
    };
    json!({
        "name": name, "os_type": "LINUX", "ip": ip, "hostname": name,
        "os_version": os_version, "firmware": "BIOS", "boot_loader": "GRUB", "cpu_quantity": cpus, "memory": memory,
        "agent_version": "25.3.0", "kernel_version": "5.14.0-362.el9.x86_64", "system_dir": "/boot",
        "disks": [
            {"name": "/dev/vda", "device_use": "BOOT", "partition_style": "MBR", "size": 40 * GIB,
             "used_size": GIB / 4 + root_used, "os_disk": true, "physical_volumes": [
                {"name": "/dev/vda1", "device_use": "BOOT", "file_system": "xfs", "mount_point": "/boot", "index": 0,
                 "size": GIB, "used_size": GIB / 4, "free_size": GIB - GIB / 4, "inode_size": 512},
                {"name": "/dev/vda2", "device_use": "NORMAL", "file_system": "LVM2_member", "mount_point": "", "index": 1,
                 "size": lvm_size, "used_size": root_used, "free_size": lvm_size - root_used}]},
            {"name": "/dev/vdb", "device_use": "NORMAL", "partition_style": "GPT", "size": data_size, "used_size": data_used,
             "os_disk": false, "physical_volumes": [
                {"name": "/dev/vdb1", "device_use": "NORMAL", "file_system": "ext4", "mount_point": "/data", "index": 0,
                 "size": data_size, "used_size": data_used, "free_size": data_size - data_used, "inode_size": 256}]}
        ],
        "volume_groups": [{
            "name": vg, "components": "/dev/vda2", "size": lvm_size, "free_size": lvm_size - root_size - swap_size,
            "logical_volumes": [lv("root", "xfs", "/", root_size, root_used), lv("swap", "swap", "", swap_size, 0)]
        }],
        "networks": networks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exact_names_match_and_the_newest_wins() {
        let names = vec!["sim-agent-1".to_string(), "sim-agent-2".to_string()];
        let listed = vec![
            json!({"name": "sim-agent-10", "id": "a"}),
            json!({"name": "SIM-AGENT-1", "id": "b"}),
            json!({"name": "sim-agent-1", "id": "newest"}),
            json!({"name": "sim-agent-1", "id": "older"}),
            json!({"name": "x-sim-agent-2", "id": "c"}),
            json!({"name": "sim-agent-2"}),
        ];
        let mut found = HashMap::new();
        match_names(&names, &listed, &mut found);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found["sim-agent-1"], "newest");
        // A later page does not override what an earlier one found.
        match_names(
            &names,
            &[json!({"name": "sim-agent-1", "id": "later"}), json!({"name": "sim-agent-2", "id": "d"})],
            &mut found,
        );
        assert_eq!((found["sim-agent-1"].as_str(), found["sim-agent-2"].as_str()), ("newest", "d"));
    }

    #[test]
    fn trees_are_realistic_and_reproducible() {
        let body = source_body("sim-agent-0", 0, 7);
        assert_eq!(body, source_body("sim-agent-0", 0, 7));
        let kinds: Vec<String> =
            (0..50).map(|i| source_body("s", i, 7)["os_type"].as_str().unwrap().to_string()).collect();
        assert!(kinds.iter().any(|k| k == "WINDOWS") && kinds.iter().any(|k| k == "LINUX"), "{kinds:?}");
        for i in 0..50 {
            let body = source_body("s", i, 7);
            let disks = body["disks"].as_array().unwrap();
            assert_eq!(disks.len(), 2);
            for disk in disks {
                for field in ["name", "device_use", "size", "used_size", "physical_volumes"] {
                    assert!(!disk[field].is_null(), "{field} in {disk}");
                }
                assert!(disk["used_size"].as_u64() <= disk["size"].as_u64());
            }
            if body["os_type"] == "LINUX" {
                let lvs = body["volume_groups"][0]["logical_volumes"].as_array().unwrap();
                assert_eq!(lvs.len(), 2);
                for lv in lvs {
                    for field in ["file_system", "inode_size", "mount_point", "name", "size", "used_size", "free_size"]
                    {
                        assert!(!lv[field].is_null(), "{field} in {lv}");
                    }
                }
            }
            let network = &body["networks"][0];
            for field in ["name", "ip", "netmask", "gateway", "mac"] {
                assert!(network[field].is_string(), "{field} in {network}");
            }
        }
        assert_ne!(source_body("s", 3, 1)["ip"], source_body("s", 4, 1)["ip"]);
    }
}
