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
#[utoipa::path(
    post,
    path = "/v3/tasks/{task_id}/action",
    operation_id = "UpdateTaskStatus",
    tag = "tasks",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task).")),
    request_body = ActionRequest,
    responses((status = 200, description = "Done.", body = crate::openapi::EmptyBody))
)]
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
#[utoipa::path(
    post,
    path = "/v3/tasks/{task_id}/log",
    operation_id = "UploadLog",
    tag = "tasks",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task).")),
    request_body = LogUpload,
    responses((status = 200, description = "Log collection queued.", body = crate::openapi::EmptyBody))
)]
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
#[utoipa::path(
    put,
    path = "/v3/tasks/{task_id}/progress",
    operation_id = "UpdateTaskSpeed",
    tag = "agent",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task).")),
    request_body = ProgressReport,
    responses((status = 200, description = "Recorded.", body = crate::openapi::EmptyBody))
)]
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
