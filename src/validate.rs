//! JSON paths of request values, and the refusals that name them (400 `SMS.8001`,
//! `target_server.disks[1].physical_volumes[0].size: …`). Rules of single values are in their
//! types (`model::values`, `model::enums`); what is checked here is what no type can hold:
//! mandatory fields that depend on the page, collection sizes, cross-field rules.

use std::fmt::Display;

use crate::error::ApiError;

pub type Checked = Result<(), ApiError>;

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
