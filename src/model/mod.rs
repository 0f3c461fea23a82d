//! The domain model: what a request may say (typed commands, parsed once at the edge), what
//! is stored (rows, column for column) and what the API serves (views).
//!
//! - `columns`: attribute structs that hand their fields to a set-based insert;
//! - `domain`: the tenant id;
//! - `enums`: the closed vocabularies (states, types, roles, …);
//! - `values`: constrained strings and numbers, the task name, `Patch<T>`;
//! - `tree`: the tree below a server (attributes, input, rules, rows, views);
//! - `server`: a server's attributes, as registered, created or patched, and its row;
//! - `source`: the views of source servers;
//! - `source_ops`: the source operations beyond registration (update, copy state, disk info,
//!   overview, failed migrations);
//! - `new_task`, `task_patch`: the create and update commands of a task;
//! - `lifecycle`: the task state machine, progress reports and command results;
//! - `task`: a task's rows and its show view; `task_list`: a list page;
//! - `task_settings`: a task's speed-limit rules, special configurations and network check;
//! - `migproject`: migration projects (create and update commands, row, views);
//! - `template`: server templates (`/v3/vm/templates`).

pub mod columns;
pub mod domain;
pub mod enums;
pub mod lifecycle;
pub mod migproject;
pub mod new_task;
pub mod server;
pub mod source;
pub mod source_ops;
pub mod task;
pub mod task_list;
pub mod task_patch;
pub mod task_settings;
pub mod template;
pub mod tree;
pub mod values;

pub use domain::DomainId;

/// Milliseconds since the Unix epoch: how the API serves every time.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
