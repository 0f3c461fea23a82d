//! `/v3/tasks`: creating, reading, listing and updating migration tasks.

use actix_web::{web, HttpResponse};
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::task::{CreateTask, TaskView};
use crate::store::tasks;

/// `POST /v3/tasks`.
pub async fn create(
    caller: Caller,
    pool: web::Data<PgPool>,
    JsonBody(body): JsonBody<CreateTask>,
) -> Result<HttpResponse, ApiError> {
    let source_id = body.validate()?;
    let id = tasks::create(&pool, &caller.domain, &body, source_id).await?;
    Ok(HttpResponse::Ok().json(json!({ "id": id })))
}

/// `GET /v3/tasks/{task_id}`.
pub async fn show(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    let mut conn = pool.acquire().await?;
    let record = tasks::find(&mut conn, &caller.domain, id)
        .await?
        .ok_or(ApiError::TaskNotFound)?;
    Ok(HttpResponse::Ok().json(TaskView::from(record)))
}

/// `GET /v3/tasks`.
pub async fn list(_caller: Caller) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NoSuchApi)
}

/// `PUT /v3/tasks/{task_id}`.
pub async fn update(_caller: Caller) -> Result<HttpResponse, ApiError> {
    Err(ApiError::NoSuchApi)
}

/// A task id from the path: at most 255 characters (seed 000); one that is not a UUID names
/// no task.
fn task_id(raw: &str) -> Result<Uuid, ApiError> {
    if raw.chars().count() > 255 {
        return Err(ApiError::invalid(
            "task_id: must be 0 to 255 characters long",
        ));
    }
    Uuid::parse_str(raw).map_err(|_| ApiError::TaskNotFound)
}
