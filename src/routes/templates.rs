//! `/v3/vm/templates`: creating, reading, listing, replacing and deleting server templates,
//! and a template's target password.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::query::Query;
use crate::auth::Caller;
use crate::db::fault;
use crate::db::reads::ListReads;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::lifecycle::DeleteIds;
use crate::model::template::{TemplateBody, TemplateView};
use crate::store::templates::{self, Deleted, TemplateFilter};

/// A template id from the path. One that is not a UUID names nothing of ours, so it is
/// answered exactly like a missing one.
fn template_id(raw: &str) -> Result<Uuid, ApiError> {
    if raw.chars().count() > 255 {
        return Err(ApiError::invalid("id: must be 0 to 255 characters long"));
    }
    Uuid::parse_str(raw).map_err(|_| ApiError::TemplateNotFound)
}

/// `POST /v3/vm/templates`: `{"template": TemplateRequest}` → `{"id"}`.
#[utoipa::path(
    post,
    path = "/v3/vm/templates",
    operation_id = "CreateTemplate",
    tag = "templates",
    request_body = TemplateBody,
    responses((status = 200, description = "The new template's id.", body = crate::openapi::IdBody))
)]
pub async fn create(
    caller: Caller,
    pool: web::Data<PgPool>,
    JsonBody(body): JsonBody<TemplateBody>,
) -> Result<HttpResponse, ApiError> {
    let id = templates::create(&pool, &caller.domain, &body.template).await?;
    Ok(HttpResponse::Ok().json(json!({ "id": id })))
}

/// `GET /v3/vm/templates/{id}` → `{"template": …}`.
#[utoipa::path(
    get,
    path = "/v3/vm/templates/{id}",
    operation_id = "ShowTemplate",
    tag = "templates",
    params(("id" = String, Path, description = "The template's id (a UUID).")),
    responses((status = 200, description = "The template.", body = TemplateShown))
)]
pub async fn show(caller: Caller, pool: web::Data<PgPool>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = template_id(&path)?;
    let template = fault::read_conn(&pool, async |conn| {
        templates::find(conn, &caller.domain, id).await?.ok_or(ApiError::TemplateNotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(TemplateShown { template }))
}

/// `GET /v3/vm/templates/{id}`'s body, serialized straight from the view (fields in the order
/// of `TemplateResponseBody`).
#[derive(Serialize, utoipa::ToSchema)]
struct TemplateShown {
    template: TemplateView,
}

/// `GET /v3/vm/templates`'s body.
#[derive(Serialize, utoipa::ToSchema)]
struct TemplateList {
    count: i64,
    templates: Vec<TemplateView>,
}

/// `GET /v3/vm/templates`: filters `name` (case-insensitive substring), `availability_zone`,
/// `region`, `id`; `limit` 0–100 (default 50), `offset` 0–65535; newest first, exact count,
/// `[]` past the end.
/// Read through `ListReads` (a replica when configured).
#[utoipa::path(
    get,
    path = "/v3/vm/templates",
    operation_id = "ListTemplate",
    tag = "templates",
    params(("name" = Option<String>, Query, description = "Only templates whose name contains this (any case).", min_length = 0, max_length = 255, pattern = "^[^\\u0000]*$"), ("availability_zone" = Option<String>, Query, description = "Only templates of this availability zone.", min_length = 0, max_length = 255, pattern = "^[^\\u0000]*$"), ("region" = Option<String>, Query, description = "Only templates of this region.", min_length = 0, max_length = 255, pattern = "^[^\\u0000]*$"), ("id" = Option<String>, Query, description = "Only the template of this id.", min_length = 1, max_length = 255, pattern = "^[^\\u0000]*$"), ("limit" = Option<i64>, Query, description = "Page size (default 50)", minimum = 0, maximum = 100), ("offset" = Option<i64>, Query, description = "Templates skipped (default 0)", minimum = 0, maximum = 65535)),
    responses((status = 200, description = "A page of templates and the count of all that match.", body = TemplateList))
)]
pub async fn list(caller: Caller, reads: web::Data<ListReads>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(&req)?;
    let filter = TemplateFilter {
        name: query.text("name", 0, 255)?,
        availability_zone: query.text("availability_zone", 0, 255)?,
        region: query.text("region", 0, 255)?,
        // An id that is not a UUID matches nothing: the nil UUID is never an id.
        id: query.text("id", 1, 255)?.map(|id| Uuid::parse_str(&id).unwrap_or(Uuid::nil())),
    };
    let limit = query.integer("limit", 0, 100, 50)?;
    let offset = query.integer("offset", 0, 65535, 0)?;
    let (domain, filter) = (&caller.domain, &filter);
    let (count, templates) = fault::read(async || {
        reads.read(|mut conn| async move { templates::list(&mut conn, domain, filter, limit, offset).await }).await
    })
    .await?;
    Ok(HttpResponse::Ok().json(TemplateList { count, templates }))
}

/// `PUT /v3/vm/templates/{id}`: replaces the template with the whole `TemplateRequest` sent
/// (see `model::template::TemplateBody`) → `{}`.
#[utoipa::path(
    put,
    path = "/v3/vm/templates/{id}",
    operation_id = "UpdateTemplate",
    tag = "templates",
    params(("id" = String, Path, description = "The template's id (a UUID).")),
    request_body = TemplateBody,
    responses((status = 200, description = "Replaced.", body = crate::openapi::EmptyBody))
)]
pub async fn update(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<TemplateBody>,
) -> Result<HttpResponse, ApiError> {
    let id = template_id(&path)?;
    if !templates::replace(&pool, &caller.domain, id, &body.template).await? {
        return Err(ApiError::TemplateNotFound);
    }
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `DELETE /v3/vm/templates/{id}` → `{}`.
#[utoipa::path(
    delete,
    path = "/v3/vm/templates/{id}",
    operation_id = "DeleteTemplate",
    tag = "templates",
    params(("id" = String, Path, description = "The template's id (a UUID).")),
    responses((status = 200, description = "Deleted.", body = crate::openapi::EmptyBody))
)]
pub async fn delete(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = template_id(&path)?;
    match templates::delete(&pool, &caller.domain, &[id]).await? {
        Deleted::All => Ok(HttpResponse::Ok().json(json!({}))),
        Deleted::Missing(_) => Err(ApiError::TemplateNotFound),
    }
}

/// `POST /v3/vm/templates/delete` (`{"ids": […]}`): all or none; an id that names no template
/// of the domain is a 404 `SMS.8010` naming it, and nothing is deleted.
#[utoipa::path(
    post,
    path = "/v3/vm/templates/delete",
    operation_id = "DeleteTemplates",
    tag = "templates",
    request_body = DeleteIds,
    responses((status = 200, description = "All deleted.", body = crate::openapi::EmptyBody))
)]
pub async fn delete_many(
    caller: Caller,
    pool: web::Data<PgPool>,
    JsonBody(body): JsonBody<DeleteIds>,
) -> Result<HttpResponse, ApiError> {
    let ids = body.uuids(|id| ApiError::NamedTemplateNotFound(id.to_string()))?;
    match templates::delete(&pool, &caller.domain, &ids).await? {
        Deleted::All => Ok(HttpResponse::Ok().json(json!({}))),
        Deleted::Missing(id) => Err(ApiError::NamedTemplateNotFound(id.to_string())),
    }
}

/// `GET /v3/vm/templates/{id}/target-password` → `{"template_id", "target_password"}`
/// (`null` when the template has none).
#[utoipa::path(
    get,
    path = "/v3/vm/templates/{id}/target-password",
    operation_id = "ShowTargetPassword",
    tag = "templates",
    params(("id" = String, Path, description = "The template's id (a UUID).")),
    responses((status = 200, description = "The template's target password.", body = TargetPassword))
)]
pub async fn target_password(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = template_id(&path)?;
    let password = fault::read_conn(&pool, async |conn| {
        templates::target_password(conn, &caller.domain, id).await?.ok_or(ApiError::TemplateNotFound)
    })
    .await?;
    Ok(HttpResponse::Ok().json(TargetPassword { template_id: id, target_password: password }))
}

/// `ShowTargetPasswordResponse`.
#[derive(Serialize, utoipa::ToSchema)]
struct TargetPassword {
    template_id: Uuid,
    target_password: Option<String>,
}
