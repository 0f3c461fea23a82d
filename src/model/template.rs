//! Server templates (`/v3/vm/templates`): what a `TemplateRequest` may say (its scalar
//! attributes, its VPC, NICs, security groups, public IP and disks, each with its rules), the
//! command of a create or update, and the template as served (`TemplateResponseBody`).
//!
//! Each object's attributes are one struct that is read from the request, stored under the
//! same names (`migrations/V9__templates.sql`) and served back. `is_template` is a boolean in
//! requests and in the store, and the string `"true"`/`"false"` in responses
//! (api-decisions.md, "Templates and migration projects").

use std::collections::HashMap;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use super::columns::attributes;
use super::tree::node::{members, Node};
use super::values::{NonNegative, NonNegative32, Text255};
use crate::parse::Command;
use crate::parse::{Checked, JsonPath};

/// A template's name: 1–64 characters, each a Chinese character, an ASCII letter or digit, `_`
/// or `-` (the SDK's `TemplateRequest.name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct TemplateName(String);

impl TemplateName {
    pub fn parse(name: String) -> Result<TemplateName, String> {
        let n = name.chars().count();
        if !(1..=64).contains(&n) {
            return Err(format!("must be 1 to 64 characters long, found {n}"));
        }
        if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-' || is_chinese(*c)))
        {
            return Err(format!("must be Chinese characters, letters, digits, _ and - only, found {c:?}"));
        }
        Ok(TemplateName(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A CJK unified ideograph (the basic block and extension A).
fn is_chinese(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

crate::openapi::custom_schema!(
    TemplateName,
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(64))
        .pattern(Some("^[A-Za-z0-9_\\-\\u3400-\\u4DBF\\u4E00-\\u9FFF]*$"))
);

impl<'de> Deserialize<'de> for TemplateName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        TemplateName::parse(String::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// `is_template` when the request does not say (absent or `null`): a template made through this
/// API is associated with no task, so it is a general template.
fn general_unless_said<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    Option::<bool>::deserialize(deserializer).map(|given| given.unwrap_or(true))
}

fn general() -> bool {
    true
}

/// `is_template` as served: the string `"true"` or `"false"`.
fn bool_as_text<S: Serializer>(value: &bool, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(if *value { "true" } else { "false" })
}

/// `is_template` in the OpenAPI document: the one `Template` schema serves requests (a
/// boolean or `null`) and responses (`"true"` or `"false"`).
fn bool_or_text() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    OneOfBuilder::new()
        .item(ObjectBuilder::new().schema_type(Type::Boolean))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .item(ObjectBuilder::new().schema_type(Type::String).enum_values(Some(["true", "false"])))
        .description(Some(
            "A boolean (or `null`: `true`) in requests; the string `\"true\"` or `\"false\"` in responses.",
        ))
        .build()
        .into()
}

/// The EIP type when the request does not say: the SDK's documented default.
const DEFAULT_EIP_TYPE: &str = "5_bgp";

fn default_eip_type() -> Text255 {
    Text255::parse(DEFAULT_EIP_TYPE.into()).expect("a short constant")
}

fn eip_type_or_default<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Text255, D::Error> {
    Option::<Text255>::deserialize(deserializer).map(|given| given.unwrap_or_else(default_eip_type))
}

attributes! {
    /// The scalar fields of `TemplateRequest` (and of `TemplateResponseBody`, besides `id`).
    pub struct Template {
        pub name: TemplateName,
        #[serde(default = "general", deserialize_with = "general_unless_said", serialize_with = "bool_as_text")]
        #[schema(schema_with = bool_or_text)]
        pub is_template: bool,
        pub region: Option<Text255>,
        pub projectid: Option<Text255>,
        pub target_server_name: Option<Text255>,
        pub availability_zone: Option<Text255>,
        pub volumetype: Option<Text255>,
        pub flavor: Option<Text255>,
        pub data_volume_type: Option<Text255>,
        pub target_password: Option<Text255>,
        pub image_id: Option<Text255>,
    }
}

attributes! {
    /// `VpcObject`: the VPC, or `autoCreate` as its id.
    pub struct Vpc {
        pub id: Option<Text255>,
        pub name: Option<Text255>,
        pub cidr: Option<Text255>,
    }
}

attributes! {
    /// `Nics`: a subnet of the target server. `id` (a subnet id, or `autoCreate`) is
    /// mandatory; `cidr` is not, since the Terraform provider sends none for `autoCreate`.
    pub struct Nic {
        pub id: Text255,
        pub name: Option<Text255>,
        pub cidr: Option<Text255>,
        pub ip: Option<Text255>,
    }
}

attributes! {
    /// `SgObject`: a security group; `id` mandatory.
    pub struct SecurityGroup {
        pub id: Text255,
        pub name: Option<Text255>,
    }
}

attributes! {
    /// `PublicIp`: the EIP of the target server; `type` defaults to `5_bgp`.
    pub struct PublicIp {
        #[serde(rename = "type", default = "default_eip_type", deserialize_with = "eip_type_or_default")]
        pub eip_type: Text255 => "type",
        /// Mbit/s.
        pub bandwidth_size: Option<NonNegative32>,
        pub bandwidth_share_type: Option<Text255>,
    }
}

attributes! {
    /// `TemplateDisk`: `index` (from 0, unique in the template) and `disktype` mandatory.
    pub struct TemplateDisk {
        /// The API's disk id, kept as sent.
        pub id: Option<NonNegative>,
        pub index: NonNegative32,
        pub name: Option<Text255>,
        pub disktype: Text255,
        /// GB.
        pub size: Option<NonNegative>,
        pub device_use: Option<Text255>,
    }
}

members!(
    /// The nested objects of a `TemplateRequest`.
    TemplateParts {
        vpc: Option<Vpc>,
        nics: Option<Vec<Nic>>,
        security_groups: Option<Vec<SecurityGroup>>,
        publicip: Option<PublicIp>,
        disk: Option<Vec<TemplateDisk>>,
    }
);

/// A `TemplateRequest` as sent: its scalar attributes and its nested objects.
pub type TemplateRequest = Node<Template, TemplateParts>;

/// The body of `POST /v3/vm/templates` and `PUT /v3/vm/templates/{id}`: `{"template": …}`.
///
/// An update sends the same whole `TemplateRequest` as a create (the SDK's `UpdateTemplateReq`,
/// `name` mandatory) and replaces the template with it: a field it leaves out is cleared, as
/// the Terraform provider expects when it drops an attribute from the body it sends again.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct TemplateBody {
    pub template: TemplateRequest,
}

impl Command for TemplateBody {
    fn check(&mut self) -> Checked {
        let path = JsonPath::root().field("template").field("disk");
        let mut seen: HashMap<i32, usize> = HashMap::new();
        for (i, disk) in self.template.members.disk.iter().flatten().enumerate() {
            if let Some(first) = seen.insert(disk.index.get(), i) {
                return Err(path
                    .index(i)
                    .invalid("index", format_args!("duplicates template.disk[{first}].index ({})", disk.index.get())));
            }
        }
        Ok(())
    }
}

/// `TemplateResponseBody`: a template as `GET /v3/vm/templates[/{id}]` serves it. A collection
/// that was not sent is `[]`; an object that was not sent is `null`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TemplateView {
    pub id: Uuid,
    #[serde(flatten)]
    pub attrs: Template,
    pub vpc: Option<Vpc>,
    pub nics: Vec<Nic>,
    pub security_groups: Vec<SecurityGroup>,
    pub publicip: Option<PublicIp>,
    pub disk: Vec<TemplateDisk>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(value: serde_json::Value) -> Result<TemplateBody, String> {
        crate::parse::parse::<TemplateBody>(value).map_err(|e| e.to_string())
    }

    #[test]
    fn names_follow_the_sdk_rule() {
        for good in ["tpl", "模板_1", "a-b_C9", &"x".repeat(64), &"模".repeat(64)] {
            assert!(TemplateName::parse(good.to_string()).is_ok(), "{good}");
        }
        for bad in ["", &"x".repeat(65), "with space", "dot.ted", "ünïcode"] {
            assert!(TemplateName::parse(bad.to_string()).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_the_name_is_mandatory_and_defaults_fill_in() {
        let body = parse(json!({ "template": { "name": "t", "publicip": {} } })).unwrap();
        assert!(body.template.attrs.is_template);
        assert_eq!(body.template.members.publicip.unwrap().eip_type.as_str(), "5_bgp");
        let body = parse(json!({ "template": { "name": "t", "is_template": null } })).unwrap();
        assert!(body.template.attrs.is_template);
        let body = parse(json!({ "template": { "name": "t", "is_template": false } })).unwrap();
        assert!(!body.template.attrs.is_template);
        assert_eq!(parse(json!({ "template": {} })).unwrap_err(), "template.name: is mandatory");
        assert_eq!(parse(json!({})).unwrap_err(), "template: is mandatory");
    }

    #[test]
    fn refusals_name_their_paths() {
        let err = parse(json!({ "template": { "name": "t", "nics": [{ "id": "a" }, { "name": "b" }] } })).unwrap_err();
        assert_eq!(err, "template.nics[1].id: is mandatory");
        let err =
            parse(json!({ "template": { "name": "t", "disk": [{ "index": -1, "disktype": "SAS" }] } })).unwrap_err();
        assert!(err.starts_with("template.disk[0].index: must be between 0"), "{err}");
        let err = parse(json!({ "template": { "name": "t", "is_template": "true" } })).unwrap_err();
        assert!(err.starts_with("template.is_template: invalid type"), "{err}");
        let disks = json!([{ "index": 0, "disktype": "SAS" }, { "index": 1, "disktype": "SAS" }, { "index": 0, "disktype": "SSD" }]);
        let err = parse(json!({ "template": { "name": "t", "disk": disks } })).unwrap_err();
        assert_eq!(err, "template.disk[2].index: duplicates template.disk[0].index (0)");
    }

    #[test]
    fn is_template_is_served_as_a_string() {
        let body = parse(json!({ "template": { "name": "t", "is_template": false } })).unwrap();
        let view = TemplateView {
            id: Uuid::nil(),
            attrs: body.template.attrs,
            vpc: None,
            nics: vec![],
            security_groups: vec![],
            publicip: None,
            disk: vec![],
        };
        let served = serde_json::to_value(&view).unwrap();
        assert_eq!(served["is_template"], "false");
        assert_eq!(served["vpc"], serde_json::Value::Null);
        assert_eq!(served["nics"], json!([]));
        assert_eq!(served["target_password"], serde_json::Value::Null);
    }
}
