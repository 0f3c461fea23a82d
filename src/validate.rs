//! Rule checks for request bodies. Each check names the JSON path of the value it refuses
//! (`target_server.disks[1].physical_volumes[0].size`) and the rule, as 400 `SMS.8001`.

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

    fn refuse(&self, rule: impl Display) -> ApiError {
        ApiError::Invalid(format!("{}: {rule}", self.0))
    }

    /// A mandatory value.
    pub fn required<'v, T>(&self, name: &str, value: &'v Option<T>) -> Result<&'v T, ApiError> {
        value.as_ref().ok_or_else(|| self.field(name).refuse("is mandatory"))
    }

    /// A string of `min..=max` characters, when present.
    pub fn length(&self, name: &str, value: &Option<String>, min: usize, max: usize) -> Checked {
        match value {
            Some(s) => {
                let n = s.chars().count();
                if n < min || n > max {
                    return Err(self
                        .field(name)
                        .refuse(format_args!("must be {min} to {max} characters long, found {n}")));
                }
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// A number in `min..=max`, when present.
    pub fn range<T: PartialOrd + Display + Copy>(&self, name: &str, value: Option<T>, min: T, max: T) -> Checked {
        match value {
            Some(v) if v < min || v > max => {
                Err(self.field(name).refuse(format_args!("must be between {min} and {max}, found {v}")))
            }
            _ => Ok(()),
        }
    }

    /// One of `allowed`, when present.
    pub fn one_of(&self, name: &str, value: &Option<String>, allowed: &[&str]) -> Checked {
        match value {
            Some(v) if !allowed.contains(&v.as_str()) => {
                Err(self.field(name).refuse(format_args!("must be one of {}, found {v:?}", allowed.join(", "))))
            }
            _ => Ok(()),
        }
    }

    /// At most `max` elements, when present.
    pub fn max_items<T>(&self, name: &str, value: Option<&Vec<T>>, max: usize) -> Checked {
        match value {
            Some(items) if items.len() > max => {
                Err(self.field(name).refuse(format_args!("must have at most {max} elements, found {}", items.len())))
            }
            _ => Ok(()),
        }
    }

    /// Refuses this value itself with `rule`.
    pub fn invalid(&self, name: &str, rule: impl Display) -> ApiError {
        self.field(name).refuse(rule)
    }
}

/// Checks every listed string field's length in one call.
pub fn lengths(path: &JsonPath, fields: &[(&str, &Option<String>)], max: usize) -> Checked {
    fields.iter().try_for_each(|(name, value)| path.length(name, value, 0, max))
}

/// Checks that every listed non-negative number (Long/Integer with minimum 0) is not negative.
pub fn non_negative(path: &JsonPath, fields: &[(&str, Option<i64>)]) -> Checked {
    fields.iter().try_for_each(|(name, value)| path.range(name, *value, 0, i64::MAX))
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
    fn length_counts_characters_not_bytes() {
        let p = JsonPath::root();
        assert!(p.length("name", &Some("ééé".into()), 1, 3).is_ok());
        assert!(p.length("name", &Some("éééé".into()), 1, 3).is_err());
        assert!(p.length("name", &None, 1, 3).is_ok());
    }

    #[test]
    fn one_of_names_the_allowed_values() {
        let err = JsonPath::root().one_of("type", &Some("X".into()), &["A", "B"]).unwrap_err().to_string();
        assert_eq!(err, "type: must be one of A, B, found \"X\"");
    }
}
