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
use crate::openapi::EmptyBody;
use crate::store::lifecycle;

/// `ShowCommandResponse`.
#[derive(Serialize, utoipa::ToSchema)]
struct CommandView {
    command_name: CommandName,
    command_param: CommandParam,
}

/// `GET /v3/sources/{source_id}/command`'s body: a command, or `{}` when none is pending.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
enum CommandReply {
    Command(CommandView),
    None(EmptyBody),
}

#[derive(Serialize, utoipa::ToSchema)]
struct CommandParam {
    task_id: Option<Uuid>,
    bucket: Option<String>,
}

/// `GET /v3/sources/{source_id}/command`: the oldest pending command, kept until its result
/// arrives; `{}` when none is pending.
#[utoipa::path(
    get,
    path = "/v3/sources/{source_id}/command",
    operation_id = "ShowCommand",
    tag = "agent",
    params(("source_id" = String, Path, description = "The source server's id (a UUID; another string names no source).")),
    responses((status = 200, description = "The oldest pending command, or `{}`.", body = CommandReply))
)]
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
    Ok(HttpResponse::Ok().json(match pending? {
        None => CommandReply::None(EmptyBody {}),
        Some(command) => CommandReply::Command(CommandView {
            command_name: command.name,
            command_param: CommandParam { task_id: command.task_id, bucket: command.bucket },
        }),
    }))
}

/// `POST /v3/sources/{source_id}/command_result` (`CommandBody`).
#[utoipa::path(
    post,
    path = "/v3/sources/{source_id}/command_result",
    operation_id = "UpdateCommandResult",
    tag = "agent",
    params(("source_id" = String, Path, description = "The source server's id (a UUID; another string names no source).")),
    request_body = CommandResult,
    responses((status = 200, description = "Recorded.", body = crate::openapi::EmptyBody))
)]
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
