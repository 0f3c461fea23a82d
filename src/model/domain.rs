//! The tenant: every task, server and nested row belongs to one domain (account).

use serde::{Deserialize, Serialize};

/// A domain id, as authenticated by `auth` and bound in every statement of `store`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, sqlx::Type)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct DomainId(pub String);

crate::openapi::custom_schema!(DomainId, ObjectBuilder::new().schema_type(Type::String));

impl DomainId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
