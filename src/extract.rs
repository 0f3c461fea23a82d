//! Request bodies: JSON objects only, parsed once into typed commands; every refusal names
//! the JSON path of the value it refuses.

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::validate::Checked;

/// A request body: read from JSON into its typed fields (whose types hold the rules of single
/// values), then held to the rules of its page that no type holds.
pub trait Command: DeserializeOwned {
    fn check(&mut self) -> Checked;
}

/// A JSON object body parsed into the command `T`.
///
/// - a Content-Type other than `application/json` is 415 `SMS.2006`;
/// - a body over the limit (`web::PayloadConfig`) is 413 `APIGW.0201`;
/// - anything but a JSON object is 400 `SMS.8002`;
/// - a known field of the wrong type, or a value that breaks a rule, is 400 `SMS.8001`
///   naming its path.
pub struct JsonBody<T>(pub T);

impl<T: Command + 'static> FromRequest for JsonBody<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<JsonBody<T>, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.type_() == mime::APPLICATION && m.subtype() == mime::JSON);
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::UnsupportedMediaType);
            }
            let bytes = bytes.await.map_err(|err| match err.as_error::<PayloadError>() {
                Some(PayloadError::Overflow) => ApiError::PayloadTooLarge,
                _ => ApiError::from_status(err.as_response_error().status_code(), err.to_string()),
            })?;
            parse_object(&bytes).map(JsonBody)
        })
    }
}

/// Parses a JSON object into the command `T`.
pub fn parse_object<T: Command>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::NotAnObject(format!("malformed JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::NotAnObject(format!("found {}", json_kind(&value))));
    }
    parse(value)
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

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}
