//! The task lifecycle: actions (`POST /v3/tasks/{id}/action`), log collection
//! (`POST /v3/tasks/{id}/log`) and the agent's progress reports (`PUT /v3/tasks/{id}/progress`).

use actix_web::{web, HttpResponse};
use serde_json::json;
use sqlx::PgPool;

use super::path::task_id;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::metrics::{outcome, Metrics};
use crate::model::lifecycle::{ActionRequest, LogUpload, ProgressReport};
use crate::store::lifecycle;

/// `POST /v3/tasks/{task_id}/action` (`UpdateTaskStatusReq`).
pub async fn act(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    JsonBody(action): JsonBody<ActionRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    lifecycle::act(&pool, &caller.domain, id, &action).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `POST /v3/tasks/{task_id}/log` (`UploadLogRequestBody`): `collect_log` into a bucket.
pub async fn collect_log(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<LogUpload>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    lifecycle::collect_log(&pool, &caller.domain, id, &body.log_bucket).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `PUT /v3/tasks/{task_id}/progress` (`UpdateTaskSpeedReq`).
pub async fn report_progress(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    metrics: web::Data<Metrics>,
    JsonBody(report): JsonBody<ProgressReport>,
) -> Result<HttpResponse, ApiError> {
    let reported = async {
        let id = task_id(&path)?;
        lifecycle::report_progress(&pool, &caller.domain, id, &report).await.map_err(ApiError::from)
    }
    .await;
    metrics.agent_progress_report(outcome(&reported, "ok"));
    reported?;
    Ok(HttpResponse::Ok().json(json!({})))
}
