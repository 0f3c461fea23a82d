//! `/v3/sources`: registering, reading and updating source servers (name and migration
//! settings, copy state, disk info), their overview; `/v3/errors`: sources whose task failed.

use actix_web::{web, HttpRequest, HttpResponse};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::path::source_id;
use super::query::Query;
use crate::auth::Caller;
use crate::db::fault;
use crate::db::reads::ListReads;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::enums::SourceState;
use crate::model::lifecycle::DeleteIds;
use crate::model::now_ms;
use crate::model::server::{NewSource, ServerRow};
use crate::model::source::{SourceListItem, SourceView};
use crate::model::source_ops::{CopyStateChange, DiskInfo, Overview, SourceUpdate};
use crate::store::lifecycle;
use crate::store::migprojects;
use crate::store::servers::{self, SourceFilter};

/// `POST /v3/sources`: registers a source server with its whole tree.
#[utoipa::path(
    post,
    path = "/v3/sources",
    operation_id = "RegisterServer",
    tag = "sources",
    request_body = NewSource,
    responses((status = 200, description = "The new source server's id.", body = crate::openapi::IdBody))
)]
pub async fn register(
    caller: Caller,
    pool: web::Data<PgPool>,
    JsonBody(NewSource(body)): JsonBody<NewSource>,
) -> Result<HttpResponse, ApiError> {
    // Time-ordered (UUID v7): see `store::tasks::create`.
    let server = ServerRow::source(&body, Uuid::now_v7(), &caller.domain, now_ms());
    let mut tx = pool.begin().await?;
    servers::insert(&mut tx, &server, &body.tree()).await?;
    // Migration projects (issue 10): a new source joins the domain's default project.
    migprojects::join_default(&mut tx, &caller.domain, server.id).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(json!({ "id": server.id })))
}

/// `GET /v3/sources/{source_id}`.
#[utoipa::path(
    get,
    path = "/v3/sources/{source_id}",
    operation_id = "ShowServer",
    tag = "sources",
    params(("source_id" = String, Path, description = "The source server's id (a UUID; another string names no source).")),
    responses((status = 200, description = "The source server.", body = SourceView))
)]
pub async fn show(caller: Caller, pool: web::Data<PgPool>, path: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let id = source_id(&path)?;
    let (server, task, tree) = fault::read_conn(&pool, async |conn| {
        let (server, task) =
            servers::find_source(conn, &caller.domain, id).await?.ok_or(ApiError::SourceServerNotFound)?;
        let tree = servers::load_trees(conn, &caller.domain, &[id]).await?;
        Ok::<_, ApiError>((server, task, tree))
    })
    .await?;
    Ok(HttpResponse::Ok().json(SourceView::new(&server, &tree, task.as_ref())))
}

/// `GET /v3/sources`'s body.
#[derive(Serialize, utoipa::ToSchema)]
struct SourceList<'a> {
    count: i64,
    source_servers: Vec<SourceListItem<'a>>,
}

/// `GET /v3/sources`: filters `state`, `name`, `id`, `ip`, `connected`,
/// `enterprise_project_id`; `limit` (default 200) and `offset`.
/// Read through `ListReads` (a replica when configured).
#[utoipa::path(
    get,
    path = "/v3/sources",
    operation_id = "ListServers",
    tag = "sources",
    params(("state" = Option<SourceState>, Query, description = "Only sources in this state."), ("name" = Option<String>, Query, description = "Only sources of this name.", min_length = 0, max_length = 255, pattern = "^[^\\u0000]*$"), ("id" = Option<String>, Query, description = "Only the source of this id.", min_length = 1, max_length = 36, pattern = "^[^\\u0000]*$"), ("ip" = Option<String>, Query, description = "Only sources of this IP address.", min_length = 0, max_length = 255, pattern = "^[^\\u0000]*$"), ("connected" = Option<bool>, Query, description = "Only connected (or not connected) sources."), ("enterprise_project_id" = Option<String>, Query, description = "Only sources of this enterprise project.", min_length = 0, max_length = 255, pattern = "^[^\\u0000]*$"), ("migproject" = Option<String>, Query, description = "Only sources of this migration project.", min_length = 0, max_length = 255, pattern = "^[^\\u0000]*$"), ("limit" = Option<i64>, Query, description = "Page size (default 200)", minimum = 0, maximum = 200), ("offset" = Option<i64>, Query, description = "Sources skipped (default 0)", minimum = 0, maximum = 65535)),
    responses((status = 200, description = "A page of source servers and the count of all that match.", body = SourceList))
)]
pub async fn list(caller: Caller, reads: web::Data<ListReads>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(&req)?;
    let filter = SourceFilter {
        state: query.word::<SourceState>("state")?,
        name: query.text("name", 0, 255)?,
        // An id that is not a UUID matches nothing: the nil UUID is never an id.
        id: query.text("id", 1, 36)?.map(|id| Uuid::parse_str(&id).unwrap_or(Uuid::nil())),
        ip: query.text("ip", 0, 255)?,
        connected: query.boolean("connected")?,
        enterprise_project_id: query.text("enterprise_project_id", 0, 255)?,
        // Migration projects (issue 10): like `id`, a non-UUID matches nothing.
        migproject: query.text("migproject", 0, 255)?.map(|id| Uuid::parse_str(&id).unwrap_or(Uuid::nil())),
    };
    let limit = query.integer("limit", 0, 200, 200)?;
    let offset = query.integer("offset", 0, 65535, 0)?;
    let (domain, filter) = (&caller.domain, &filter);
    let (count, rows) = fault::read(async || {
        reads
            .read(|mut conn| async move { servers::list_sources(&mut conn, domain, filter, limit, offset).await })
            .await
    })
    .await?;
    let source_servers = rows.iter().map(SourceListItem::from).collect();
    Ok(HttpResponse::Ok().json(SourceList { count, source_servers }))
}

/// `DELETE /v3/sources/{source_id}`: the source, its tree, its task and its queued commands.
#[utoipa::path(
    delete,
    path = "/v3/sources/{source_id}",
    operation_id = "DeleteServer",
    tag = "sources",
    params(("source_id" = String, Path, description = "The source server's id (a UUID; another string names no source).")),
    responses((status = 200, description = "Deleted.", body = crate::openapi::EmptyBody))
)]
pub async fn delete(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = source_id(&path)?;
    lifecycle::delete_sources(&pool, &caller.domain, &[id]).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `POST /v3/sources/delete`: several sources, all or none.
#[utoipa::path(
    post,
    path = "/v3/sources/delete",
    operation_id = "DeleteServers",
    tag = "sources",
    request_body = DeleteIds,
    responses((status = 200, description = "All deleted.", body = crate::openapi::EmptyBody))
)]
pub async fn delete_many(
    caller: Caller,
    pool: web::Data<PgPool>,
    JsonBody(body): JsonBody<DeleteIds>,
) -> Result<HttpResponse, ApiError> {
    let ids = body.uuids(|id| ApiError::NamedSourceServerNotFound(id.to_string()))?;
    lifecycle::delete_sources(&pool, &caller.domain, &ids).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `PUT /v3/sources/{source_id}` (`PutSourceServerBody`): the name, the migration project, and
/// the migration settings of the source's own disks, volumes and groups, in one transaction.
#[utoipa::path(
    put,
    path = "/v3/sources/{source_id}",
    operation_id = "UpdateServerName",
    tag = "sources",
    params(("source_id" = String, Path, description = "The source server's id (a UUID; another string names no source).")),
    request_body = SourceUpdate,
    responses((status = 200, description = "Updated.", body = crate::openapi::EmptyBody))
)]
pub async fn update(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<SourceUpdate>,
) -> Result<HttpResponse, ApiError> {
    let id = source_id(&path)?;
    let mut tx = pool.begin().await?;
    if !servers::lock_source(&mut tx, &caller.domain, id).await? {
        return Err(ApiError::SourceServerNotFound);
    }
    if let Some(project) = body.project().filter(|p| !p.is_empty()) {
        // An id that is not a UUID names no project of ours.
        let project = Uuid::parse_str(project).map_err(|_| ApiError::MigProjectNotFound)?;
        migprojects::move_source(&mut tx, &caller.domain, id, project).await?;
    }
    if body.names_nodes() {
        let nodes = servers::source_nodes(&mut tx, &caller.domain, id).await?;
        let settings = body.settings(&nodes)?;
        servers::set_node_settings(&mut tx, &caller.domain, &settings).await?;
    }
    if let Some(name) = &body.name {
        servers::rename(&mut tx, &caller.domain, id, name).await?;
    }
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `PUT /v3/sources/{source_id}/changestate` (`PutCopyStateReq`): the source's state and
/// migration cycle.
#[utoipa::path(
    put,
    path = "/v3/sources/{source_id}/changestate",
    operation_id = "UpdateCopyState",
    tag = "sources",
    params(("source_id" = String, Path, description = "The source server's id (a UUID; another string names no source).")),
    request_body = CopyStateChange,
    responses((status = 200, description = "Updated.", body = crate::openapi::EmptyBody))
)]
pub async fn change_state(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<CopyStateChange>,
) -> Result<HttpResponse, ApiError> {
    let id = source_id(&path)?;
    let mut conn = pool.acquire().await?;
    if !servers::set_copy_state(&mut conn, &caller.domain, id, body.copystate.0, body.migrationcycle).await? {
        return Err(ApiError::SourceServerNotFound);
    }
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `PUT /v3/sources/{source_id}/diskinfo` (`PutDiskInfoReq`): replaces the source's disks,
/// volume groups and Btrfs list in one transaction; elements naming an existing node's id
/// keep it.
#[utoipa::path(
    put,
    path = "/v3/sources/{source_id}/diskinfo",
    operation_id = "UpdateDiskInfo",
    tag = "sources",
    params(("source_id" = String, Path, description = "The source server's id (a UUID; another string names no source).")),
    request_body = DiskInfo,
    responses((status = 200, description = "Replaced.", body = crate::openapi::EmptyBody))
)]
pub async fn replace_disk_info(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<DiskInfo>,
) -> Result<HttpResponse, ApiError> {
    let id = source_id(&path)?;
    let mut tx = pool.begin().await?;
    if !servers::lock_source(&mut tx, &caller.domain, id).await? {
        return Err(ApiError::SourceServerNotFound);
    }
    servers::replace_tree(&mut tx, &caller.domain, id, &body.tree()).await?;
    tx.commit().await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `GET /v3/sources/overview` (`ShowOverviewResponse`).
#[utoipa::path(
    get,
    path = "/v3/sources/overview",
    operation_id = "ShowOverview",
    tag = "sources",
    responses((status = 200, description = "The count of source servers per state.", body = Overview))
)]
pub async fn overview(caller: Caller, pool: web::Data<PgPool>) -> Result<HttpResponse, ApiError> {
    let counts = fault::read_conn(&pool, async |conn| {
        Ok::<_, ApiError>(servers::count_sources_by_state(conn, &caller.domain).await?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Overview::from_counts(counts)))
}

/// `GET /v3/errors` (`ListErrorServers`): `limit` 0–100 (default 50), `offset` mandatory
/// (0–65535), filters `enterprise_project_id` (the task's) and `migproject`.
/// Read through `ListReads` (a replica when configured).
#[utoipa::path(
    get,
    path = "/v3/errors",
    operation_id = "ListErrorServers",
    tag = "sources",
    params(("limit" = Option<i64>, Query, description = "Page size (default 50)", minimum = 0, maximum = 100), ("offset" = i64, Query, description = "Sources skipped (mandatory).", minimum = 0, maximum = 65535), ("enterprise_project_id" = Option<String>, Query, description = "Only tasks of this enterprise project.", min_length = 0, max_length = 255, pattern = "^[^\\u0000]*$"), ("migproject" = Option<String>, Query, description = "Only sources of this migration project.", min_length = 0, max_length = 255, pattern = "^[^\\u0000]*$")),
    responses((status = 200, description = "The source servers whose task failed.", body = crate::model::source_ops::MigrationErrorPage))
)]
pub async fn errors(caller: Caller, reads: web::Data<ListReads>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    let query = Query::parse(&req)?;
    let limit = query.integer("limit", 0, 100, 50)?;
    if query.text("offset", 0, 255)?.is_none() {
        return Err(ApiError::invalid("offset: is mandatory"));
    }
    let offset = query.integer("offset", 0, 65535, 0)?;
    let enterprise_project_id = query.text("enterprise_project_id", 0, 255)?;
    // An empty `migproject` filters nothing; an id that is not a UUID matches nothing (the nil
    // UUID is never an id).
    let migproject = query
        .text("migproject", 0, 255)?
        .filter(|id| !id.is_empty())
        .map(|id| Uuid::parse_str(&id).unwrap_or(Uuid::nil()));
    let (domain, enterprise_project_id) = (&caller.domain, enterprise_project_id.as_deref());
    let page = fault::read(async || {
        reads
            .read(|mut conn| async move {
                servers::list_error_sources(&mut conn, domain, enterprise_project_id, migproject, limit, offset).await
            })
            .await
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}
