//! The optional side-by-side (`--peer postgraphile`): PostGraphile 4.14, the generic GraphQL
//! API a user could generate over the same schema instead of this service, started over the
//! same database and measured on the same work with the same load generator: one task with
//! the tree the show view serves, and a 200-task list page with its count and the parts the
//! list view serves.
//!
//! Only when asked: the benchmark then installs `postgraphile@4.14` from the npm registry
//! with `npm` into `target/peer-postgraphile` (once; later runs reuse it) and runs it with
//! `node`. Neither `cargo test` nor `--smoke` needs npm, node or the network.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use uuid::Uuid;

use crate::load::MakeRequest;
use crate::report::Measurement;
use crate::scenarios::{self, LIST_LIMIT, WRITE_CLIENTS};

/// The npm package, as the issue names it.
const PACKAGE: &str = "postgraphile@4.14";

/// The show view's fields of a task (`TaskView`, `TaskTargetServerView`), children in their
/// stored order. The target server is the task's one server by `servers.task_id`.
const SHOW_QUERY: &str = "query Show($id: UUID!) { taskById(id: $id) {
  id name type osType state priority speedLimit regionId regionName projectName projectId startTargetServer
  enterpriseProjectId migrationIp vmTemplateId estimateCompleteTime connected createDate startDate finishDate
  migrateSpeed compressRate errorJson totalTime floatIp remainSeconds targetSnapshotId totalCpuUsage agentCpuUsage
  totalMemUsage agentMemUsage totalDiskIo agentDiskIo needMigrationTest subtaskInfo usePublicIp useIpv6 syncing
  serverBySourceServerId { id ip name osType osVersion oemSystem state migrationCycle }
  serverByTaskId { id vmId name ip osType osVersion systemDir imageDiskId cutoveredSnapshotIds
    disksByServerId(orderBy: POSITION_ASC) { nodes { id deviceUse diskId name size usedSize diskIndex osDisk
      partitionStyle relationName
      physicalVolumesByDiskRowId(orderBy: POSITION_ASC) { nodes { id deviceUse fileSystem index mountPoint name
        size usedSize uuid relationName freeSize } } } }
    volumeGroupsByServerId(orderBy: POSITION_ASC) { nodes { id name components size freeSize
      logicalVolumesByVolumeGroupId(orderBy: POSITION_ASC) { nodes { id blockCount blockSize fileSystem inodeSize
        inodeNums deviceUse mountPoint name size usedSize freeSize } } } }
    btrfsFilesystemsByServerId(orderBy: POSITION_ASC) { nodes { id name label uuid device size nodesize sectorsize
      dataProfile systemProfile metadataProfile globalReserve1 gVolUsedSize defaultSubvolid defaultSubvolName
      defaultSubvolMountpath
      btrfsSubvolumesByFilesystemId(orderBy: POSITION_ASC) { nodes { uuid isSnapshot subvolId parentId subvolName
        subvolMountPath } } } } }
  taskCloneServerByTaskId { vmId name cloneError cloneState errorMsg }
  subtasksByTaskId(orderBy: POSITION_ASC) { nodes { id name progress startDate endDate migrateSpeed userOp
    processTrace } }
  taskNetworkCheckByTaskId { domainConnectivity destinationConnectivity networkDelay networkJitter migrationSpeed
    lossPercentage cpuUsage memUsage evaluationResult }
} }";

/// The list view's fields of a page (`TaskListItem`), newest first, with the exact count.
const LIST_QUERY: &str = "query List($domain: String!, $first: Int!) {
  allTasks(condition: { domainId: $domain }, orderBy: [CREATE_DATE_DESC, ID_DESC], first: $first) {
    totalCount
    nodes { id name type osType state estimateCompleteTime createDate priority speedLimit migrateSpeed compressRate
      startTargetServer errorJson totalTime migrationIp enterpriseProjectId logCollectStatus syncing totalCpuUsage
      agentCpuUsage totalMemUsage agentMemUsage totalDiskIo agentDiskIo needMigrationTest subtaskInfo usePublicIp
      subtasksByTaskId(orderBy: POSITION_ASC) { nodes { id name progress startDate endDate processTrace } }
      serverBySourceServerId { id ip name osType osVersion oemSystem state }
      serverByTaskId { id taskId vmId name ip osType osVersion }
      taskCloneServerByTaskId { taskId vmId name }
      taskNetworkCheckByTaskId { domainConnectivity destinationConnectivity networkDelay networkJitter
        migrationSpeed lossPercentage cpuUsage memUsage evaluationResult }
      specialConfigsByTaskId(orderBy: POSITION_ASC) { nodes { configKey configValue configStatus } }
    }
  }
}";

/// `node_modules` of the installed peer, installing it first when missing.
pub fn install() -> anyhow::Result<PathBuf> {
    let dir = crate::workspace_root().join("target/peer-postgraphile");
    let cli = dir.join("node_modules/postgraphile/cli.js");
    if cli.exists() {
        return Ok(cli);
    }
    std::fs::create_dir_all(&dir)?;
    eprintln!("bench: npm install {PACKAGE} into {}", dir.display());
    let status = std::process::Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--loglevel=error", "--prefix"])
        .arg(&dir)
        .arg(PACKAGE)
        .status()
        .context("cannot run npm (needed by --peer postgraphile)")?;
    if !status.success() || !cli.exists() {
        bail!("npm install {PACKAGE} failed ({status})");
    }
    Ok(cli)
}

/// A running PostGraphile.
pub struct Peer {
    child: Child,
    url: String,
    client: reqwest::Client,
}

impl Peer {
    /// Starts PostGraphile over `database_url` on a free port with as many worker processes as
    /// the service has HTTP workers (one per core) and the service's pool size (10) in all.
    pub async fn start(cli: &Path, database_url: &str, log: &Path) -> anyhow::Result<Peer> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
        let log_file = std::fs::File::create(log)?;
        let child = Command::new("node")
            .arg(cli)
            .args(["-c", database_url, "-s", "public", "-n", "127.0.0.1", "-p", &port.to_string()])
            .args(["--max-pool-size", &(10 / workers).max(1).to_string()])
            .args(["--cluster-workers", &workers.to_string()])
            .args(["--disable-graphiql", "--disable-query-log", "--disable-default-mutations"])
            .args(["--legacy-relations", "omit"])
            .env("NODE_ENV", "production")
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .context("cannot start PostGraphile with node")?;
        let client = crate::load::http_client()?;
        let mut peer = Peer { child, url: format!("http://127.0.0.1:{port}/graphql"), client };
        let started = Instant::now();
        loop {
            if let Some(status) = peer.child.try_wait()? {
                bail!("PostGraphile exited ({status}); its log is {}", log.display());
            }
            if peer.query("{ __typename }", json!({})).await.is_ok() {
                return Ok(peer);
            }
            if started.elapsed() > Duration::from_secs(120) {
                bail!("PostGraphile was not ready after 120 s; its log is {}", log.display());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn request(&self, query: &'static str, variables: Value) -> reqwest::RequestBuilder {
        self.client.post(&self.url).json(&json!({ "query": query, "variables": variables }))
    }

    /// One query; its `data`, which must come without `errors`.
    async fn query(&self, query: &'static str, variables: Value) -> anyhow::Result<Value> {
        let response = self.request(query, variables).send().await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() || body.get("errors").is_some() {
            bail!("PostGraphile answered {status}: {body}");
        }
        Ok(body["data"].clone())
    }

    pub async fn stop(mut self) {
        if let Some(pid) = self.child.id() {
            // SIGTERM lets the cluster master stop its workers.
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), nix::sys::signal::Signal::SIGTERM);
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await.is_err() {
            let _ = self.child.kill().await;
        }
    }
}

/// Show (the standard tree, on `ids` in turn) and the list page with no filter (whose count
/// must be `expected_count`), at 1 and 8 clients, each checked once.
pub async fn measure(
    peer: &Peer,
    domain: &str,
    ids: &[Uuid],
    expected_count: i64,
    duration: Duration,
) -> anyhow::Result<Vec<Measurement>> {
    let shown = peer.query(SHOW_QUERY, json!({ "id": ids[0].to_string() })).await.context("PostGraphile show")?;
    let disks = shown["taskById"]["serverByTaskId"]["disksByServerId"]["nodes"].as_array().map_or(0, Vec::len);
    let show_notes = format!("{disks} disks, {} bytes", shown.to_string().len());
    let page =
        peer.query(LIST_QUERY, json!({ "domain": domain, "first": LIST_LIMIT })).await.context("PostGraphile list")?;
    let count = page["allTasks"]["totalCount"].as_i64().unwrap_or(-1);
    let rows = page["allTasks"]["nodes"].as_array().map_or(0, Vec::len) as i64;
    let list_notes = format!("count {count}, {rows} rows");
    let wrong_show = disks != 2;
    let wrong_list = count != expected_count || rows != expected_count.min(LIST_LIMIT);

    let post = |bodies: Arc<Vec<String>>| -> MakeRequest {
        let (client, url) = (peer.client.clone(), peer.url.clone());
        Arc::new(move |n| {
            let body = bodies[n as usize % bodies.len()].clone();
            Some(client.post(&url).header(reqwest::header::CONTENT_TYPE, "application/json").body(body))
        })
    };
    let show_bodies = ids
        .iter()
        .map(|id| json!({ "query": SHOW_QUERY, "variables": { "id": id.to_string() } }).to_string())
        .collect();
    let list_body = json!({ "query": LIST_QUERY, "variables": { "domain": domain, "first": LIST_LIMIT } }).to_string();
    let works = [
        (PEER_SHOW, "standard tree", None, post(Arc::new(show_bodies)), show_notes, wrong_show),
        (PEER_LIST, "no filter", Some(0), post(Arc::new(vec![list_body])), list_notes, wrong_list),
    ];
    let mut out = Vec::new();
    for (op, scenario, offset, make, notes, wrong) in works {
        eprintln!("bench: PostGraphile: {op}");
        scenarios::measure(duration, &[1, WRITE_CLIENTS], make, |clients, mut stats| {
            stats.errors += u64::from(wrong);
            out.push(Measurement {
                op,
                scenario: scenario.into(),
                offset,
                clients,
                stats,
                notes: if wrong { format!("WRONG ANSWER: {notes}") } else { notes.clone() },
            });
        })
        .await?;
    }
    Ok(out)
}

/// The ops of the peer's measurements; the same scenarios as the service's `show` and `list`.
pub const PEER_SHOW: &str = "PostGraphile show";
pub const PEER_LIST: &str = "PostGraphile list";
