//! `/v3/migprojects`: creating, reading, listing, updating and deleting migration projects, and
//! choosing the domain's default project; with what their store errors mean for a client.

use actix_web::http::header::CONTENT_TYPE;
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

use super::query::Query;
use crate::auth::Caller;
use crate::db::fault;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::migproject::{MigProjectListItem, MigProjectPatch, MigProjectView, NewMigProject};
use crate::store::migprojects;

/// A migration-project id from the path: one that is not a UUID names nothing of ours, so it
/// is answered exactly like a missing one.
pub fn mig_project_id(raw: &str) -> Result<Uuid, ApiError> {
    if raw.chars().count() > 255 {
        return Err(ApiError::invalid("mig_project_id: must be 0 to 255 characters long"));
    }
    Uuid::parse_str(raw).map_err(|_| ApiError::MigProjectNotFound)
}

/// `POST /v3/migprojects` (`PostMigProjectBody`) → `{"id"}`.
#[utoipa::path(
    post,
    path = "/v3/migprojects",
    operation_id = "CreateMigproject",
    tag = "migration projects",
    request_body = NewMigProject,
    responses((status = 200, description = "The new project's id.", body = crate::openapi::IdBody))
)]
pub async fn create(
    caller: Caller,
    pool: web::Data<PgPool>,
    JsonBody(body): JsonBody<NewMigProject>,
) -> Result<HttpResponse, ApiError> {
    let mut tx = pool.begin().await?;
    let id = migprojects::create(&mut tx, &caller.domain, &body).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(json!({ "id": id })))
}

/// `GET /v3/migprojects`'s body.
#[derive(Serialize, utoipa::ToSchema)]
struct MigProjectList<'a> {
    count: i64,
    migprojects: Vec<MigProjectListItem<'a>>,
}

/// `GET /v3/migprojects`: `limit` 0–100 (default 50), `offset` 0–65535; oldest first, the
/// exact count, `[]` past the end. A domain without a default project gets it first, so a
/// list always shows it.
#[utoipa::path(
    get,
    path = "/v3/migprojects",
    operation_id = "ListMigprojects",
    tag = "migration projects",
    params(("limit" = Option<i64>, Query, description = "Page size (default 50)", minimum = 0, maximum = 100), ("offset" = Option<i64>, Query, description = "Projects skipped (default 0)", minimum = 0, maximum = 65535)),
    responses((status = 200, description = "A page of projects and the count of all.", body = MigProjectList))
)]
pub async fn list(caller: Caller, pool: web::Data<PgPool>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(&req)?;
    let limit = query.integer("limit", 0, 100, 50)?;
    let offset = query.integer("offset", 0, 65535, 0)?;
    let mut tx = pool.begin().await?;
    migprojects::ensure_default(&mut tx, &caller.domain).await?;
    let (count, rows) = migprojects::list(&mut tx, &caller.domain, limit, offset).await?;
    tx.commit().await?;
    let migprojects = rows.iter().map(MigProjectListItem::from).collect();
    Ok(HttpResponse::Ok().json(MigProjectList { count, migprojects }))
}

/// `GET /v3/migprojects/{mig_project_id}` (`ShowMigprojectResponse`, without `id`).
#[utoipa::path(
    get,
    path = "/v3/migprojects/{mig_project_id}",
    operation_id = "ShowMigproject",
    tag = "migration projects",
    params(("mig_project_id" = String, Path, description = "The migration project's id (a UUID).")),
    responses((status = 200, description = "The project.", body = MigProjectView))
)]
pub async fn show(caller: Caller, pool: web::Data<PgPool>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = mig_project_id(&path)?;
    let row = fault::read_conn(&pool, async |conn| {
        migprojects::find(conn, &caller.domain, id).await?.ok_or(ApiError::MigProjectNotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(MigProjectView::from(&row)))
}

/// `PUT /v3/migprojects/{mig_project_id}` (`MigProject`, every field optional) → `{}`.
#[utoipa::path(
    put,
    path = "/v3/migprojects/{mig_project_id}",
    operation_id = "UpdateMigproject",
    tag = "migration projects",
    params(("mig_project_id" = String, Path, description = "The migration project's id (a UUID).")),
    request_body = MigProjectPatch,
    responses((status = 200, description = "Updated.", body = crate::openapi::EmptyBody))
)]
pub async fn update(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<MigProjectPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = mig_project_id(&path)?;
    let mut tx = pool.begin().await?;
    migprojects::update(&mut tx, &caller.domain, id, &body).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `DELETE /v3/migprojects/{mig_project_id}` → `{}`. The body may be empty, a JSON object
/// (`{}`), or the array of ids that Terraform sends (`["<id>"]`): the path's id governs.
/// Refused while the project has source servers (400 `SMS.8012`) and for the default project
/// (400 `SMS.8001`).
#[utoipa::path(
    delete,
    path = "/v3/migprojects/{mig_project_id}",
    operation_id = "DeleteMigproject",
    tag = "migration projects",
    params(("mig_project_id" = String, Path, description = "The migration project's id (a UUID).")),
    responses((status = 200, description = "Deleted.", body = crate::openapi::EmptyBody))
)]
pub async fn delete(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = mig_project_id(&path)?;
    if let Some(value) = optional_json(&body)? {
        match value {
            Value::Object(_) => {}
            Value::Array(items) => {
                if let Some(i) = items.iter().position(|item| !item.is_string()) {
                    return Err(ApiError::invalid(format!("[{i}]: must be a migration project id (a string)")));
                }
            }
            other => return Err(ApiError::NotAnObject(format!("found {}", kind(&other)))),
        }
    }
    let mut tx = pool.begin().await?;
    migprojects::delete(&mut tx, &caller.domain, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `PUT /v3/migprojects/{mig_project_id}/default` → `{}`: the project becomes the domain's
/// default and the old default stops being it, in one transaction. The body is empty (as the
/// SDK sends it) or a JSON object (`{}`, as Terraform sends it), and is ignored.
#[utoipa::path(
    put,
    path = "/v3/migprojects/{mig_project_id}/default",
    operation_id = "UpdateDefaultMigproject",
    tag = "migration projects",
    params(("mig_project_id" = String, Path, description = "The migration project's id (a UUID).")),
    responses((status = 200, description = "The project is the default.", body = crate::openapi::EmptyBody))
)]
pub async fn make_default(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    req: HttpRequest,
    body: Bytes,
) -> Result<HttpResponse, ApiError> {
    let id = mig_project_id(&path)?;
    if !body.iter().all(u8::is_ascii_whitespace) {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.type_() == mime::APPLICATION && m.subtype() == mime::JSON);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        match optional_json(&body)? {
            Some(Value::Object(_)) | None => {}
            Some(other) => return Err(ApiError::NotAnObject(format!("found {}", kind(&other)))),
        }
    }
    let mut tx = pool.begin().await?;
    migprojects::set_default(&mut tx, &caller.domain, id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// The JSON value of a body that may be empty.
fn optional_json(body: &[u8]) -> Result<Option<Value>, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(body).map(Some).map_err(|e| ApiError::NotAnObject(format!("malformed JSON: {e}")))
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
