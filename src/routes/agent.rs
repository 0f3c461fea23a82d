//! The agent channel of a source server: its command queue (`GET /v3/sources/{id}/command`)
//! and the results it reports (`POST /v3/sources/{id}/command_result`).

use actix_web::{web, HttpResponse};
use serde::Serialize;
use serde_json::json;
use sqlx::PgPool;
use uuid::Uuid;

use super::path::source_id;
use crate::auth::Caller;
use crate::db::fault;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::metrics::{outcome, Metrics};
use crate::model::enums::CommandName;
use crate::model::lifecycle::CommandResult;
use crate::store::lifecycle;

/// `ShowCommandResponse`.
#[derive(Serialize)]
struct CommandView {
    command_name: CommandName,
    command_param: CommandParam,
}

#[derive(Serialize)]
struct CommandParam {
    task_id: Option<Uuid>,
    bucket: Option<String>,
}

/// `GET /v3/sources/{source_id}/command`: the oldest pending command, kept until its result
/// arrives; `{}` when none is pending.
pub async fn next_command(
    caller: Caller,
    pool: web::Data<PgPool>,
    metrics: web::Data<Metrics>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let pending = async {
        let id = source_id(&path)?;
        fault::read_conn(&pool, async |conn| {
            lifecycle::next_command(conn, &caller.domain, id).await?.ok_or(ApiError::SourceServerNotFound)
        })
        .await
    }
    .await;
    metrics.agent_command_poll(match &pending {
        Ok(Some(_)) => "command",
        Ok(None) => "empty",
        Err(err) => err.code(),
    });
    Ok(match pending? {
        None => HttpResponse::Ok().json(json!({})),
        Some(command) => HttpResponse::Ok().json(CommandView {
            command_name: command.name,
            command_param: CommandParam { task_id: command.task_id, bucket: command.bucket },
        }),
    })
}

/// `POST /v3/sources/{source_id}/command_result` (`CommandBody`).
pub async fn command_result(
    caller: Caller,
    pool: web::Data<PgPool>,
    metrics: web::Data<Metrics>,
    path: web::Path<String>,
    JsonBody(result): JsonBody<CommandResult>,
) -> Result<HttpResponse, ApiError> {
    let stored = async {
        match lifecycle::command_result(&pool, &caller.domain, source_id(&path)?, &result).await? {
            true => Ok(()),
            false => Err(ApiError::SourceServerNotFound),
        }
    }
    .await;
    metrics.agent_command_result(outcome(&stored, "ok"));
    stored?;
    Ok(HttpResponse::Ok().json(json!({})))
}
