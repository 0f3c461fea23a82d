//! `sms-tasks seed`: fills a domain with realistic tasks in bulk, for load tests.
//!
//! Each task gets its own registered source server and a standard tree on its target server
//! (2 disks × 3 physical volumes, 1 volume group × 2 logical volumes, 1 Btrfs filesystem × 2
//! subvolumes), 5 subtasks and 2 special configs: the same rows the API writes, so seeded
//! tasks read back like tasks created one by one. Rows are written with COPY, a batch of tasks
//! per transaction; the `task_counts` triggers keep the counts exact as they go.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures_util::{StreamExt, TryStreamExt};
use indicatif::{ProgressBar, ProgressStyle};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::model::enums::TaskState;
use crate::model::now_ms;
use crate::store::allocate_ids;

/// Tasks per transaction.
const BATCH: usize = 5_000;
/// Nested ids per task: 2 disks, 6 volumes, 1 group, 2 logical volumes, 1 filesystem,
/// 2 subvolumes, 5 subtasks, 2 special configs.
const IDS_PER_TASK: usize = 21;

const WORDS: &[&str] = &[
    "alpha", "bravo", "cedar", "delta", "ember", "falcon", "granite", "harbor", "indigo", "juniper", "kestrel",
    "lumen", "maple", "nimbus", "onyx", "pepper", "quartz", "raven", "sierra", "tundra",
];
const PROJECTS: &[Option<&str>] = &[None, Some("0"), Some("ep-finance"), Some("ep-retail"), Some("ep-research")];
const SUBTASKS: &[&str] =
    &["CREATE_CLOUD_SERVER", "SSL_CONFIG", "ATTACH_AGENT_IMAGE", "FORMAT_DISK_LINUX", "MIGRATE_LINUX_FILE"];
const CONFIG_KEYS: &[&str] = &["MIGRATE_EXCLUDE_DIR", "SYNC_EXCLUDE_DIR", "NUM_PROCESS_MIGRATE", "LINUX_CPU_LIMIT"];

/// What a seeding run did.
pub struct SeedReport {
    pub tasks: usize,
    /// Writing the rows.
    pub elapsed: Duration,
    /// The VACUUM (ANALYZE) after them.
    pub vacuum: Duration,
}

/// Connections writing batches at once: PostgreSQL spends a core per connection on COPY.
const WRITERS: usize = 2;

/// Seeds `tasks` tasks for `domain`; the same `seed` gives the same names, states and trees.
pub async fn seed(
    pool: &PgPool,
    domain: &str,
    tasks: usize,
    seed: u64,
    show_progress: bool,
) -> anyhow::Result<SeedReport> {
    let progress = if show_progress { ProgressBar::new(tasks as u64) } else { ProgressBar::hidden() };
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} tasks  {per_sec}  ETA {eta}  ({elapsed})")
            .expect("a valid progress template"),
    );
    let started = Instant::now();
    let base_date = now_ms() - tasks as i64 * 1_000;
    let batches: Vec<(usize, usize)> =
        (0..tasks).step_by(BATCH).map(|first| (first, BATCH.min(tasks - first))).collect();
    futures_util::stream::iter(batches)
        .map(|(first, n)| {
            let progress = &progress;
            async move {
                // Each batch has its own generator, seeded from the run's seed and the batch's
                // place, so the result does not depend on which writer takes which batch.
                let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ first as u64);
                let mut tx = pool.begin().await?;
                let ids = allocate_ids(&mut tx, n * IDS_PER_TASK).await?;
                let batch = Batch::generate(&mut rng, domain, first, n, base_date, &ids);
                batch.copy(&mut tx).await.context("COPY of a seed batch failed")?;
                tx.commit().await?;
                progress.inc(n as u64);
                anyhow::Ok(())
            }
        })
        .buffer_unordered(WRITERS)
        .try_collect::<()>()
        .await?;
    progress.finish();
    let elapsed = started.elapsed();
    // Fresh statistics for the planner, and a visibility map so that list pages can skip
    // deep offsets with index-only scans.
    let vacuum_started = Instant::now();
    sqlx::query("VACUUM (ANALYZE)").execute(pool).await?;
    Ok(SeedReport { tasks, elapsed, vacuum: vacuum_started.elapsed() })
}

/// The COPY text of one batch, one buffer per table.
#[derive(Default)]
struct Batch {
    sources: String,
    tasks: String,
    targets: String,
    disks: String,
    physical_volumes: String,
    volume_groups: String,
    logical_volumes: String,
    btrfs: String,
    subvolumes: String,
    subtasks: String,
    special_configs: String,
}

/// Writes a COPY text row: fields tab-separated, `None` as `\N`. Values are generated here and
/// contain no tab, newline or backslash.
macro_rules! row {
    ($buf:expr, $($field:expr),+ $(,)?) => {{
        let fields: &[&dyn CopyField] = &[$(&$field),+];
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                $buf.push('\t');
            }
            field.write(&mut $buf);
        }
        $buf.push('\n');
    }};
}

trait CopyField {
    fn write(&self, buf: &mut String);
}

impl<T: std::fmt::Display> CopyField for T {
    fn write(&self, buf: &mut String) {
        let _ = write!(buf, "{self}");
    }
}

/// A NULL field.
struct Null;

impl std::fmt::Display for Null {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\\N")
    }
}

/// A UUID v7 of the time `unix_ms`, as the service makes for a row created then
/// (`Uuid::now_v7()`): seeded ids are ordered like the rows' dates, as created ones are.
fn time_ordered_uuid(rng: &mut StdRng, unix_ms: i64) -> Uuid {
    uuid::Builder::from_unix_timestamp_millis(unix_ms.max(0) as u64, &rng.gen()).into_uuid()
}

impl Batch {
    fn generate(rng: &mut StdRng, domain: &str, first: usize, n: usize, base_date: i64, ids: &[i64]) -> Batch {
        let mut b = Batch::default();
        let mut ids = ids.iter().copied();
        let mut next = || ids.next().expect("IDS_PER_TASK ids per task");
        for i in first..first + n {
            let created = base_date + i as i64 * 1_000 + rng.gen_range(0..1_000);
            // The source is registered a minute before its task (its `add_date`).
            let task_id = time_ordered_uuid(rng, created);
            let source_id = time_ordered_uuid(rng, created - 60_000);
            let target_id = time_ordered_uuid(rng, created);
            let word = WORDS[rng.gen_range(0..WORDS.len())];
            let name = format!("{word}-migration-{i:07}");
            let linux = rng.gen_bool(0.7);
            let os_type = if linux { "LINUX" } else { "WINDOWS" };
            let os_version = if linux { "CENTOS_7_9_64BIT" } else { "WINDOWS2016_64BIT" };
            let state = TaskState::ALL[rng.gen_range(0..TaskState::ALL.len())].as_str();
            let project = PROJECTS[rng.gen_range(0..PROJECTS.len())];
            let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
            let task_type = if rng.gen_bool(0.5) { "MIGRATE_FILE" } else { "MIGRATE_BLOCK" };

            row!(
                b.sources,
                source_id,
                domain,
                "source",
                Null,
                format!("src-{name}"),
                format!("host-{i}"),
                ip,
                os_type,
                os_version,
                "waiting",
                "t",
                created - 60_000
            );
            row!(
                b.tasks,
                task_id,
                domain,
                source_id,
                name,
                task_type,
                os_type,
                state,
                rng.gen_range(0..3),
                rng.gen_range(0..1001),
                "t",
                format!("192.168.{}.{}", (i >> 8) & 255, i & 255),
                "region name",
                "region-1",
                "project name",
                "0123456789abcdef0123456789abcdef",
                project.map_or(String::from("\\N"), str::to_string),
                "t",
                "f",
                "f",
                10,
                "t",
                created,
                created + 5_000,
                rng.gen_range(0.0..100.0f64),
                rng.gen_range(0..100_000),
                "INIT",
                format!("MIGRATE_LINUX_FILE:{}%", rng.gen_range(0..101))
            );
            row!(
                b.targets,
                target_id,
                domain,
                "target",
                task_id,
                format!("tgt-{name}"),
                format!("vm-{task_id}"),
                os_type,
                os_version,
                "t",
                created
            );
            for d in 0..2 {
                let disk_row = next();
                let size: i64 = rng.gen_range(10..2_000) * 1_073_741_824;
                row!(
                    b.disks,
                    disk_row,
                    domain,
                    target_id,
                    d,
                    format!("/dev/vd{}", (b'a' + d as u8) as char),
                    format!("disk-{d}"),
                    if d == 0 { "BOOT" } else { "NORMAL" },
                    "GPT",
                    size,
                    size / 3,
                    d == 0,
                    d
                );
                for p in 0..3 {
                    row!(
                        b.physical_volumes,
                        next(),
                        domain,
                        disk_row,
                        p,
                        if p == 0 { "BOOT" } else { "NORMAL" },
                        "ext4",
                        p,
                        format!("/mnt/d{d}p{p}"),
                        format!("/dev/vd{}{}", (b'a' + d as u8) as char, p + 1),
                        size / 4,
                        size / 8,
                        size / 8,
                        format!("uuid-{i}-{d}-{p}")
                    );
                }
            }
            let group = next();
            row!(
                b.volume_groups,
                group,
                domain,
                target_id,
                0,
                "vg0",
                "/dev/vdb2",
                107_374_182_400i64,
                10_737_418_240i64
            );
            for l in 0..2 {
                row!(
                    b.logical_volumes,
                    next(),
                    domain,
                    group,
                    l,
                    format!("lv{l}"),
                    1024,
                    4096,
                    "xfs",
                    256,
                    "NORMAL",
                    format!("/data{l}"),
                    42_949_672_960i64,
                    1_073_741_824i64,
                    41_875_931_136i64
                );
            }
            let fs = next();
            row!(
                b.btrfs,
                fs,
                domain,
                target_id,
                0,
                "btrfs-root",
                "",
                format!("fs-{i}"),
                "/dev/vdb3",
                21_474_836_480i64,
                16_384,
                4_096,
                "single",
                "DUP",
                "DUP",
                "512.00MiB",
                1_073_741_824i64,
                "5",
                "@",
                "/"
            );
            for v in 0..2 {
                row!(
                    b.subvolumes,
                    next(),
                    domain,
                    fs,
                    v,
                    format!("fs-{i}"),
                    "false",
                    256 + v,
                    5,
                    format!("@sub{v}"),
                    format!("/sub{v}")
                );
            }
            for (s, subtask) in SUBTASKS.iter().enumerate() {
                let finished = s < 2;
                row!(
                    b.subtasks,
                    next(),
                    domain,
                    task_id,
                    s,
                    subtask,
                    if finished { 100 } else { 0 },
                    created + 10_000 * s as i64,
                    if finished { (created + 10_000 * (s as i64 + 1)).to_string() } else { "\\N".into() },
                    rng.gen_range(0.0..1000.0f64),
                    "REPLICATE",
                    "\\N"
                );
            }
            for c in 0..2 {
                row!(
                    b.special_configs,
                    next(),
                    domain,
                    task_id,
                    c,
                    CONFIG_KEYS[(i + c) % CONFIG_KEYS.len()],
                    format!("/var/tmp/{c}"),
                    "\\N"
                );
            }
        }
        b
    }

    async fn copy(&self, conn: &mut PgConnection) -> anyhow::Result<()> {
        let tables: [(&str, &String); 11] = [
            ("servers (id, domain_id, role, task_id, name, hostname, ip, os_type, os_version, state, connected, add_date)", &self.sources),
            (
                "tasks (id, domain_id, source_server_id, name, type, os_type, state, priority, speed_limit, start_target_server,
                 migration_ip, region_name, region_id, project_name, project_id, enterprise_project_id, use_public_ip, use_ipv6,
                 syncing, over_speed_threshold, connected, create_date, start_date, migrate_speed, total_time,
                 log_collect_status, subtask_info)",
                &self.tasks,
            ),
            ("servers (id, domain_id, role, task_id, name, vm_id, os_type, os_version, connected, add_date)", &self.targets),
            ("disks (id, domain_id, server_id, position, name, disk_id, device_use, partition_style, size, used_size, os_disk, disk_index)", &self.disks),
            (
                "physical_volumes (id, domain_id, disk_row_id, position, device_use, file_system, \"index\", mount_point, name,
                 size, used_size, free_size, uuid)",
                &self.physical_volumes,
            ),
            ("volume_groups (id, domain_id, server_id, position, name, components, size, free_size)", &self.volume_groups),
            (
                "logical_volumes (id, domain_id, volume_group_id, position, name, block_count, block_size, file_system,
                 inode_size, device_use, mount_point, size, used_size, free_size)",
                &self.logical_volumes,
            ),
            (
                "btrfs_filesystems (id, domain_id, server_id, position, name, label, uuid, device, size, nodesize, sectorsize,
                 data_profile, system_profile, metadata_profile, global_reserve1, g_vol_used_size, default_subvolid,
                 default_subvol_name, default_subvol_mountpath)",
                &self.btrfs,
            ),
            ("btrfs_subvolumes (id, domain_id, filesystem_id, position, uuid, is_snapshot, subvol_id, parent_id, subvol_name, subvol_mount_path)", &self.subvolumes),
            ("subtasks (id, domain_id, task_id, position, name, progress, start_date, end_date, migrate_speed, user_op, process_trace)", &self.subtasks),
            ("special_configs (id, domain_id, task_id, position, config_key, config_value, config_status)", &self.special_configs),
        ];
        for (target, data) in tables {
            let mut copy = conn.copy_in_raw(&format!("COPY {target} FROM STDIN")).await?;
            copy.send(data.as_bytes()).await?;
            copy.finish().await?;
        }
        Ok(())
    }
}
