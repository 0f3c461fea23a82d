//! The OpenAPI 3.1 document of the API, generated from the types the handlers read and write
//! (utoipa derives on the model types, `#[utoipa::path]` on the handlers). Served at
//! `GET /openapi.json`, printed by `sms-tasks openapi`, and kept in `docs/openapi.json`.

/// Gives a type that has its own serde code its OpenAPI schema, named after the type.
macro_rules! custom_schema {
    ($ty:ident, $schema:expr) => {
        impl utoipa::PartialSchema for $ty {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::*;
                #[allow(unused_imports)]
                use utoipa::openapi::RefOr;
                ($schema).into()
            }
        }

        impl utoipa::ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($ty))
            }
        }
    };
}
pub(crate) use custom_schema;

use std::collections::BTreeMap;

use actix_web::ResponseError;
use serde::Serialize;
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::{OpenApi, ToSchema};
use uuid::Uuid;

use crate::db::fault::Fault;
use crate::error::ApiError;
use crate::model::enums::TaskState;
use crate::model::lifecycle::Refusal;

/// The body of every 4xx/5xx answer (`error::ApiError`'s `error_response`). A 403 also carries
/// `encoded_authorization_message`, `error_param` and `details`, as IAM's answers do.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The SMS (or API gateway) error code, e.g. `SMS.8005`.
    pub error_code: String,
    pub error_msg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoded_authorization_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_param: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<Vec<ErrorDetail>>,
}

/// An element of a 403's `details`.
#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    pub error_code: String,
    pub error_msg: String,
}

/// The `{}` that most writes answer (no property at all, so that it is told apart from a
/// command in `GET /v3/sources/{id}/command`).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmptyBody {}

/// `{"id": …}`: the id of what a create made, or of the task an update changed.
#[derive(Serialize, ToSchema)]
pub struct IdBody {
    pub id: Uuid,
}

/// `{"task_id": …}` (`POST /v3/{task_id}/update-network-check-info`).
#[derive(Serialize, ToSchema)]
pub struct TaskIdBody {
    pub task_id: Uuid,
}

/// `{"status": "ok"}` (`/health`) or `{"status": "ready"}` (`/health/ready`).
#[derive(Serialize, ToSchema)]
pub struct HealthBody {
    #[schema(pattern = "^(ok|ready)$")]
    pub status: String,
}

/// The security schemes of `/v3`: an IAM token, or a request signed with an access key.
const TOKEN: &str = "token";
const SIGNATURE: &str = "signature";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "sms-tasks",
        description = "The migration-task part of the Huawei Cloud Server Migration Service (SMS) v3 API, \
                       as served by sms-tasks. Every 4xx/5xx body is an `ErrorBody`; each operation lists \
                       its error codes per status."
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = "tasks", description = "Migration tasks and their lifecycle"),
        (name = "sources", description = "Source servers"),
        (name = "agent", description = "What a source server's agent calls"),
        (name = "task settings", description = "Speed limits, special configurations, network checks, passphrases"),
        (name = "migration projects", description = "Migration projects"),
        (name = "templates", description = "Server templates"),
        (name = "health", description = "Probes and this document (no authentication)"),
    )
)]
struct ApiDoc;

/// The whole document: the routes' operations, their security and their error answers.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.merge(crate::routes::ApiPaths::openapi());
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        TOKEN,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "X-Auth-Token",
            "A token made with `sms-tasks tokens create` or listed in the settings' `auth.tokens`.",
        ))),
    );
    components.add_security_scheme(
        SIGNATURE,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "`SDK-HMAC-SHA256 Access=…, SignedHeaders=…, Signature=…` with `X-Sdk-Date`, as the official \
             SDKs sign with an access key and secret key.",
        ))),
    );
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations(item) {
            let id = operation.operation_id.clone().unwrap_or_default();
            let authenticated = path.starts_with("/v3/");
            if authenticated {
                operation.security = Some(vec![
                    SecurityRequirement::new(TOKEN, Vec::<String>::new()),
                    SecurityRequirement::new(SIGNATURE, Vec::<String>::new()),
                ]);
            }
            add_errors(operation, &errors_of(&id, method, path, authenticated));
        }
    }
    doc
}

/// The document as served and as kept in `docs/openapi.json` (pretty, with a final newline).
pub fn document_json() -> String {
    let mut text = serde_json::to_string_pretty(&document()).expect("the document serializes");
    text.push('\n');
    text
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.map(|o| (method, o)))
    .collect()
}

/// The state that stands for any in the messages of [`errors_of`] (shown as `<state>`).
const SOME_STATE: TaskState = TaskState::Running;

/// The errors an operation can answer, from `error::ApiError` (its code, status and message).
fn errors_of(operation_id: &str, method: HttpMethod, path: &str, authenticated: bool) -> Vec<ApiError> {
    // Liveness and this document touch no database and read nothing from the request.
    if matches!(path, "/health" | "/openapi.json") {
        return Vec::new();
    }
    let mut errors =
        vec![ApiError::Internal(anyhow::anyhow!("")), ApiError::Unavailable(Fault::Unreachable, anyhow::anyhow!(""))];
    if authenticated {
        errors.push(ApiError::Unauthorized("<reason>".into()));
        errors.push(ApiError::Forbidden("<reason>".into()));
    }
    // Every /v3 operation checks a value (query, path id length or body).
    if authenticated {
        errors.push(ApiError::invalid("<json path>: <rule>"));
    }
    if matches!(method, HttpMethod::Post | HttpMethod::Put) && authenticated {
        errors.extend([
            ApiError::NotAnObject("<what was found>".into()),
            ApiError::RequestTimeout("the request body was not received within <n> s".into()),
            ApiError::PayloadTooLarge,
            ApiError::UnsupportedMediaType,
        ]);
    }
    if path.contains("{task_id}") {
        errors.push(ApiError::TaskNotFound);
    }
    if path.contains("{source_id}") {
        errors.push(ApiError::SourceServerNotFound);
    }
    if path.contains("{mig_project_id}") {
        errors.push(ApiError::MigProjectNotFound);
    }
    if path.starts_with("/v3/vm/templates/{id}") {
        errors.push(ApiError::TemplateNotFound);
    }
    match operation_id {
        "CreateTask" => errors.extend([
            ApiError::SourceServerMissing,
            ApiError::SourceServerNotConnected,
            ApiError::SourceServerHasTask,
        ]),
        "UpdateTaskStatus" => errors.extend([
            Refusal::NotRunning.into(),
            Refusal::CannotStart(SOME_STATE).into(),
            Refusal::CannotRestart(SOME_STATE).into(),
            ApiError::NotAllowed("<operation>".into(), SOME_STATE),
        ]),
        "UpdateTaskSpeed" => errors.push(ApiError::NotAllowed("progress".into(), SOME_STATE)),
        "DeleteTask" => errors.push(ApiError::TaskBusy("<id>".into())),
        "DeleteTasks" => errors.extend([ApiError::TaskBusy("<id>".into()), ApiError::NamedTaskNotFound("<id>".into())]),
        "DeleteServer" => errors.push(ApiError::TaskBusy("<id>".into())),
        "DeleteServers" => {
            errors.extend([ApiError::TaskBusy("<id>".into()), ApiError::NamedSourceServerNotFound("<id>".into())])
        }
        "DeleteTemplates" => errors.push(ApiError::NamedTemplateNotFound("<id>".into())),
        "UpdateCommandResult" => errors.push(ApiError::CommandMismatch("<detail>".into())),
        "DeleteMigproject" => errors.push(ApiError::MigProjectHasSources),
        "UpdateServerName" => errors.push(ApiError::MigProjectNotFound),
        _ => {}
    }
    errors
}

/// One response per status: the `ErrorBody` schema with `error_code` held to that status's
/// codes, and a description listing each code with its message.
fn add_errors(operation: &mut Operation, errors: &[ApiError]) {
    let mut by_status: BTreeMap<u16, BTreeMap<&'static str, String>> = BTreeMap::new();
    for error in errors {
        let message = error.to_string().replace(SOME_STATE.as_str(), "<state>");
        by_status.entry(error.status_code().as_u16()).or_default().entry(error.code()).or_insert(message);
    }
    for (status, codes) in by_status {
        let description =
            codes.iter().map(|(code, message)| format!("`{code}`: {message}")).collect::<Vec<_>>().join("\n\n");
        let schema = AllOfBuilder::new().item(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ErrorBody"))).item(
            ObjectBuilder::new().property(
                "error_code",
                ObjectBuilder::new().schema_type(Type::String).enum_values(Some(codes.keys().copied())),
            ),
        );
        let mut response = ResponseBuilder::new()
            .description(description)
            .content("application/json", ContentBuilder::new().schema(Some(schema)).build());
        if status == 503 {
            response = response.header(
                "Retry-After",
                utoipa::openapi::HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some("Seconds to wait before trying again."))
                    .build(),
            );
        }
        operation.responses.responses.insert(status.to_string(), RefOr::T(response.build()));
    }
}
