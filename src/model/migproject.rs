//! Migration projects (`/v3/migprojects`): a project's settings as stored, the create command
//! (`PostMigProjectBody`), the update command (`MigProject`, every field optional, tri-state
//! where a field may be cleared), the stored row, and the views of show
//! (`ShowMigprojectResponse`, which has no `id`) and of a list item (`MigprojectsResponseBody`).
//!
//! Ranges are the widest of the public pages' versions (name 1–255, region and description
//! 0–255, `speed_limit` 0–10000), so that nothing the public service accepts is refused here.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::columns::attributes;
use super::domain::DomainId;
use super::enums::TaskType;
use super::values::{not_null, Int32, Patch, Text, Text255};
use crate::parse::Checked;
use crate::parse::Command;

/// A project's name.
pub type ProjectName = Text<1, 255>;
/// A project's speed limit in Mbit/s; 0 is no limit.
pub type SpeedLimit = Int32<0, 10000>;

/// The name of the project that each domain gets on first need.
pub const DEFAULT_PROJECT_NAME: &str = "default";
/// The enterprise project of a project created without one (the create page's default).
pub const DEFAULT_ENTERPRISE_PROJECT: &str = "default";

attributes! {
    /// The settings of a migration project, stored and served under their API names.
    pub struct MigProjectSettings {
        pub name: ProjectName,
        pub description: Option<Text255>,
        pub region: Text255,
        pub start_target_server: bool,
        pub speed_limit: SpeedLimit,
        pub use_public_ip: bool,
        pub exist_server: bool,
        #[serde(rename = "type")]
        pub project_type: TaskType => "type",
        pub enterprise_project: Option<Text255>,
        pub syncing: bool,
        pub start_network_check: bool,
    }
}

impl MigProjectSettings {
    /// The settings of a domain's automatic default project: the create page's defaults,
    /// block-level, no region.
    pub fn automatic_default() -> MigProjectSettings {
        NewMigProject {
            name: ProjectName::parse(DEFAULT_PROJECT_NAME.into()).expect("a valid name"),
            region: Text255::parse(String::new()).expect("a valid region"),
            project_type: TaskType::MigrateBlock,
            description: None,
            isdefault: None,
            start_target_server: None,
            speed_limit: None,
            use_public_ip: None,
            exist_server: None,
            enterprise_project: None,
            syncing: None,
            start_network_check: None,
        }
        .settings()
    }
}

/// `POST /v3/migprojects` (`PostMigProjectBody`): `name`, `region` and `type` are mandatory;
/// an absent or `null` optional field takes the create page's default.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewMigProject {
    pub name: ProjectName,
    pub region: Text255,
    #[serde(rename = "type")]
    pub project_type: TaskType,
    pub description: Option<Text255>,
    /// `true`: the new project becomes the domain's default (the old one stops being it).
    pub isdefault: Option<bool>,
    pub start_target_server: Option<bool>,
    pub speed_limit: Option<SpeedLimit>,
    pub use_public_ip: Option<bool>,
    pub exist_server: Option<bool>,
    pub enterprise_project: Option<Text255>,
    pub syncing: Option<bool>,
    pub start_network_check: Option<bool>,
}

impl Command for NewMigProject {
    fn check(&mut self) -> Checked {
        Ok(())
    }
}

impl NewMigProject {
    /// The stored settings, defaults filled in (`start_target_server`, `use_public_ip` and
    /// `exist_server` true, `speed_limit` 0, `enterprise_project` "default", the rest false).
    pub fn settings(&self) -> MigProjectSettings {
        MigProjectSettings {
            name: self.name.clone(),
            description: self.description.clone(),
            region: self.region.clone(),
            start_target_server: self.start_target_server.unwrap_or(true),
            speed_limit: self.speed_limit.unwrap_or(SpeedLimit::LOWEST),
            use_public_ip: self.use_public_ip.unwrap_or(true),
            exist_server: self.exist_server.unwrap_or(true),
            project_type: self.project_type,
            enterprise_project: Some(self.enterprise_project.clone().unwrap_or_else(|| {
                Text255::parse(DEFAULT_ENTERPRISE_PROJECT.into()).expect("a valid enterprise project")
            })),
            syncing: self.syncing.unwrap_or(false),
            start_network_check: self.start_network_check.unwrap_or(false),
        }
    }
}

/// `PUT /v3/migprojects/{id}` (`MigProject`): an absent field is unchanged; `description` and
/// `enterprise_project` may be cleared with `null`; the other fields refuse `null`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct MigProjectPatch {
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub name: Option<ProjectName>,
    #[serde(default)]
    pub description: Patch<Text255>,
    /// `true` makes the project the domain's default; `false` is refused on the default
    /// project (another project becomes the default instead, with `PUT …/default`).
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub isdefault: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub region: Option<Text255>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub start_target_server: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub speed_limit: Option<SpeedLimit>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub use_public_ip: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub exist_server: Option<bool>,
    #[serde(default, rename = "type", deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub project_type: Option<TaskType>,
    #[serde(default)]
    pub enterprise_project: Patch<Text255>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub syncing: Option<bool>,
    #[serde(default, deserialize_with = "not_null")]
    #[schema(nullable = false)]
    pub start_network_check: Option<bool>,
}

impl Command for MigProjectPatch {
    fn check(&mut self) -> Checked {
        Ok(())
    }
}

/// A `migprojects` row, column for column.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MigProjectRow {
    pub id: Uuid,
    pub domain_id: DomainId,
    pub isdefault: bool,
    pub created_at: i64,
    #[sqlx(flatten)]
    pub settings: MigProjectSettings,
}

/// `GET /v3/migprojects/{id}` (`ShowMigprojectResponse`: the settings and `isdefault`, no
/// `id`, as the SDK's model and the pages have it).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MigProjectView<'a> {
    #[serde(flatten)]
    pub settings: &'a MigProjectSettings,
    pub isdefault: bool,
}

impl<'a> From<&'a MigProjectRow> for MigProjectView<'a> {
    fn from(row: &'a MigProjectRow) -> MigProjectView<'a> {
        MigProjectView { settings: &row.settings, isdefault: row.isdefault }
    }
}

/// An element of `GET /v3/migprojects` (`MigprojectsResponseBody`): the same, with `id`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MigProjectListItem<'a> {
    pub id: Uuid,
    #[serde(flatten)]
    pub project: MigProjectView<'a>,
}

impl<'a> From<&'a MigProjectRow> for MigProjectListItem<'a> {
    fn from(row: &'a MigProjectRow) -> MigProjectListItem<'a> {
        MigProjectListItem { id: row.id, project: MigProjectView::from(row) }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
        serde_json::from_value(value).map_err(|e| e.to_string())
    }

    #[test]
    fn a_create_fills_in_the_pages_defaults() {
        let body: NewMigProject =
            parse(json!({ "name": "p", "region": "cn-north-4", "type": "MIGRATE_FILE" })).unwrap();
        let s = body.settings();
        assert_eq!((s.start_target_server, s.use_public_ip, s.exist_server), (true, true, true));
        assert_eq!((s.speed_limit.get(), s.syncing, s.start_network_check), (0, false, false));
        assert_eq!(s.enterprise_project.as_deref(), Some("default"));
        assert_eq!((s.description, s.project_type), (None, TaskType::MigrateFile));
    }

    #[test]
    fn a_create_keeps_to_the_rules() {
        let base = json!({ "name": "p", "region": "r", "type": "MIGRATE_BLOCK" });
        let with = |key: &str, value: serde_json::Value| {
            let mut body = base.clone();
            body[key] = value;
            parse::<NewMigProject>(body)
        };
        assert!(with("type", json!("MIGRATE_DISK")).unwrap_err().contains("MIGRATE_FILE, MIGRATE_BLOCK"));
        assert!(with("name", json!("")).is_err());
        assert!(with("speed_limit", json!(10001)).is_err());
        assert!(with("speed_limit", json!(10000)).is_ok());
        assert!(with("isdefault", json!("yes")).is_err());
        assert!(parse::<NewMigProject>(json!({ "name": "p", "type": "MIGRATE_BLOCK" })).is_err());
    }

    #[test]
    fn an_update_tells_absent_null_and_value_apart() {
        let empty: MigProjectPatch = parse(json!({})).unwrap();
        assert!(empty.name.is_none() && empty.description.is_absent() && empty.isdefault.is_none());
        let cleared: MigProjectPatch = parse(json!({ "description": null, "enterprise_project": null })).unwrap();
        assert_eq!((cleared.description, cleared.enterprise_project), (Patch::Null, Patch::Null));
        assert!(parse::<MigProjectPatch>(json!({ "name": null })).unwrap_err().starts_with("cannot be null"));
        assert!(parse::<MigProjectPatch>(json!({ "type": "X" })).is_err());
    }

    #[test]
    fn show_has_no_id_and_a_list_item_has_one() {
        let body: NewMigProject = parse(json!({ "name": "p", "region": "r", "type": "MIGRATE_BLOCK" })).unwrap();
        let row = MigProjectRow {
            id: Uuid::nil(),
            domain_id: DomainId("d".into()),
            isdefault: true,
            created_at: 0,
            settings: body.settings(),
        };
        let shown = serde_json::to_value(MigProjectView::from(&row)).unwrap();
        assert_eq!(shown.get("id"), None);
        assert_eq!(
            (&shown["type"], &shown["isdefault"], &shown["description"]),
            (&json!("MIGRATE_BLOCK"), &json!(true), &json!(null))
        );
        assert_eq!(shown.as_object().unwrap().len(), 12);
        let item = serde_json::to_value(MigProjectListItem::from(&row)).unwrap();
        assert_eq!(item["id"], json!(Uuid::nil()));
        assert_eq!(item.as_object().unwrap().len(), 13);
    }
}
