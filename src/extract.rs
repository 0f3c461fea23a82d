//! Request bodies over HTTP: JSON objects only, of the right content type and size, handed to
//! `parse` to become their typed command.

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;

use crate::error::ApiError;
use crate::parse::{parse, Command};

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
                Some(err) => ApiError::from_payload(err),
                None => ApiError::from_status(err.as_response_error().status_code(), err.to_string()),
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
