//! Servers: registered source servers and task target servers (one table, `role`). Their
//! attributes ([`Server`]), a server as sent ([`ServerInput`], [`ServerPatch`]), the rules of
//! the pages that send one, and the stored row.

use serde::{Deserialize, Serialize};

use super::columns::attributes;
use uuid::Uuid;

use super::domain::DomainId;
use super::enums::{BootLoader, Firmware, MigrationCycle, OsType, Platform, ServerRole, SourceState, StartType};
use super::task_list::SourceServerAssociatedView;
use super::tree::node::{members, Node};
use super::tree::{BtrfsInput, DiskInput, NetworkInput, TreeInput, TreeRules, VolumeGroupInput};
use super::values::{nullable, Int32, NonNegative, Patch, Speed, Text, Text255};
use crate::parse::Command;
use crate::parse::{Checked, JsonPath};
use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

attributes! {
    /// The attributes of a server that the API sends and serves under the same names:
    /// `PostSourceServerBody` (page 004 table 4 and the SDK), `TargetServer` (page 004 table 7)
    /// and `TargetServerByTask` (page 003) together.
    #[derive(Default)]
    pub struct Server {
        pub ip: Option<Text255>,
        pub ipv6: Option<Text255>,
        pub name: Option<Text255>,
        pub hostname: Option<Text255>,
        pub os_type: Option<OsType>,
        pub os_version: Option<Text255>,
        pub virtualization_type: Option<Text255>,
        pub linux_block_check: Option<Text255>,
        pub firmware: Option<Firmware>,
        pub cpu_quantity: Option<Int32<0, 65535>>,
        pub memory: Option<NonNegative>,
        /// The domain the agent reports: an attribute, not the tenant.
        pub domain_id: Option<Text255> => "reported_domain_id",
        pub has_rsync: Option<bool>,
        pub paravirtualization: Option<bool>,
        pub raw_devices: Option<Text255>,
        pub driver_files: Option<bool>,
        pub system_services: Option<bool>,
        pub account_rights: Option<bool>,
        pub boot_loader: Option<BootLoader>,
        pub system_dir: Option<Text255>,
        pub agent_version: Option<Text255>,
        pub kernel_version: Option<Text255>,
        pub migration_cycle: Option<MigrationCycle>,
        pub state: Option<SourceState>,
        pub oem_system: Option<bool>,
        pub start_type: Option<StartType>,
        pub io_read_wait: Option<Speed>,
        pub has_tc: Option<bool>,
        pub platform: Option<Platform>,
        pub vm_id: Option<Text255>,
        pub flavor: Option<Text255>,
        pub image_disk_id: Option<Text255>,
        pub snapshot_ids: Option<Text255>,
        pub cutovered_snapshot_ids: Option<Text255>,
    }
}

members!(
    /// A server's members besides its attributes: the id it may carry (kept as sent, never
    /// used: ids are ours) and its tree.
    ServerMembers {
        id: Option<Text255>,
        disks: Option<Vec<DiskInput>>,
        volume_groups: Option<Vec<VolumeGroupInput>>,
        btrfs_list: Option<Vec<BtrfsInput>>,
        networks: Option<Vec<NetworkInput>>,
    }
);

/// A whole server as sent: attributes and tree.
pub type ServerInput = Node<Server, ServerMembers>;

impl ServerInput {
    pub fn tree(&self) -> TreeInput<'_> {
        let m = &self.members;
        TreeInput {
            disks: m.disks.as_deref(),
            volume_groups: m.volume_groups.as_deref(),
            btrfs_list: m.btrfs_list.as_deref(),
            networks: m.networks.as_deref(),
        }
    }

    /// `POST /v3/sources`: `name` 1–64 characters and `os_type` mandatory, `hostname` 1–64,
    /// `ip` or `ipv6` required, and the source tree's rules.
    pub fn check_registration(&self, path: &JsonPath) -> Checked {
        let s = &self.attrs;
        let name = path.required("name", &s.name)?;
        HostName::parse(name.to_string()).map_err(|rule| path.invalid("name", rule))?;
        if let Some(hostname) = &s.hostname {
            HostName::parse(hostname.to_string()).map_err(|rule| path.invalid("hostname", rule))?;
        }
        path.required("os_type", &s.os_type)?;
        if s.ip.is_none() && s.ipv6.is_none() {
            return Err(path.invalid("ip", "either ip or ipv6 is mandatory"));
        }
        self.tree().check(path, TreeRules::Source)
    }

    /// `target_server` of `POST /v3/tasks` (`TargetServerByTask`): `name` and `vm_id`
    /// mandatory unless the target is made from a template, and the create page's tree rules.
    pub fn check_create_target(&self, path: &JsonPath, from_template: bool) -> Checked {
        if !from_template {
            path.required("name", &self.attrs.name)?;
            path.required("vm_id", &self.attrs.vm_id)?;
        }
        self.tree().check(path, TreeRules::CreateTarget)
    }
}

/// The `name` and `hostname` of a source server being registered.
pub type HostName = Text<1, 64>;

/// `POST /v3/sources`: a source server to register.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct NewSource(pub ServerInput);

/// In the OpenAPI document: a `ServerInput` held to the registration page's rules on the server
/// itself (those of `check_registration`, whose lengths come from [`HostName`]); the rules of
/// its tree are in the operation's description of 400 `SMS.8001`.
impl utoipa::PartialSchema for NewSource {
    fn schema() -> RefOr<Schema> {
        let ip_or_ipv6 = |field: &str| ObjectBuilder::new().required(field).property(field, Text255::schema());
        AllOfBuilder::new()
            .item(Ref::from_schema_name(ServerInput::name()))
            .item(
                ObjectBuilder::new()
                    .required("name")
                    .required("os_type")
                    .property("name", HostName::schema())
                    .property("os_type", OsType::schema())
                    .property("hostname", nullable(HostName::schema())),
            )
            .item(AnyOfBuilder::new().item(ip_or_ipv6("ip")).item(ip_or_ipv6("ipv6")))
            .description(Some("A source server to register: `name` and `os_type` mandatory, `ip` or `ipv6`."))
            .into()
    }
}

impl ToSchema for NewSource {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ServerInput::name().into_owned(), ServerInput::schema()));
        ServerInput::schemas(schemas);
    }
}

impl Command for NewSource {
    fn check(&mut self) -> Checked {
        self.0.check_registration(&JsonPath::root())
    }
}

/// A server in a partial update (`source_server` or `target_server` of `PUT /v3/tasks`):
/// each attribute absent (unchanged), `null` (cleared) or a new value; a collection present
/// replaces the server's (`null` empties it). Each field, not the struct, says
/// `#[serde(default)]`, so that the OpenAPI document gives a left-out field no default value.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct ServerPatch {
    #[serde(default)]
    pub id: Patch<Text255>,
    #[serde(default)]
    pub ip: Patch<Text255>,
    #[serde(default)]
    pub ipv6: Patch<Text255>,
    #[serde(default)]
    pub name: Patch<Text255>,
    #[serde(default)]
    pub hostname: Patch<Text255>,
    #[serde(default)]
    pub os_type: Patch<OsType>,
    #[serde(default)]
    pub os_version: Patch<Text255>,
    #[serde(default)]
    pub virtualization_type: Patch<Text255>,
    #[serde(default)]
    pub linux_block_check: Patch<Text255>,
    #[serde(default)]
    pub firmware: Patch<Firmware>,
    #[serde(default)]
    pub cpu_quantity: Patch<Int32<0, 65535>>,
    #[serde(default)]
    pub memory: Patch<NonNegative>,
    #[serde(default)]
    pub domain_id: Patch<Text255>,
    #[serde(default)]
    pub has_rsync: Patch<bool>,
    #[serde(default)]
    pub paravirtualization: Patch<bool>,
    #[serde(default)]
    pub raw_devices: Patch<Text255>,
    #[serde(default)]
    pub driver_files: Patch<bool>,
    #[serde(default)]
    pub system_services: Patch<bool>,
    #[serde(default)]
    pub account_rights: Patch<bool>,
    #[serde(default)]
    pub boot_loader: Patch<BootLoader>,
    #[serde(default)]
    pub system_dir: Patch<Text255>,
    #[serde(default)]
    pub agent_version: Patch<Text255>,
    #[serde(default)]
    pub kernel_version: Patch<Text255>,
    #[serde(default)]
    pub migration_cycle: Patch<MigrationCycle>,
    #[serde(default)]
    pub state: Patch<SourceState>,
    #[serde(default)]
    pub oem_system: Patch<bool>,
    #[serde(default)]
    pub start_type: Patch<StartType>,
    #[serde(default)]
    pub io_read_wait: Patch<Speed>,
    #[serde(default)]
    pub has_tc: Patch<bool>,
    #[serde(default)]
    pub platform: Patch<Platform>,
    #[serde(default)]
    pub vm_id: Patch<Text255>,
    #[serde(default)]
    pub flavor: Patch<Text255>,
    #[serde(default)]
    pub image_disk_id: Patch<Text255>,
    #[serde(default)]
    pub snapshot_ids: Patch<Text255>,
    #[serde(default)]
    pub cutovered_snapshot_ids: Patch<Text255>,
    #[serde(default)]
    pub disks: Patch<Vec<DiskInput>>,
    #[serde(default)]
    pub volume_groups: Patch<Vec<VolumeGroupInput>>,
    #[serde(default)]
    pub btrfs_list: Patch<Vec<BtrfsInput>>,
    #[serde(default)]
    pub networks: Patch<Vec<NetworkInput>>,
}

impl ServerPatch {
    /// The collections the patch replaces (`null` replaces with nothing).
    pub fn tree(&self) -> TreeInput<'_> {
        fn sent<T>(patch: &Patch<Vec<T>>) -> Option<&[T]> {
            match patch {
                Patch::Absent => None,
                Patch::Null => Some(&[]),
                Patch::Value(items) => Some(items),
            }
        }
        TreeInput {
            disks: sent(&self.disks),
            volume_groups: sent(&self.volume_groups),
            btrfs_list: sent(&self.btrfs_list),
            networks: sent(&self.networks),
        }
    }

    /// `source_server` of an update: page 004's source tree rules.
    pub fn check_source(&self, path: &JsonPath) -> Checked {
        self.tree().check(path, TreeRules::Source)
    }

    /// `target_server` of an update in the OpenAPI document: a `ServerPatch` whose `os_type`
    /// and `disks` are mandatory and not `null` (the rule of [`ServerPatch::check_target`]).
    pub fn target_schema() -> Schema {
        AllOfBuilder::new()
            .item(Ref::from_schema_name(ServerPatch::name()))
            .item(
                ObjectBuilder::new()
                    .required("os_type")
                    .required("disks")
                    .property("os_type", OsType::schema())
                    .property(
                        "disks",
                        utoipa::openapi::ArrayBuilder::new().items(Ref::from_schema_name(DiskInput::name())),
                    ),
            )
            .build()
            .into()
    }

    /// `target_server` of an update. Page 004 table 7 marks `ip`, `os_type` and `disks`
    /// mandatory, yet the page's own example sends `"ip": null` and the SDK drops null
    /// fields, so `ip` may be absent; `os_type` and `disks` are required.
    pub fn check_target(&self, path: &JsonPath) -> Checked {
        if !matches!(self.os_type, Patch::Value(_)) {
            return Err(path.invalid("os_type", "is mandatory"));
        }
        if !matches!(self.disks, Patch::Value(_)) {
            return Err(path.invalid("disks", "is mandatory"));
        }
        self.tree().check(path, TreeRules::UpdateTarget)
    }
}

/// A `servers` row, column for column.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServerRow {
    pub id: Uuid,
    pub domain_id: DomainId,
    pub role: ServerRole,
    pub task_id: Option<Uuid>,
    pub enterprise_project_id: Option<String>,
    pub connected: bool,
    pub add_date: i64,
    #[sqlx(flatten)]
    pub attrs: Server,
}

impl ServerRow {
    /// A registered source server: connected, and `waiting` unless the body says otherwise.
    pub fn source(input: &ServerInput, id: Uuid, domain: &DomainId, now_ms: i64) -> ServerRow {
        let mut attrs = input.attrs.clone();
        attrs.state.get_or_insert(SourceState::Waiting);
        ServerRow::new(attrs, id, domain, ServerRole::Source, None, now_ms)
    }

    /// The target server of task `task_id`.
    pub fn target(input: &ServerInput, id: Uuid, domain: &DomainId, task_id: Uuid, now_ms: i64) -> ServerRow {
        ServerRow::new(input.attrs.clone(), id, domain, ServerRole::Target, Some(task_id), now_ms)
    }

    fn new(
        attrs: Server,
        id: Uuid,
        domain: &DomainId,
        role: ServerRole,
        task_id: Option<Uuid>,
        now_ms: i64,
    ) -> ServerRow {
        ServerRow {
            id,
            domain_id: domain.clone(),
            role,
            task_id,
            enterprise_project_id: None,
            connected: true,
            add_date: now_ms,
            attrs,
        }
    }
}

/// The brief source server of a task shown alone: `SourceServerResponse`, the list's
/// `SourceServerAssociatedWithTask` and the source's migration cycle.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SourceBriefView {
    #[serde(flatten)]
    pub source: SourceServerAssociatedView,
    pub migration_cycle: Option<MigrationCycle>,
}
