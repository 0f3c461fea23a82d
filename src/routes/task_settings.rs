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
#[utoipa::path(
    get,
    path = "/v3/tasks/{task_id}/speed-limit",
    operation_id = "ShowSpeedLimits",
    tag = "task settings",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task).")),
    responses((status = 200, description = "The task's speed-limit rules.", body = SpeedLimitsView))
)]
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
#[utoipa::path(
    post,
    path = "/v3/tasks/{task_id}/speed-limit",
    operation_id = "UpdateSpeed",
    tag = "task settings",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task).")),
    request_body = SpeedLimits,
    responses((status = 200, description = "Replaced.", body = crate::openapi::EmptyBody))
)]
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
#[utoipa::path(
    post,
    path = "/v3/tasks/{task_id}/configuration-setting",
    operation_id = "UploadSpecialConfigurationSetting",
    tag = "task settings",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task).")),
    request_body = Configurations,
    responses((status = 200, description = "Stored.", body = crate::openapi::EmptyBody))
)]
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
#[utoipa::path(
    get,
    path = "/v3/tasks/{task_id}/configuration-setting",
    operation_id = "ListConfigSetting",
    tag = "task settings",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task)."), ("config_key" = Option<ConfigKey>, Query, description = "Only this configuration.")),
    responses((status = 200, description = "The task's special configurations.", body = crate::model::task_settings::ConfigSettingView))
)]
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
#[utoipa::path(
    post,
    path = "/v3/{task_id}/update-network-check-info",
    operation_id = "UpdateNetworkCheckInfo",
    tag = "task settings",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task).")),
    request_body = NetworkCheckReport,
    responses((status = 200, description = "Stored.", body = crate::openapi::TaskIdBody))
)]
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
#[utoipa::path(
    get,
    path = "/v3/tasks/{task_id}/passphrase",
    operation_id = "ShowPassphrase",
    tag = "task settings",
    params(("task_id" = String, Path, description = "The task's id (a UUID; another string names no task).")),
    responses((status = 200, description = "The task's passphrase.", body = PassphraseView))
)]
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
