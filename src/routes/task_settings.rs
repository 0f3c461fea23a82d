//! A task's settings beside its row: `/v3/tasks/{task_id}/speed-limit` (GET, POST),
//! `/v3/tasks/{task_id}/configuration-setting` (GET, POST), `/v3/{task_id}/update-network-check-info`
//! (POST) and `/v3/tasks/{task_id}/passphrase` (GET). A path id that is not a UUID, or that
//! names another domain's task, is answered like a missing task (404 `SMS.8005`).

use actix_web::{web, HttpRequest, HttpResponse};
use serde_json::json;
use sqlx::PgPool;

use super::path::task_id;
use super::query::Query;
use crate::auth::Caller;
use crate::db::fault;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::model::task_settings::{
    ConfigKey, Configurations, NetworkCheckReport, PassphraseView, SpeedLimits, SpeedLimitsView,
};
use crate::store::task_settings as store;

/// `GET /v3/tasks/{task_id}/speed-limit`: the rules in their order, `[]` when none.
pub async fn show_speed_limits(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    let rules =
        fault::read_conn(&pool, async |conn| Ok::<_, ApiError>(store::speed_limits(conn, &caller.domain, id).await?))
            .await?;
    Ok(HttpResponse::Ok().json(SpeedLimitsView { speed_limit: &rules }))
}

/// `POST /v3/tasks/{task_id}/speed-limit`: replaces the task's rules.
pub async fn update_speed_limits(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<SpeedLimits>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    store::replace_speed_limits(&pool, &caller.domain, id, &body.speed_limit).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `POST /v3/tasks/{task_id}/configuration-setting`: upserts configurations by key.
pub async fn upload_configurations(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<Configurations>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    store::upsert_configurations(&pool, &caller.domain, id, &body.configurations).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `GET /v3/tasks/{task_id}/configuration-setting[?config_key=]`.
pub async fn show_configurations(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    let key = Query::parse(&req)?.word::<ConfigKey>("config_key")?;
    let view = fault::read_conn(&pool, async |conn| {
        Ok::<_, ApiError>(store::configurations(conn, &caller.domain, id, key).await?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// `POST /v3/{task_id}/update-network-check-info`: the task's network check report.
pub async fn update_network_check(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
    JsonBody(body): JsonBody<NetworkCheckReport>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    store::store_network_check(&pool, &caller.domain, id, &body).await?;
    Ok(HttpResponse::Ok().json(json!({ "task_id": id })))
}

/// `GET /v3/tasks/{task_id}/passphrase`.
pub async fn show_passphrase(
    caller: Caller,
    pool: web::Data<PgPool>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = task_id(&path)?;
    let passphrase =
        fault::read_conn(&pool, async |conn| Ok::<_, ApiError>(store::passphrase(conn, &caller.domain, id).await?))
            .await?;
    Ok(HttpResponse::Ok().json(PassphraseView { task_id: id, passphrase }))
}
