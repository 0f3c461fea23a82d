//! Ids in request paths. An id is at most 255 characters (the pages); one that is not a UUID
//! names nothing of ours, so it is answered exactly like a missing one.

use uuid::Uuid;

use crate::error::ApiError;

/// A task id from the path.
pub fn task_id(raw: &str) -> Result<Uuid, ApiError> {
    if raw.chars().count() > 255 {
        return Err(ApiError::invalid("task_id: must be 0 to 255 characters long"));
    }
    Uuid::parse_str(raw).map_err(|_| ApiError::TaskNotFound)
}

/// A source server id from the path.
pub fn source_id(raw: &str) -> Result<Uuid, ApiError> {
    if raw.chars().count() > 255 {
        return Err(ApiError::invalid("source_id: must be 0 to 255 characters long"));
    }
    Uuid::parse_str(raw).map_err(|_| ApiError::SourceServerNotFound)
}
