//! Request bodies, stored rows and response views of the API.

pub mod server;
pub mod source;
pub mod task;
pub mod tree;
pub mod update;

/// Milliseconds since the Unix epoch: how the API serves every time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
