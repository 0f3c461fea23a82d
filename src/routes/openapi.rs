//! `GET /openapi.json`: the OpenAPI document (`crate::openapi`), without authentication.

use actix_web::http::header::ContentType;
use actix_web::HttpResponse;

/// The document, built once per process (it depends only on the code).
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "ShowOpenApi",
    tag = "health",
    responses((status = 200, description = "This document.", body = Object))
)]
pub async fn document() -> HttpResponse {
    static DOCUMENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let text = DOCUMENT.get_or_init(crate::openapi::document_json);
    HttpResponse::Ok().insert_header(ContentType::json()).body(text.as_str())
}
