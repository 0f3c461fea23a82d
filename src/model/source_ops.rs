//! The source-server operations beyond registration (`api-decisions.md`, "Other task and
//! source operations"): the commands of `PUT /v3/sources/{id}` (`PutSourceServerBody`),
//! `PUT /v3/sources/{id}/changestate` (`PutCopyStateReq`) and `PUT /v3/sources/{id}/diskinfo`
//! (`PutDiskInfoReq`), the per-node migration settings they carry, and the views of
//! `GET /v3/sources/overview` (`ShowOverviewResponse`) and `GET /v3/errors`
//! (`ListErrorServersResponse`).

use std::collections::{HashMap, HashSet};

use serde::de::{Error as _, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

use super::enums::{MigrationCycle, SourceState};
use super::tree::{BtrfsInput, DiskInput, TreeInput, TreeRules, VolumeGroupInput};
use super::values::{not_null, NonNegative, Text255, UnknownValue};
use crate::error::ApiError;
use crate::parse::Command;
use crate::parse::{Checked, JsonPath};

/// The most elements a collection of these bodies may hold (as on the registration page).
const MAX_ELEMENTS: usize = 65535;

/// The id of a disk, volume, group or logical volume as `PutSourceServerBody` names it: the
/// SDK types it as a string (`"123"`); a JSON number is taken too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NodeRef(pub i64);

crate::openapi::custom_schema!(
    NodeRef,
    OneOfBuilder::new().item(ObjectBuilder::new().schema_type(Type::String).pattern(Some("^[1-9][0-9]{0,18}$"))).item(
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(1))
    )
);

impl<'de> Deserialize<'de> for NodeRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<NodeRef, D::Error> {
        struct Id;
        const RULE: &str = "a positive integer id, as a string or a number";
        impl Visitor<'_> for Id {
            type Value = NodeRef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(RULE)
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<NodeRef, E> {
                if v > 0 {
                    return Ok(NodeRef(v));
                }
                Err(E::custom(format_args!("must be {RULE}, found {v}")))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<NodeRef, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom(format_args!("must be {RULE}, found {v}")))
                    .and_then(|v| self.visit_i64(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<NodeRef, E> {
                match v.parse::<i64>() {
                    Ok(id) if id > 0 && !v.starts_with('+') => Ok(NodeRef(id)),
                    _ => Err(E::custom(format_args!("must be {RULE}, found {v:?}"))),
                }
            }
        }
        deserializer.deserialize_any(Id)
    }
}

/// `PutVolume` / `PutLogicalVolume`: a volume's migration settings.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PutVolume {
    pub id: NodeRef,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub need_migration: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub adjust_size: Option<NonNegative>,
}

/// `PutDisk`: a disk's migration settings and those of its physical volumes.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PutDisk {
    pub id: NodeRef,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub need_migration: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub adjust_size: Option<NonNegative>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub physical_volumes: Option<Vec<PutVolume>>,
}

/// `PutVolumeGroups`: a volume group's migration settings and those of its logical volumes.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct PutVolumeGroup {
    pub id: NodeRef,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub need_migration: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub adjust_size: Option<NonNegative>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub logical_volumes: Option<Vec<PutVolume>>,
}

/// `PUT /v3/sources/{id}` (`PutSourceServerBody`): a new name, a migration project, and the
/// migration settings of the source's own disks, volumes and groups (named by id). An absent
/// field, or an absent setting of a named node, is unchanged.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct SourceUpdate {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub name: Option<Text255>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub migprojectid: Option<Text255>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub disks: Option<Vec<PutDisk>>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub volume_groups: Option<Vec<PutVolumeGroup>>,
}

impl Command for SourceUpdate {
    fn check(&mut self) -> Checked {
        let root = JsonPath::root();
        root.max_items("disks", self.disks.as_ref().map_or(0, Vec::len), MAX_ELEMENTS)?;
        root.max_items("volume_groups", self.volume_groups.as_ref().map_or(0, Vec::len), MAX_ELEMENTS)?;
        for (i, disk) in self.disks.iter().flatten().enumerate() {
            let len = disk.physical_volumes.as_ref().map_or(0, Vec::len);
            root.field("disks").index(i).max_items("physical_volumes", len, MAX_ELEMENTS)?;
        }
        for (i, group) in self.volume_groups.iter().flatten().enumerate() {
            let len = group.logical_volumes.as_ref().map_or(0, Vec::len);
            root.field("volume_groups").index(i).max_items("logical_volumes", len, MAX_ELEMENTS)?;
        }
        Ok(())
    }
}

impl SourceUpdate {
    /// The migration project the body names (the empty string names none).
    pub fn project(&self) -> Option<&str> {
        self.migprojectid.as_deref().filter(|id| !id.is_empty())
    }

    /// Whether the body names any disk or volume group.
    pub fn names_nodes(&self) -> bool {
        self.disks.is_some() || self.volume_groups.is_some()
    }

    /// The settings to store, once every id is checked against the source's own `nodes`:
    /// a disk or group of the source, a volume of that disk, a logical volume of that group.
    /// An id that names anything else is refused at its JSON path.
    pub fn settings(&self, nodes: &SourceNodes) -> Result<NodeSettings, ApiError> {
        let root = JsonPath::root();
        let mut settings = NodeSettings::default();
        for (i, disk) in self.disks.iter().flatten().enumerate() {
            let path = root.field("disks").index(i);
            if !nodes.disks.contains(&disk.id.0) {
                return Err(unknown(&path, "a disk of the source server", disk.id));
            }
            settings.disks.push(NodeSetting::of(disk.id, disk.need_migration, disk.adjust_size));
            for (j, volume) in disk.physical_volumes.iter().flatten().enumerate() {
                if nodes.physical_volumes.get(&volume.id.0) != Some(&disk.id.0) {
                    let what = format!("a physical volume of disk {}", disk.id.0);
                    return Err(unknown(&path.field("physical_volumes").index(j), &what, volume.id));
                }
                settings.physical_volumes.push(NodeSetting::of(volume.id, volume.need_migration, volume.adjust_size));
            }
        }
        for (i, group) in self.volume_groups.iter().flatten().enumerate() {
            let path = root.field("volume_groups").index(i);
            if !nodes.volume_groups.contains(&group.id.0) {
                return Err(unknown(&path, "a volume group of the source server", group.id));
            }
            settings.volume_groups.push(NodeSetting::of(group.id, group.need_migration, group.adjust_size));
            for (j, volume) in group.logical_volumes.iter().flatten().enumerate() {
                if nodes.logical_volumes.get(&volume.id.0) != Some(&group.id.0) {
                    let what = format!("a logical volume of volume group {}", group.id.0);
                    return Err(unknown(&path.field("logical_volumes").index(j), &what, volume.id));
                }
                settings.logical_volumes.push(NodeSetting::of(volume.id, volume.need_migration, volume.adjust_size));
            }
        }
        Ok(settings)
    }
}

fn unknown(path: &JsonPath, what: &str, id: NodeRef) -> ApiError {
    path.invalid("id", format_args!("must name {what}, found {}", id.0))
}

/// The ids of a source server's disks, physical volumes (→ their disk), volume groups and
/// logical volumes (→ their group).
#[derive(Debug, Clone, Default)]
pub struct SourceNodes {
    pub disks: HashSet<i64>,
    pub physical_volumes: HashMap<i64, i64>,
    pub volume_groups: HashSet<i64>,
    pub logical_volumes: HashMap<i64, i64>,
}

/// The migration settings of one node; `None` leaves a setting as it is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NodeSetting {
    pub id: i64,
    pub need_migration: Option<bool>,
    pub adjust_size: Option<i64>,
}

impl NodeSetting {
    fn of(id: NodeRef, need_migration: Option<bool>, adjust_size: Option<NonNegative>) -> NodeSetting {
        NodeSetting { id: id.0, need_migration, adjust_size: adjust_size.map(NonNegative::get) }
    }
}

/// The settings of one update, per table.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NodeSettings {
    pub disks: Vec<NodeSetting>,
    pub physical_volumes: Vec<NodeSetting>,
    pub volume_groups: Vec<NodeSetting>,
    pub logical_volumes: Vec<NodeSetting>,
}

/// A source state as `PutCopyStateReq.copystate` sends it: in either case, with `init` for
/// `initialize` (the SDK's list says `init`, other pages `initialize` or upper case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyState(pub SourceState);

impl CopyState {
    pub fn parse(text: &str) -> Result<CopyState, String> {
        let lower = text.to_ascii_lowercase();
        let word = if lower == "init" { "initialize" } else { lower.as_str() };
        word.parse().map(CopyState).map_err(|e: UnknownValue| {
            format!("must be one of {} (in either case; init for initialize), found {text:?}", e.allowed.join(", "))
        })
    }
}

crate::openapi::custom_schema!(
    CopyState,
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("A source state (`SourceState`) in either case; `init` for `initialize`."))
        .enum_values(Some(SourceState::ALL.iter().map(|s| s.as_str()).chain(["init"])))
);

impl<'de> Deserialize<'de> for CopyState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<CopyState, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        CopyState::parse(&text).map_err(D::Error::custom)
    }
}

/// `PUT /v3/sources/{id}/changestate` (`PutCopyStateReq`): the source's new state and, when
/// sent, its migration cycle.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CopyStateChange {
    pub copystate: CopyState,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub migrationcycle: Option<MigrationCycle>,
}

impl Command for CopyStateChange {
    fn check(&mut self) -> Checked {
        Ok(())
    }
}

/// `PUT /v3/sources/{id}/diskinfo` (`PutDiskInfoReq`): the source's new disks, volume groups
/// (the key is `volumegroups`) and Btrfs list. The body replaces all three: a collection it
/// does not carry (or carries as `null`) becomes empty.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DiskInfo {
    #[serde(default)]
    pub disks: Option<Vec<DiskInput>>,
    #[serde(default)]
    pub volumegroups: Option<Vec<VolumeGroupInput>>,
    #[serde(default)]
    pub btrfs_list: Option<Vec<BtrfsInput>>,
}

impl DiskInfo {
    /// The three collections, each replaced; the networks are left alone.
    pub fn tree(&self) -> TreeInput<'_> {
        TreeInput {
            disks: Some(self.disks.as_deref().unwrap_or_default()),
            volume_groups: Some(self.volumegroups.as_deref().unwrap_or_default()),
            btrfs_list: Some(self.btrfs_list.as_deref().unwrap_or_default()),
            networks: None,
        }
    }
}

impl Command for DiskInfo {
    /// The source tree's rules, as on registration. The tree's checks name volume groups
    /// `volume_groups`; this body's key is `volumegroups`, so their paths are renamed.
    fn check(&mut self) -> Checked {
        let root = JsonPath::root();
        let tree = self.tree();
        TreeInput { volume_groups: None, ..tree }.check(&root, TreeRules::Source)?;
        TreeInput { volume_groups: tree.volume_groups, ..TreeInput::default() }.check(&root, TreeRules::Source).map_err(
            |err| match err {
                ApiError::Invalid(message) => match message.strip_prefix("volume_groups") {
                    Some(rest) => ApiError::Invalid(format!("volumegroups{rest}")),
                    None => ApiError::Invalid(message),
                },
                other => other,
            },
        )
    }
}

/// `GET /v3/sources/overview` (`ShowOverviewResponse`): how many of the domain's source
/// servers are in each state, and how many have no target configured yet (no task).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Overview {
    pub waiting: i64,
    pub replicate: i64,
    pub syncing: i64,
    pub stopped: i64,
    pub deleting: i64,
    pub cutovering: i64,
    pub unavailable: i64,
    pub stopping: i64,
    pub skipping: i64,
    pub finished: i64,
    pub initialize: i64,
    pub error: i64,
    pub cloning: i64,
    pub unconfigured: i64,
}

impl Overview {
    /// From the source counts per state: (state, sources, sources without a task). A state the
    /// response has no counter for (`premigready`, `clearing`, …) adds to no state counter.
    pub fn from_counts(counts: impl IntoIterator<Item = (Option<SourceState>, i64, i64)>) -> Overview {
        let mut o = Overview::default();
        for (state, n, without_task) in counts {
            o.unconfigured += without_task;
            let counter = match state {
                Some(SourceState::Waiting) => &mut o.waiting,
                Some(SourceState::Replicate) => &mut o.replicate,
                Some(SourceState::Syncing) => &mut o.syncing,
                Some(SourceState::Stopped) => &mut o.stopped,
                Some(SourceState::Deleting) => &mut o.deleting,
                Some(SourceState::Cutovering) => &mut o.cutovering,
                Some(SourceState::Unavailable) => &mut o.unavailable,
                Some(SourceState::Stopping) => &mut o.stopping,
                Some(SourceState::Skipping) => &mut o.skipping,
                Some(SourceState::Finished) => &mut o.finished,
                Some(SourceState::Initialize) => &mut o.initialize,
                Some(SourceState::Error) => &mut o.error,
                Some(SourceState::Cloning) => &mut o.cloning,
                _ => continue,
            };
            *counter += n;
        }
        o
    }
}

/// An element of `GET /v3/errors` (`MigrationErrors`): a source whose task failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MigrationErrorView {
    pub error_json: Option<String>,
    pub host_name: Option<String>,
    pub name: Option<String>,
    pub source_id: Uuid,
    pub source_ip: Option<String>,
    pub target_ip: Option<String>,
}

/// `GET /v3/errors` (`ListErrorServersResponse`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MigrationErrorPage {
    pub count: i64,
    pub migration_errors: Vec<MigrationErrorView>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::parse::parse;

    fn refusal<T: Command + std::fmt::Debug>(body: serde_json::Value) -> String {
        parse::<T>(body).unwrap_err().to_string()
    }

    #[test]
    fn node_ids_are_strings_or_numbers() {
        let update: SourceUpdate =
            parse(json!({ "disks": [{ "id": "12", "physical_volumes": [{ "id": 13 }] }] })).unwrap();
        let disk = &update.disks.unwrap()[0];
        assert_eq!((disk.id, disk.physical_volumes.as_ref().unwrap()[0].id), (NodeRef(12), NodeRef(13)));
        assert!(refusal::<SourceUpdate>(json!({ "disks": [{ "id": "x" }] })).starts_with("disks[0].id: must be"));
        assert!(refusal::<SourceUpdate>(json!({ "disks": [{ "id": 0 }] })).starts_with("disks[0].id: must be"));
        assert_eq!(refusal::<SourceUpdate>(json!({ "disks": [{}] })), "disks[0].id: is mandatory");
        let bad_size = refusal::<SourceUpdate>(json!({ "volume_groups": [{ "id": "1", "adjust_size": -1 }] }));
        assert!(bad_size.starts_with("volume_groups[0].adjust_size: must be between 0"), "{bad_size}");
        assert!(refusal::<SourceUpdate>(json!({ "name": "x".repeat(256) })).starts_with("name: must be 0 to 255"));
    }

    fn nodes() -> SourceNodes {
        SourceNodes {
            disks: [1, 2].into(),
            physical_volumes: [(10, 1), (20, 2)].into(),
            volume_groups: [3].into(),
            logical_volumes: [(30, 3)].into(),
        }
    }

    #[test]
    fn ids_must_name_the_sources_own_nodes_below_their_parent() {
        let update: SourceUpdate = parse(json!({
            "disks": [{ "id": "1", "need_migration": false, "physical_volumes": [{ "id": "10", "adjust_size": 5 }] }],
            "volume_groups": [{ "id": "3", "logical_volumes": [{ "id": "30", "need_migration": false }] }]
        }))
        .unwrap();
        let settings = update.settings(&nodes()).unwrap();
        assert_eq!(settings.disks, [NodeSetting { id: 1, need_migration: Some(false), adjust_size: None }]);
        assert_eq!(settings.physical_volumes, [NodeSetting { id: 10, need_migration: None, adjust_size: Some(5) }]);
        assert_eq!(settings.logical_volumes[0].need_migration, Some(false));

        let wrong_parent: SourceUpdate =
            parse(json!({ "disks": [{ "id": "1" }, { "id": "2", "physical_volumes": [{ "id": "10" }] }] })).unwrap();
        let err = wrong_parent.settings(&nodes()).unwrap_err().to_string();
        assert_eq!(err, "disks[1].physical_volumes[0].id: must name a physical volume of disk 2, found 10");
        let foreign: SourceUpdate = parse(json!({ "volume_groups": [{ "id": 99 }] })).unwrap();
        assert!(foreign.settings(&nodes()).unwrap_err().to_string().starts_with("volume_groups[0].id: must name"));
    }

    #[test]
    fn copy_states_in_either_case_and_init() {
        assert_eq!(CopyState::parse("init"), Ok(CopyState(SourceState::Initialize)));
        assert_eq!(CopyState::parse("INITIALIZE"), Ok(CopyState(SourceState::Initialize)));
        assert_eq!(CopyState::parse("Premiging"), Ok(CopyState(SourceState::Premiging)));
        assert!(CopyState::parse("bogus")
            .unwrap_err()
            .ends_with("(in either case; init for initialize), found \"bogus\""));
        assert_eq!(refusal::<CopyStateChange>(json!({})), "copystate: is mandatory");
        let cycle = refusal::<CopyStateChange>(json!({ "copystate": "waiting", "migrationcycle": "SYNCING" }));
        assert!(cycle.starts_with("migrationcycle: must be one of"), "{cycle}");
    }

    #[test]
    fn disk_info_paths_name_volumegroups() {
        let err = refusal::<DiskInfo>(json!({ "volumegroups": [{ "logical_volumes": [{}] }] }));
        assert_eq!(err, "volumegroups[0].logical_volumes[0].file_system: is mandatory");
        assert_eq!(refusal::<DiskInfo>(json!({ "disks": [{}] })), "disks[0].name: is mandatory");
        let info: DiskInfo = parse(json!({})).unwrap();
        assert!(info.tree().disks.is_some_and(<[_]>::is_empty) && info.tree().networks.is_none());
    }

    #[test]
    fn overview_counts_states_and_sources_without_tasks() {
        let o = Overview::from_counts([
            (Some(SourceState::Waiting), 3, 2),
            (Some(SourceState::Error), 1, 0),
            (Some(SourceState::Premigready), 4, 1),
            (None, 1, 1),
        ]);
        assert_eq!((o.waiting, o.error, o.unconfigured, o.replicate), (3, 1, 4, 0));
        let keys = serde_json::to_value(&o).unwrap().as_object().unwrap().len();
        assert_eq!(keys, 14);
    }
}
