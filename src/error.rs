//! The one error type of the API, with its table of SMS codes (`api-decisions.md`, Errors).
//! Every 4xx/5xx body has the shape `{"error_code": "…", "error_msg": "…"}`.

use actix_web::error::PayloadError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

use crate::body_deadline::BodyTimedOut;
use crate::db::fault::{self, Fault, MaybeConnectionLost};
use crate::model::enums::TaskState;
use crate::model::lifecycle::Refusal;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A body, query or path value fails its type, range, enum, length, pattern or mandatory
    /// rule. The message names the JSON path and the rule.
    #[error("{0}")]
    Invalid(String),
    #[error("the request body is not a JSON object: {0}")]
    NotAnObject(String),
    #[error("Failed to create the migration task: the specified source server does not exist.")]
    SourceServerMissing,
    #[error("Failed to create the migration task: the source server is not connected.")]
    SourceServerNotConnected,
    #[error("Failed to create the migration task: the source server already has a migration task.")]
    SourceServerHasTask,
    #[error("Incorrect IAM authentication information: {0}")]
    Unauthorized(String),
    #[error("The current account does not have the permission to execute policy. {0}")]
    Forbidden(String),
    #[error("The migration task does not exist.")]
    TaskNotFound,
    #[error("The source server does not exist.")]
    SourceServerNotFound,
    #[error("The migration task {0} does not exist.")]
    NamedTaskNotFound(String),
    #[error("The source server {0} does not exist.")]
    NamedSourceServerNotFound(String),
    #[error("The API does not exist or has not been published in the environment.")]
    NoSuchApi,
    #[error("Invalid HTTP request method.")]
    MethodNotAllowed,
    #[error("Request entity too large.")]
    PayloadTooLarge,
    #[error("The request type must be application/json.")]
    UnsupportedMediaType,
    #[error("Only running tasks can be stopped.")]
    NotRunning,
    #[error("A task in state {0} cannot be started.")]
    CannotStart(TaskState),
    #[error("A task in state {0} cannot be restarted.")]
    CannotRestart(TaskState),
    #[error("The operation {0} is not allowed in task state {1}.")]
    NotAllowed(String, TaskState),
    #[error("The in-progress or stopping task {0} cannot be deleted: stop it first.")]
    TaskBusy(String),
    #[error("The command sent by the client is inconsistent with that on the SMS service: {0}")]
    CommandMismatch(String),
    #[error("The template does not exist.")]
    TemplateNotFound,
    #[error("The template {0} does not exist.")]
    NamedTemplateNotFound(String),
    #[error("The migration project does not exist.")]
    MigProjectNotFound,
    #[error("The migration project still has source servers and cannot be deleted.")]
    MigProjectHasSources,
    /// The request did not arrive in time: its body took longer than
    /// `server.body_timeout_secs`.
    #[error("Request timeout: {0}")]
    RequestTimeout(String),
    /// The database could not serve the request (see `db::fault`); answered 503 with
    /// `Retry-After`.
    #[error("The database is unavailable; try again later.")]
    Unavailable(Fault, #[source] anyhow::Error),
    #[error("Background exception.")]
    Internal(#[source] anyhow::Error),
}

/// Seconds a client is asked to wait after a 503.
const RETRY_AFTER_SECS: &str = "5";

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "SMS.8001",
            ApiError::NotAnObject(_) => "SMS.8002",
            ApiError::SourceServerMissing => "SMS.2216",
            ApiError::SourceServerNotConnected => "SMS.8003",
            ApiError::SourceServerHasTask => "SMS.8004",
            ApiError::Unauthorized(_) => "APIGW.0301",
            ApiError::Forbidden(_) => "SMS.9004",
            ApiError::TaskNotFound | ApiError::NamedTaskNotFound(_) => "SMS.8005",
            ApiError::SourceServerNotFound | ApiError::NamedSourceServerNotFound(_) => "SMS.8006",
            ApiError::NoSuchApi => "APIGW.0101",
            ApiError::MethodNotAllowed => "SMS.2003",
            ApiError::PayloadTooLarge | ApiError::RequestTimeout(_) => "APIGW.0201",
            ApiError::UnsupportedMediaType => "SMS.2006",
            ApiError::NotRunning => "SMS.1038",
            ApiError::CannotStart(_) => "SMS.1039",
            ApiError::CannotRestart(_) => "SMS.1040",
            ApiError::NotAllowed(..) => "SMS.8009",
            ApiError::TaskBusy(_) => "SMS.2015",
            ApiError::CommandMismatch(_) => "SMS.2009",
            ApiError::TemplateNotFound | ApiError::NamedTemplateNotFound(_) => "SMS.8010",
            ApiError::MigProjectNotFound => "SMS.8011",
            ApiError::MigProjectHasSources => "SMS.8012",
            ApiError::Unavailable(..) => "SMS.8007",
            ApiError::Internal(_) => "SMS.2007",
        }
    }

    /// The error for an HTTP status that actix produced itself (a failed extractor, an
    /// unmatched route, an oversized payload), so that it too answers in the SMS shape.
    pub fn from_status(status: StatusCode, detail: String) -> ApiError {
        match status {
            StatusCode::NOT_FOUND => ApiError::NoSuchApi,
            StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
            StatusCode::REQUEST_TIMEOUT => ApiError::RequestTimeout(detail),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType,
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized(detail),
            s if s.is_client_error() => ApiError::Invalid(detail),
            _ => ApiError::Internal(anyhow::anyhow!(detail)),
        }
    }

    /// The error for a request body that could not be read: too large (413), too slow (408,
    /// see `body_deadline`), or cut off or malformed by the client (400). All of them are the
    /// client's doing, so none is logged as an error of the service.
    pub fn from_payload(err: &PayloadError) -> ApiError {
        match err {
            PayloadError::Overflow => ApiError::PayloadTooLarge,
            PayloadError::Io(io) => match io.get_ref().and_then(|e| e.downcast_ref::<BodyTimedOut>()) {
                Some(timed_out) => ApiError::RequestTimeout(timed_out.to_string()),
                None => ApiError::invalid(format!("cannot read the request body: {err}")),
            },
            _ => ApiError::invalid(format!("cannot read the request body: {err}")),
        }
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::Invalid(message.into())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_)
            | ApiError::NotAnObject(_)
            | ApiError::SourceServerMissing
            | ApiError::SourceServerNotConnected
            | ApiError::SourceServerHasTask
            | ApiError::NotRunning
            | ApiError::CannotStart(_)
            | ApiError::CannotRestart(_)
            | ApiError::NotAllowed(..)
            | ApiError::TaskBusy(_)
            | ApiError::CommandMismatch(_)
            | ApiError::MigProjectHasSources => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::TaskNotFound
            | ApiError::SourceServerNotFound
            | ApiError::NamedTaskNotFound(_)
            | ApiError::NamedSourceServerNotFound(_)
            | ApiError::NoSuchApi
            | ApiError::TemplateNotFound
            | ApiError::NamedTemplateNotFound(_)
            | ApiError::MigProjectNotFound => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Unavailable(..) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            // The cause is logged, never sent.
            ApiError::Internal(cause) => {
                tracing::error!(error_code = self.code(), cause = format!("{cause:#}"), "request failed");
            }
            // An outage is the operator's to see, but it is not a bug of the service: a warning
            // per answer, with the kind of fault.
            ApiError::Unavailable(fault, cause) => {
                tracing::warn!(
                    error_code = self.code(),
                    fault = fault.as_str(),
                    cause = format!("{cause:#}"),
                    "the database could not serve the request"
                );
            }
            _ => tracing::info!(error_code = self.code(), error_msg = %self, "request refused"),
        }
        let mut body = json!({ "error_code": self.code(), "error_msg": self.to_string() });
        if let ApiError::Forbidden(reason) = self {
            body["encoded_authorization_message"] = json!("");
            body["error_param"] = json!([reason]);
            body["details"] = json!([{ "error_code": self.code(), "error_msg": reason }]);
        }
        let mut response = HttpResponse::build(self.status_code());
        if matches!(self, ApiError::Unavailable(..)) {
            response.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS));
        }
        response.json(body)
    }
}

/// Every database error reaches the client through here: a fault is a 503, anything else a
/// 500. A connection found dead is noted here, once for all callers, so that the pool drops
/// its siblings (`db::fault`).
impl From<sqlx::Error> for ApiError {
    fn from(err: sqlx::Error) -> ApiError {
        match fault::classify(&err) {
            Some(fault) => {
                if fault == Fault::ConnectionLost {
                    fault::note_connection_lost();
                }
                ApiError::Unavailable(fault, err.into())
            }
            None => ApiError::Internal(err.into()),
        }
    }
}

impl MaybeConnectionLost for ApiError {
    fn is_connection_lost(&self) -> bool {
        matches!(self, ApiError::Unavailable(Fault::ConnectionLost, _))
    }
}

/// What the store's outcomes mean for a client.
impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> ApiError {
        match err {
            StoreError::TaskNotFound => ApiError::TaskNotFound,
            // Only writes that name a source (a create) report it missing; reads answer 404.
            StoreError::NoSuchSource => ApiError::SourceServerMissing,
            StoreError::SourceNotConnected => ApiError::SourceServerNotConnected,
            StoreError::SourceHasTask => ApiError::SourceServerHasTask,
            StoreError::NoSuchTask(id) => ApiError::NamedTaskNotFound(id.to_string()),
            StoreError::NoSuchSourceServer(id) => ApiError::NamedSourceServerNotFound(id.to_string()),
            StoreError::Refused(refusal) => refusal.into(),
            StoreError::TaskBusy(id) => ApiError::TaskBusy(id.to_string()),
            StoreError::NotRunning(state) => ApiError::NotAllowed("progress".into(), state),
            StoreError::NoSuchSubtask(name) => {
                ApiError::Invalid(format!("subtask_name: the task has no subtask {name:?}"))
            }
            StoreError::CommandMismatch(detail) => ApiError::CommandMismatch(detail),
            StoreError::SourceServerNotFound => ApiError::SourceServerNotFound,
            StoreError::NoSuchMigProject => ApiError::MigProjectNotFound,
            StoreError::NoSuchTemplate => ApiError::invalid("template_id: names no template of the domain"),
            StoreError::MigProjectHasSources => ApiError::MigProjectHasSources,
            StoreError::MigProjectIsDefault => ApiError::invalid(
                "mig_project_id: the default migration project cannot be deleted; \
                 make another project the default first",
            ),
            StoreError::MigProjectStaysDefault => ApiError::invalid(
                "isdefault: the default migration project stays the default until another project \
                 becomes the default (PUT /v3/migprojects/{id}/default)",
            ),
            StoreError::Database(err) => err.into(),
        }
    }
}

/// A refused action, with its code.
impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> ApiError {
        match refusal {
            Refusal::NotRunning => ApiError::NotRunning,
            Refusal::CannotStart(state) => ApiError::CannotStart(state),
            Refusal::CannotRestart(state) => ApiError::CannotRestart(state),
            Refusal::NotAllowed(operation, state) => ApiError::NotAllowed(operation.to_string(), state),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(err: anyhow::Error) -> ApiError {
        ApiError::Internal(err)
    }
}
