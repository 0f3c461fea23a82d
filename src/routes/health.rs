//! Liveness and readiness probes, unauthenticated.

use std::time::Duration;

use actix_web::{web, HttpResponse};
use serde_json::json;
use sqlx::PgPool;

use crate::db::fault::Fault;
use crate::error::ApiError;

/// How long the readiness probe waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// The process is up.
#[utoipa::path(
    get,
    path = "/health",
    operation_id = "ShowHealth",
    tag = "health",
    responses((status = 200, description = "The process is up (`{\"status\": \"ok\"}`).", body = crate::openapi::HealthBody))
)]
pub async fn alive() -> HttpResponse {
    HttpResponse::Ok().json(json!({ "status": "ok" }))
}

/// The database answers.
#[utoipa::path(
    get,
    path = "/health/ready",
    operation_id = "ShowReadiness",
    tag = "health",
    responses((status = 200, description = "The database answers (`{\"status\": \"ready\"}`).", body = crate::openapi::HealthBody))
)]
pub async fn ready(pool: web::Data<PgPool>) -> Result<HttpResponse, ApiError> {
    let probe = sqlx::query("SELECT 1").execute(pool.get_ref());
    match tokio::time::timeout(READY_TIMEOUT, probe).await {
        Ok(Ok(_)) => Ok(HttpResponse::Ok().json(json!({ "status": "ready" }))),
        Ok(Err(err)) => Err(err.into()),
        Err(_) => {
            Err(ApiError::Unavailable(Fault::Unreachable, anyhow::anyhow!("the database did not answer in time")))
        }
    }
}
