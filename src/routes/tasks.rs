//! `/v3/tasks`: creating, reading, listing and updating migration tasks.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::path::task_id;
use super::query::Query;
use crate::auth::Caller;
use crate::db::fault;
use crate::db::reads::ListReads;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::enums::TaskState;
use crate::model::lifecycle::DeleteIds;
use crate::model::new_task::NewTask;
use crate::model::task::TaskView;
use crate::model::task_list::{TaskListItem, TaskPage};
use crate::model::task_patch::TaskPatch;
use crate::store::lifecycle;
use crate::store::tasks::{self, TaskFilter};

/// `POST /v3/tasks`.
#[utoipa::path(
    post,
    path = "/v3/tasks",
    operation_id = "CreateTask",
    tag = "tasks",
    request_body = NewTask,
    responses((status = 200, description = "The new task's id.", body = crate::openapi::IdBody))
)]
pub async fn create(
    caller: Caller,
    pool: web::Data<PgPool>,
    JsonBody(body): JsonBody<NewTask>,
) -> Result<HttpResponse, ApiError> {
    let id = tasks::create(&pool, &caller.domain, &body).await?;
    Ok(HttpResponse::Ok().json(json!({ "id": id })))
}

/// `GET /v3/tasks/{task_id}`.
#[utoipa::path(
    get,
    path = "/v3/tasks/{task_id}",
    operation_id = "ShowTask",
    tag = "tasks",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task).")),
    responses((status = 200, description = "The task.", body = TaskView))
)]
pub async fn show(caller: Caller, pool: web::Data<PgPool>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    let record = fault::read_conn(&pool, async |conn| {
        tasks::find(conn, &caller.domain, id).await?.ok_or(ApiError::TaskNotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(TaskView::from(&record)))
}

/// `GET /v3/tasks`: filters `state`, `name`, `id`, `source_server_id`,
/// `enterprise_project_id`; `limit` 0–200 (default 100), `offset` 0–65535.
/// Read through `ListReads` (a replica when configured), the count on the page's connection.
#[utoipa::path(
    get,
    path = "/v3/tasks",
    operation_id = "ListTasks",
    tag = "tasks",
    params(("state" = Option<TaskState>, Query, description = "Only tasks in this state."), ("name" = Option<String>, Query, description = "Only tasks of this name.", min_length = 0, max_length = 255, pattern = "^[^\\u0000]*$"), ("id" = Option<String>, Query, description = "Only the task of this id.", min_length = 1, max_length = 36, pattern = "^[^\\u0000]*$"), ("source_server_id" = Option<String>, Query, description = "Only the task of this source server.", min_length = 1, max_length = 36, pattern = "^[^\\u0000]*$"), ("enterprise_project_id" = Option<String>, Query, description = "Only tasks of this enterprise project.", min_length = 0, max_length = 255, pattern = "^[^\\u0000]*$"), ("limit" = Option<i64>, Query, description = "Page size (default 100)", minimum = 0, maximum = 200), ("offset" = Option<i64>, Query, description = "Tasks skipped (default 0)", minimum = 0, maximum = 65535)),
    responses((status = 200, description = "A page of tasks and the count of all that match.", body = TaskList))
)]
pub async fn list(caller: Caller, reads: web::Data<ListReads>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(&req)?;
    let filter = TaskFilter {
        state: query.word::<TaskState>("state")?,
        name: query.text("name", 0, 255)?,
        id: query.text("id", 1, 36)?.map(|id| uuid_or_nil(&id)),
        source_server_id: query.text("source_server_id", 1, 36)?.map(|id| uuid_or_nil(&id)),
        enterprise_project_id: query.text("enterprise_project_id", 0, 255)?,
    };
    let limit = query.integer("limit", 0, 200, 100)?;
    let offset = query.integer("offset", 0, 65535, 0)?;
    let (domain, filter) = (&caller.domain, &filter);
    let (count, page) = fault::read(async || {
        reads
            .read(|mut conn| async move {
                let count = tasks::count(&mut conn, domain, filter).await?;
                let page = if limit == 0 {
                    TaskPage::default()
                } else {
                    tasks::page(&mut conn, domain, filter, limit, offset).await?
                };
                Ok::<_, sqlx::Error>((count, page))
            })
            .await
    })
    .await?;
    Ok(HttpResponse::Ok().json(TaskList { count, tasks: page.items() }))
}

/// `GET /v3/tasks`'s body, serialized straight from the items (no intermediate JSON tree).
#[derive(Serialize, utoipa::ToSchema)]
struct TaskList<'a> {
    count: i64,
    tasks: Vec<TaskListItem<'a>>,
}

/// An id filter that is not a UUID matches no row: the nil UUID is never an id.
fn uuid_or_nil(id: &str) -> Uuid {
    Uuid::parse_str(id).unwrap_or(Uuid::nil())
}

/// `PUT /v3/tasks/{task_id}`: a partial update (see `model::task_patch`).
#[utoipa::path(
    put,
    path = "/v3/tasks/{task_id}",
    operation_id = "UpdateTask",
    tag = "tasks",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task).")),
    request_body = TaskPatch,
    responses((status = 200, description = "The task's id.", body = crate::openapi::IdBody))
)]
pub async fn update(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    JsonBody(patch): JsonBody<TaskPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    tasks::update(&pool, &caller.domain, id, &patch).await?;
    Ok(HttpResponse::Ok().json(json!({ "id": id })))
}

/// `DELETE /v3/tasks/{task_id}`: the task and everything below it; its source is free again.
#[utoipa::path(
    delete,
    path = "/v3/tasks/{task_id}",
    operation_id = "DeleteTask",
    tag = "tasks",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task).")),
    responses((status = 200, description = "Deleted.", body = crate::openapi::EmptyBody))
)]
pub async fn delete(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    lifecycle::delete_tasks(&pool, &caller.domain, &[id]).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `POST /v3/tasks/delete`: several tasks, all or none.
#[utoipa::path(
    post,
    path = "/v3/tasks/delete",
    operation_id = "DeleteTasks",
    tag = "tasks",
    request_body = DeleteIds,
    responses((status = 200, description = "All deleted.", body = crate::openapi::EmptyBody))
)]
pub async fn delete_many(
    caller: Caller,
    pool: web::Data<PgPool>,
    JsonBody(body): JsonBody<DeleteIds>,
) -> Result<HttpResponse, ApiError> {
    let ids = body.uuids(|id| ApiError::NamedTaskNotFound(id.to_string()))?;
    lifecycle::delete_tasks(&pool, &caller.domain, &ids).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}
