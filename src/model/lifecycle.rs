//! The task lifecycle (`api-decisions.md`, "Task state machine" and "Agent side"): what each
//! operation of `POST /v3/tasks/{id}/action` does from each state, the standard subtasks, and
//! the bodies of the action, of an agent's progress report and of its command result.
//!
//! The rules here are pure: `store::lifecycle` applies their outcome in one transaction.

use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::enums::{CommandName, CommandOutcome, MigrateType, MigrationCycle, Operation, SourceState, TaskState};
use super::values::{Float, Int32, Int64, NonNegative, Speed, Text, Text255};
use crate::parse::Command;
use crate::parse::{Checked, JsonPath};

/// `UpdateTaskStatusReq`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ActionRequest {
    pub operation: Operation,
    pub template_id: Option<Text255>,
    pub switch_hce: Option<bool>,
    pub is_need_consistency_check: Option<bool>,
    /// Older pages' parameters; `bucket` names the log bucket of a `collect_log`.
    pub param: Option<std::collections::HashMap<String, Text255>>,
}

impl Command for ActionRequest {
    fn check(&mut self) -> Checked {
        if self.operation == Operation::CloneTest {
            JsonPath::root().required("template_id", &self.template_id)?;
        }
        Ok(())
    }
}

impl ActionRequest {
    /// The log bucket a `collect_log` names, if any.
    pub fn bucket(&self) -> Option<&Text255> {
        self.param.as_ref().and_then(|p| p.get("bucket"))
    }
}

/// A state change of the task's source server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceChange {
    pub state: Option<SourceState>,
    pub cycle: Option<MigrationCycle>,
}

impl SourceChange {
    const fn to(state: SourceState, cycle: MigrationCycle) -> SourceChange {
        SourceChange { state: Some(state), cycle: Some(cycle) }
    }

    const fn state(state: SourceState) -> SourceChange {
        SourceChange { state: Some(state), cycle: None }
    }

    const fn cycle(cycle: MigrationCycle) -> SourceChange {
        SourceChange { state: None, cycle: Some(cycle) }
    }
}

/// What an action does to a task's subtasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubtaskChange {
    /// Nothing.
    Keep,
    /// A task without subtasks gets the standard list for its kind.
    StandardIfNone,
    /// The standard list if none, then every subtask back to 0 with its dates cleared.
    Reset,
    /// A sync round: the kind's sync subtask (added if missing) back to 0.
    SyncRound,
}

/// Everything an allowed action changes, at once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Effect {
    /// The task's new state (`None`: unchanged).
    pub state: Option<TaskState>,
    pub source: SourceChange,
    pub subtasks: SubtaskChange,
    /// The command queued for the source's agent.
    pub command: Option<CommandName>,
    /// A restart clears the task's finish date and error.
    pub clears_outcome: bool,
    pub need_migration_test: bool,
    /// `clone_test`: the task's clone server is set, `clone_state` FINISHED.
    pub clones: bool,
    /// `collect_log`: `log_collect_status` UPLOADING.
    pub collects_log: bool,
}

impl Effect {
    const NONE: Effect = Effect {
        state: None,
        source: SourceChange { state: None, cycle: None },
        subtasks: SubtaskChange::Keep,
        command: None,
        clears_outcome: false,
        need_migration_test: false,
        clones: false,
        collects_log: false,
    };
}

/// Why an action is refused: the legacy public codes for stop, start and restart, the
/// service's own for the others (`api-decisions.md`, "Ids and new codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    NotRunning,
    CannotStart(TaskState),
    CannotRestart(TaskState),
    NotAllowed(Operation, TaskState),
}

use TaskState as S;

/// The table of `api-decisions.md`: what `operation` does to a task in `state`.
pub fn effect(operation: Operation, state: TaskState) -> Result<Effect, Refusal> {
    let running = matches!(state, S::Running | S::Syncing);
    let migrated = matches!(state, S::Syncing | S::SyncSuccess | S::MigrateSuccess);
    let refused = Refusal::NotAllowed(operation, state);
    Ok(match operation {
        Operation::Start => match state {
            S::Ready | S::Abort => Effect {
                state: Some(S::Running),
                source: SourceChange::to(SourceState::Replicate, MigrationCycle::Replicating),
                subtasks: SubtaskChange::StandardIfNone,
                command: Some(CommandName::Start),
                ..Effect::NONE
            },
            S::SyncSuccess | S::SyncFail | S::SyncFRollbackSuccess => Effect {
                state: Some(S::Syncing),
                source: SourceChange::to(SourceState::Syncing, MigrationCycle::Syncing),
                subtasks: SubtaskChange::SyncRound,
                command: Some(CommandName::Sync),
                ..Effect::NONE
            },
            _ => return Err(Refusal::CannotStart(state)),
        },
        Operation::Restart => match state {
            S::MigrateFail | S::Abort | S::SyncFail => Effect {
                state: Some(S::Running),
                source: SourceChange::to(SourceState::Replicate, MigrationCycle::Replicating),
                subtasks: SubtaskChange::Reset,
                command: Some(CommandName::Start),
                clears_outcome: true,
                ..Effect::NONE
            },
            _ => return Err(Refusal::CannotRestart(state)),
        },
        Operation::Stop | Operation::ErrorForOverspeed if running => Effect {
            state: Some(S::Abort),
            source: SourceChange::state(SourceState::Stopped),
            command: Some(CommandName::Stop),
            ..Effect::NONE
        },
        Operation::Stop => return Err(Refusal::NotRunning),
        Operation::Cutover if migrated => Effect {
            state: Some(S::MigrateSuccess),
            source: SourceChange::to(SourceState::Finished, MigrationCycle::Cutovered),
            ..Effect::NONE
        },
        Operation::Test if migrated => Effect { source: SourceChange::cycle(MigrationCycle::Tested), ..Effect::NONE },
        Operation::CloneTest if migrated => Effect { clones: true, ..Effect::NONE },
        Operation::SyncFailedRollback if state == S::SyncFail => {
            Effect { state: Some(S::SyncFRollbackSuccess), ..Effect::NONE }
        }
        Operation::Skip if state == S::Running => Effect { command: Some(CommandName::Skip), ..Effect::NONE },
        Operation::MigrationTest if matches!(state, S::Ready | S::Abort) => Effect {
            source: SourceChange::state(SourceState::Premigready),
            command: Some(CommandName::Premigrate),
            need_migration_test: true,
            ..Effect::NONE
        },
        Operation::CollectLog => Effect { command: Some(CommandName::UploadLog), collects_log: true, ..Effect::NONE },
        Operation::NetworkCheck | Operation::Clear => Effect::NONE,
        Operation::ErrorForOverspeed
        | Operation::Cutover
        | Operation::Test
        | Operation::CloneTest
        | Operation::SyncFailedRollback
        | Operation::Skip
        | Operation::MigrationTest => return Err(refused),
    })
}

/// The subtasks a task of this kind runs, in order (`api-decisions.md`).
pub fn standard_subtasks(kind: MigrateType) -> &'static [&'static str] {
    match kind {
        MigrateType::WindowsMigrateBlock => &[
            "CREATE_CLOUD_SERVER",
            "SSL_CONFIG",
            "ATTACH_AGENT_IMAGE",
            "FORMAT_DISK_WINDOWS",
            "MIGRATE_WINDOWS_BLOCK",
            "CONFIGURE_WINDOWS",
            "DETTACH_AGENT_IMAGE",
        ],
        MigrateType::LinuxMigrateFile => &[
            "CREATE_CLOUD_SERVER",
            "SSL_CONFIG",
            "ATTACH_AGENT_IMAGE",
            "FORMAT_DISK_LINUX_FILE",
            "MIGRATE_LINUX_FILE",
            "CONFIGURE_LINUX_FILE",
            "DETTACH_AGENT_IMAGE",
        ],
        MigrateType::LinuxMigrateBlock => &[
            "CREATE_CLOUD_SERVER",
            "SSL_CONFIG",
            "ATTACH_AGENT_IMAGE",
            "FORMAT_DISK_LINUX_BLOCK",
            "MIGRATE_LINUX_BLOCK",
            "CONFIGURE_LINUX_BLOCK",
            "DETTACH_AGENT_IMAGE",
        ],
    }
}

/// The subtask of a sync round for this kind.
pub fn sync_subtask(kind: MigrateType) -> &'static str {
    match kind {
        MigrateType::WindowsMigrateBlock => "SYNC_WINDOWS_BLOCK",
        MigrateType::LinuxMigrateFile => "SYNC_LINUX_FILE",
        MigrateType::LinuxMigrateBlock => "SYNC_LINUX_BLOCK",
    }
}

/// A state in which a task (or the source it belongs to) may not be deleted while its source
/// is connected: stop it first (`api-decisions.md`, Delete).
pub fn is_busy(state: TaskState) -> bool {
    matches!(
        state,
        S::Running | S::Syncing | S::Aborting | S::Deleting | S::Skipping | S::Reseting | S::SyncFRollbacking
    )
}

/// What a completed round makes of a task whose subtasks are all at 100.
pub fn completion(state: TaskState, syncing: bool) -> Option<(TaskState, SourceChange)> {
    match state {
        S::Running if syncing => Some((S::Syncing, SourceChange::to(SourceState::Syncing, MigrationCycle::Syncing))),
        S::Running => Some((S::MigrateSuccess, SourceChange::to(SourceState::Finished, MigrationCycle::Cutovered))),
        S::Syncing => Some((S::SyncSuccess, SourceChange::to(SourceState::Syncing, MigrationCycle::Syncing))),
        _ => None,
    }
}

/// `DeleteTasksReq` / `DeleteIds`: the ids of a batch delete.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DeleteIds {
    pub ids: Vec<Text255>,
}

impl DeleteIds {
    /// The ids as UUIDs. An id that is not one names nothing of ours: the first such is
    /// refused with `missing` of it, before anything is deleted.
    pub fn uuids<E>(&self, missing: impl Fn(&str) -> E) -> Result<Vec<Uuid>, E> {
        self.ids.iter().map(|id| Uuid::parse_str(id).map_err(|_| missing(id))).collect()
    }
}

/// The most ids a batch delete takes.
const MAX_DELETE_IDS: usize = 65535;

impl Command for DeleteIds {
    fn check(&mut self) -> Checked {
        JsonPath::root().max_items("ids", self.ids.len(), MAX_DELETE_IDS)
    }
}

/// `UploadLogRequestBody`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct LogUpload {
    pub log_bucket: Text255,
}

impl Command for LogUpload {
    fn check(&mut self) -> Checked {
        Ok(())
    }
}

/// `UpdateTaskSpeedReq`: an agent's progress report on one subtask.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProgressReport {
    pub subtask_name: Text255,
    pub progress: Option<Int32<0, 100>>,
    pub replicatesize: NonNegative,
    pub totalsize: Option<NonNegative>,
    pub process_trace: Text<0, 2048>,
    pub migrate_speed: Option<Speed>,
    pub compress_rate: Option<Float<0, 10000>>,
    pub remain_time: Option<Int64<0, 2147483647>>,
    pub total_cpu_usage: Option<Float<0, 100>>,
    pub agent_cpu_usage: Option<Float<0, 100>>,
    pub total_mem_usage: Option<Float<0, 1048576>>,
    pub agent_mem_usage: Option<Float<0, 1048576>>,
    pub total_disk_io: Option<Float<0, 10000>>,
    pub agent_disk_io: Option<Float<0, 10000>>,
    pub need_migration_test: Option<bool>,
    pub agent_time: Option<Text255>,
}

impl Command for ProgressReport {
    fn check(&mut self) -> Checked {
        Ok(())
    }
}

/// `CommandBody`: an agent's result for the command at the head of its queue.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct CommandResult {
    pub command_name: CommandName,
    pub result: Option<CommandOutcome>,
    /// Arbitrary JSON, kept as text (`error_json` of a failed task).
    pub result_detail: Value,
}

impl Command for CommandResult {
    fn check(&mut self) -> Checked {
        Ok(())
    }
}

impl CommandResult {
    /// `result_detail` as the task's `error_json`, within its column's 1024 characters.
    pub fn detail_text(&self) -> String {
        let text = self.result_detail.to_string();
        match text.char_indices().nth(1024) {
            Some((cut, _)) => text[..cut].to_string(),
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_runs_a_ready_or_stopped_task_and_syncs_a_synced_one() {
        for from in [S::Ready, S::Abort] {
            let e = effect(Operation::Start, from).unwrap();
            assert_eq!((e.state, e.command), (Some(S::Running), Some(CommandName::Start)));
            assert_eq!(e.subtasks, SubtaskChange::StandardIfNone);
        }
        for from in [S::SyncSuccess, S::SyncFail, S::SyncFRollbackSuccess] {
            let e = effect(Operation::Start, from).unwrap();
            assert_eq!((e.state, e.command), (Some(S::Syncing), Some(CommandName::Sync)));
        }
        assert_eq!(effect(Operation::Start, S::Running), Err(Refusal::CannotStart(S::Running)));
        assert_eq!(effect(Operation::Start, S::MigrateSuccess), Err(Refusal::CannotStart(S::MigrateSuccess)));
    }

    #[test]
    fn every_operation_is_allowed_from_exactly_its_states() {
        let allowed = |op: Operation| -> Vec<TaskState> {
            TaskState::ALL.iter().copied().filter(|s| effect(op, *s).is_ok()).collect()
        };
        assert_eq!(allowed(Operation::Restart), [S::MigrateFail, S::SyncFail, S::Abort]);
        assert_eq!(allowed(Operation::Stop), [S::Running, S::Syncing]);
        assert_eq!(allowed(Operation::ErrorForOverspeed), [S::Running, S::Syncing]);
        assert_eq!(allowed(Operation::Cutover), [S::Syncing, S::MigrateSuccess, S::SyncSuccess]);
        assert_eq!(allowed(Operation::Test), [S::Syncing, S::MigrateSuccess, S::SyncSuccess]);
        assert_eq!(allowed(Operation::CloneTest), [S::Syncing, S::MigrateSuccess, S::SyncSuccess]);
        assert_eq!(allowed(Operation::SyncFailedRollback), [S::SyncFail]);
        assert_eq!(allowed(Operation::Skip), [S::Running]);
        assert_eq!(allowed(Operation::MigrationTest), [S::Ready, S::Abort]);
        for op in [Operation::CollectLog, Operation::NetworkCheck, Operation::Clear] {
            assert_eq!(allowed(op).len(), TaskState::ALL.len(), "{op}");
        }
    }

    #[test]
    fn refusals_carry_their_code_kind() {
        assert_eq!(effect(Operation::Stop, S::Ready), Err(Refusal::NotRunning));
        assert_eq!(effect(Operation::Restart, S::Ready), Err(Refusal::CannotRestart(S::Ready)));
        assert_eq!(effect(Operation::Skip, S::Ready), Err(Refusal::NotAllowed(Operation::Skip, S::Ready)));
    }

    #[test]
    fn rounds_complete_by_kind() {
        assert_eq!(completion(S::Running, false).map(|c| c.0), Some(S::MigrateSuccess));
        assert_eq!(completion(S::Running, true).map(|c| c.0), Some(S::Syncing));
        assert_eq!(completion(S::Syncing, true).map(|c| c.0), Some(S::SyncSuccess));
        assert_eq!(completion(S::Abort, false), None);
    }

    #[test]
    fn standard_subtasks_follow_the_kind() {
        assert_eq!(standard_subtasks(MigrateType::LinuxMigrateFile)[4], "MIGRATE_LINUX_FILE");
        assert_eq!(standard_subtasks(MigrateType::LinuxMigrateBlock)[3], "FORMAT_DISK_LINUX_BLOCK");
        assert_eq!(standard_subtasks(MigrateType::WindowsMigrateBlock).len(), 7);
        assert!(is_busy(S::Running) && !is_busy(S::Abort) && !is_busy(S::Ready));
    }
}
