//! Query-string parameters, checked one by one so that errors name the parameter.

use std::collections::HashMap;
use std::str::FromStr;

use actix_web::HttpRequest;

use crate::error::ApiError;
use crate::model::values::UnknownValue;

/// The query string's parameters (the last value wins for a repeated name).
pub struct Query(HashMap<String, String>);

impl Query {
    pub fn parse(req: &HttpRequest) -> Result<Query, ApiError> {
        serde_urlencoded::from_str::<Vec<(String, String)>>(req.query_string())
            .map(|pairs| Query(pairs.into_iter().collect()))
            .map_err(|e| ApiError::invalid(format!("query string: {e}")))
    }

    /// A text parameter of `min..=max` characters.
    pub fn text(&self, name: &str, min: usize, max: usize) -> Result<Option<String>, ApiError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(v) if v.contains('\0') => {
                Err(ApiError::invalid(format!("{name}: must not contain the character U+0000")))
            }
            Some(v) => {
                let n = v.chars().count();
                if n < min || n > max {
                    return Err(ApiError::invalid(format!(
                        "{name}: must be {min} to {max} characters long, found {n}"
                    )));
                }
                Ok(Some(v.clone()))
            }
        }
    }

    /// An integer parameter in `min..=max`, or `default` when absent.
    pub fn integer(&self, name: &str, min: i64, max: i64, default: i64) -> Result<i64, ApiError> {
        match self.0.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(n),
                Ok(n) => Err(ApiError::invalid(format!("{name}: must be between {min} and {max}, found {n}"))),
                Err(_) => Err(ApiError::invalid(format!("{name}: must be an integer, found {v:?}"))),
            },
        }
    }

    /// A word of the closed vocabulary `T` (`model::enums`).
    pub fn word<T: FromStr<Err = UnknownValue>>(&self, name: &str) -> Result<Option<T>, ApiError> {
        self.0.get(name).map(|v| v.parse().map_err(|e| ApiError::invalid(format!("{name}: {e}")))).transpose()
    }

    /// `true` or `false`.
    pub fn boolean(&self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.0.get(name).map(String::as_str) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::invalid(format!("{name}: must be true or false, found {v:?}"))),
        }
    }
}
