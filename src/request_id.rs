//! Request ids and the last word on error bodies.
//!
//! Every request gets an id (the inbound `X-Request-Id`, else a fresh one) that is on its log
//! lines and on its response. Errors that actix produces itself (an unmatched route, a failed
//! extractor, an oversized body) are rewritten here into the SMS error shape.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::ResponseError;
use tracing::Instrument;

use crate::error::ApiError;

pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let span = tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.path());
    let started = Instant::now();
    async move {
        let response = match next.call(req).await {
            Ok(response) => in_sms_shape(response.map_into_boxed_body()),
            Err(err) => {
                // An error raised before a response existed; it has no request to attach to,
                // so it is answered here.
                let api_error = ApiError::from_status(err.as_response_error().status_code(), err.to_string());
                return Err(actix_web::error::InternalError::from_response(
                    err,
                    with_request_id(api_error.error_response(), &id),
                )
                .into());
            }
        };
        let status = response.status();
        tracing::info!(status = status.as_u16(), elapsed_ms = started.elapsed().as_secs_f64() * 1e3, "served");
        let mut response = response;
        if let Ok(value) = HeaderValue::from_str(&id) {
            response.headers_mut().insert(REQUEST_ID_HEADER, value);
        }
        Ok(response)
    }
    .instrument(span)
    .await
}

fn with_request_id(mut response: actix_web::HttpResponse, id: &str) -> actix_web::HttpResponse {
    if let Ok(value) = HeaderValue::from_str(id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}

/// Rewrites an error response that did not come from [`ApiError`] into the SMS shape.
fn in_sms_shape(response: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let status = response.status();
    let foreign = match response.response().error() {
        Some(err) => err.as_error::<ApiError>().is_none(),
        // An error status with no error behind it: actix's default 404 (no route matched).
        None => status.is_client_error() || status.is_server_error(),
    };
    if !foreign {
        return response;
    }
    let detail = response
        .response()
        .error()
        .map(|e| e.to_string())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_string());
    let api_error = ApiError::from_status(status, detail);
    response.into_response(api_error.error_response())
}
