//! Parsing request values into typed commands, once: a body is read into its command's typed
//! fields (the rules of single values are in their types: `model::values`, `model::enums`),
//! then held to the rules no type can hold (mandatory fields that depend on the page,
//! collection sizes, cross-field rules). Every refusal is a 400 `SMS.8001` naming the JSON
//! path of the value (`target_server.disks[1].physical_volumes[0].size: …`).

use std::fmt::Display;

use serde::de::DeserializeOwned;

use crate::error::ApiError;

pub type Checked = Result<(), ApiError>;

/// A request body: read from JSON into its typed fields (whose types hold the rules of single
/// values), then held to the rules of its page that no type holds.
pub trait Command: DeserializeOwned {
    fn check(&mut self) -> Checked;
}

/// The command `T` from a JSON value: its fields, then its page's rules.
pub fn parse<T: Command>(value: serde_json::Value) -> Result<T, ApiError> {
    let mut command: T = from_value(value)?;
    command.check()?;
    Ok(command)
}

/// `T` from a JSON value; a type error names its JSON path.
pub fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    if let Some(path) = find_nul(&value, String::new()) {
        // PostgreSQL text cannot hold U+0000: refuse it as the value it is.
        return Err(ApiError::Invalid(format!("{path}: must not contain the character U+0000")));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner().to_string();
        // serde reports a missing field at its parent object; name the field itself.
        if let Some(field) = inner.strip_prefix("missing field `").and_then(|rest| rest.strip_suffix('`')) {
            return match path.as_str() {
                "." => ApiError::Invalid(format!("{field}: is mandatory")),
                parent => ApiError::Invalid(format!("{parent}.{field}: is mandatory")),
            };
        }
        ApiError::Invalid(format!("{path}: {inner}"))
    })
}

/// The JSON path of the first string (value or key) holding U+0000.
fn find_nul(value: &serde_json::Value, path: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(if path.is_empty() { ".".into() } else { path }),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| find_nul(item, format!("{path}[{i}]")))
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            let here = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            if key.contains('\0') {
                return Some(here);
            }
            find_nul(item, here)
        }),
        _ => None,
    }
}

/// A JSON path, built while walking a body.
#[derive(Debug, Clone, Default)]
pub struct JsonPath(String);

impl JsonPath {
    pub fn root() -> JsonPath {
        JsonPath(String::new())
    }

    pub fn field(&self, name: &str) -> JsonPath {
        if self.0.is_empty() {
            JsonPath(name.to_string())
        } else {
            JsonPath(format!("{}.{name}", self.0))
        }
    }

    pub fn index(&self, i: usize) -> JsonPath {
        JsonPath(format!("{}[{i}]", self.0))
    }

    /// Refuses the value at `self.name` with `rule`.
    pub fn invalid(&self, name: &str, rule: impl Display) -> ApiError {
        ApiError::Invalid(format!("{}: {rule}", self.field(name).0))
    }

    /// A value that the page marks mandatory.
    pub fn required<'v, T>(&self, name: &str, value: &'v Option<T>) -> Result<&'v T, ApiError> {
        value.as_ref().ok_or_else(|| self.invalid(name, "is mandatory"))
    }

    /// A number in `min..=max`, when present (for ranges that depend on the page).
    pub fn range<T: PartialOrd + Display + Copy>(&self, name: &str, value: Option<T>, min: T, max: T) -> Checked {
        match value {
            Some(v) if v < min || v > max => {
                Err(self.invalid(name, format_args!("must be between {min} and {max}, found {v}")))
            }
            _ => Ok(()),
        }
    }

    /// A collection of at most `max` elements.
    pub fn max_items(&self, name: &str, len: usize, max: usize) -> Checked {
        if len > max {
            return Err(self.invalid(name, format_args!("must have at most {max} elements, found {len}")));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_read_like_json_paths() {
        let p = JsonPath::root().field("target_server").field("disks").index(1).field("physical_volumes").index(0);
        let err = p.range("size", Some(-1i64), 0, i64::MAX).unwrap_err().to_string();
        assert_eq!(
            err,
            "target_server.disks[1].physical_volumes[0].size: must be between 0 and 9223372036854775807, found -1"
        );
    }

    #[test]
    fn mandatory_values_and_sizes() {
        let root = JsonPath::root();
        assert_eq!(root.required::<i32>("name", &None).unwrap_err().to_string(), "name: is mandatory");
        assert_eq!(*root.required("name", &Some(3)).unwrap(), 3);
        assert!(root.max_items("disks", 51, 50).is_err());
        assert!(root.max_items("disks", 50, 50).is_ok());
    }
}
