//! The closed vocabularies of the API: task states and types, OS types, server roles, device
//! uses, firmware, boot loaders, … Each is an enum that reads and writes its API text in JSON
//! and in SQL (as `text`), and refuses any other text with the list of allowed values.

use std::fmt;
use std::str::FromStr;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type};

use super::values::UnknownValue;

/// Defines an enum of API words; `ALL` lists them in the order given.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            const TEXTS: &'static [&'static str] = &[$($text),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(text: &str) -> Result<$name, UnknownValue> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(UnknownValue { allowed: $name::TEXTS, found: text.to_string() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                text.parse().map_err(D::Error::custom)
            }
        }

        /// The OpenAPI schema: a string, one of the words.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some($name::TEXTS.iter().copied()))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl Type<Postgres> for $name {
            fn type_info() -> PgTypeInfo {
                <&str as Type<Postgres>>::type_info()
            }
            fn compatible(ty: &PgTypeInfo) -> bool {
                <&str as Type<Postgres>>::compatible(ty)
            }
        }

        impl PgHasArrayType for $name {
            fn array_type_info() -> PgTypeInfo {
                <&str as PgHasArrayType>::array_type_info()
            }
        }

        impl Encode<'_, Postgres> for $name {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <&str as Encode<Postgres>>::encode_by_ref(&self.as_str(), buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for $name {
            fn decode(value: PgValueRef<'r>) -> Result<$name, BoxDynError> {
                Ok(<&str as Decode<Postgres>>::decode(value)?.parse()?)
            }
        }
    };
}

api_enum!(
    /// A task's state: the union of the two lists of page 002 (response and filter).
    TaskState {
        Ready = "READY",
        Running = "RUNNING",
        Syncing = "SYNCING",
        MigrateSuccess = "MIGRATE_SUCCESS",
        SyncSuccess = "SYNC_SUCCESS",
        MigrateFail = "MIGRATE_FAIL",
        SyncFail = "SYNC_FAIL",
        Aborting = "ABORTING",
        Abort = "ABORT",
        Skipping = "SKIPPING",
        Deleting = "DELETING",
        Reseting = "RESETING",
        SyncFRollbacking = "SYNC_F_ROLLBACKING",
        SyncFRollbackSuccess = "SYNC_F_ROLLBACK_SUCCESS",
    }
);

api_enum!(
    /// How a task copies: file by file or block by block.
    TaskType {
        MigrateFile = "MIGRATE_FILE",
        MigrateBlock = "MIGRATE_BLOCK",
    }
);

api_enum!(OsType { Windows = "WINDOWS", Linux = "LINUX" });

api_enum!(
    /// Which side of a migration a `servers` row is.
    ServerRole {
        Source = "source",
        Target = "target",
    }
);

api_enum!(
    /// What a disk (or, on an update's target, a physical volume) is used for.
    DeviceUse {
        Boot = "BOOT",
        Os = "OS",
        Normal = "NORMAL",
    }
);

api_enum!(PartitionStyle { Mbr = "MBR", Gpt = "GPT" });

api_enum!(Firmware { Bios = "BIOS", Uefi = "UEFI" });

api_enum!(BootLoader { Grub = "GRUB", Lilo = "LILO" });

api_enum!(
    /// How a source's agent was started; the empty string is a documented value.
    StartType {
        Manual = "MANUAL",
        Mgc = "MGC",
        Unset = "",
    }
);

api_enum!(
    /// The platform a source server runs on.
    Platform {
        Hw = "hw",
        Ali = "ali",
        Aws = "aws",
        Azure = "azure",
        Gcp = "gcp",
        Tencent = "tencent",
        Vmware = "vmware",
        Hyperv = "hyperv",
        Other = "other",
        Default = "default",
    }
);

api_enum!(
    /// Where a source server is in its migration cycle.
    MigrationCycle {
        Cutovering = "cutovering",
        Cutovered = "cutovered",
        Checking = "checking",
        Setting = "setting",
        Replicating = "replicating",
        Syncing = "syncing",
        NoReady = "no_ready",
        ReadyForTest = "ready_for_test",
        Testing = "testing",
        Tested = "tested",
    }
);

api_enum!(
    /// A source server's state.
    SourceState {
        Unavailable = "unavailable",
        Waiting = "waiting",
        Initialize = "initialize",
        Replicate = "replicate",
        Syncing = "syncing",
        Stopping = "stopping",
        Stopped = "stopped",
        Skipping = "skipping",
        Deleting = "deleting",
        Clearing = "clearing",
        Cleared = "cleared",
        Clearfailed = "clearfailed",
        Premigready = "premigready",
        Premiging = "premiging",
        Premiged = "premiged",
        Premigfailed = "premigfailed",
        Cloning = "cloning",
        Cutovering = "cutovering",
        Finished = "finished",
        Error = "error",
    }
);

api_enum!(
    /// A task's kind, as its agent runs it: `migrate_type` of `GET …/configuration-setting`;
    /// it decides the task's standard subtasks and sync subtask (`model::lifecycle`).
    MigrateType {
        WindowsMigrateBlock = "WINDOWS_MIGRATE_BLOCK",
        LinuxMigrateFile = "LINUX_MIGRATE_FILE",
        LinuxMigrateBlock = "LINUX_MIGRATE_BLOCK",
    }
);

impl MigrateType {
    /// Windows migrates by block whatever the task's type; Linux by the task's type. `os` is
    /// the task's, else its source server's; without either, Linux.
    pub fn of(os: Option<OsType>, task_type: TaskType) -> MigrateType {
        match (os, task_type) {
            (Some(OsType::Windows), _) => MigrateType::WindowsMigrateBlock,
            (_, TaskType::MigrateFile) => MigrateType::LinuxMigrateFile,
            (_, TaskType::MigrateBlock) => MigrateType::LinuxMigrateBlock,
        }
    }
}

api_enum!(
    /// An operation of `POST /v3/tasks/{id}/action` (`UpdateTaskStatusReq.operation`).
    Operation {
        Start = "start",
        Stop = "stop",
        Restart = "restart",
        Test = "test",
        Cutover = "cutover",
        CloneTest = "clone_test",
        SyncFailedRollback = "sync_failed_rollback",
        NetworkCheck = "network_check",
        Skip = "skip",
        Clear = "clear",
        MigrationTest = "migration_test",
        CollectLog = "collect_log",
        ErrorForOverspeed = "error_for_overspeed",
    }
);

api_enum!(
    /// A command for a source's agent (its queue holds the first six; an agent may report a
    /// result for any).
    CommandName {
        Start = "START",
        Stop = "STOP",
        Sync = "SYNC",
        Skip = "SKIP",
        Premigrate = "PREMIGRATE",
        UploadLog = "UPLOAD_LOG",
        Delete = "DELETE",
        RsetLogAcl = "RSET_LOG_ACL",
    }
);

api_enum!(
    /// The outcome an agent reports for a command.
    CommandOutcome {
        Success = "success",
        Fail = "fail",
    }
);

api_enum!(
    /// Where a task's log collection is (`log_collect_status`).
    LogCollectStatus {
        Init = "INIT",
        Uploading = "UPLOADING",
        UploadFail = "UPLOAD_FAIL",
        Uploaded = "UPLOADED",
        TellAgentToCollect = "TELL_AGENT_TO_COLLECT",
        WaitAgentCollectAck = "WAIT_AGENT_COLLECT_ACK",
        AgentCollectFail = "AGENT_COLLECT_FAIL",
        AgentCollectSuccess = "AGENT_COLLECT_SUCCESS",
        WaitServerCollect = "WAIT_SERVER_COLLECT",
        ServerCollectFail = "SERVER_COLLECT_FAIL",
        ServerCollectSuccess = "SERVER_COLLECT_SUCCESS",
        TellAgentResetAcl = "TELL_AGENT_RESET_ACL",
        WaitAgentResetAclAck = "WAIT_AGENT_RESET_ACL_ACK",
    }
);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn every_word_reads_back_as_itself() {
        for state in TaskState::ALL {
            assert_eq!(state.as_str().parse::<TaskState>(), Ok(*state));
            assert_eq!(serde_json::to_value(state).unwrap(), json!(state.as_str()));
        }
        assert_eq!(TaskState::ALL.len(), 14);
        assert_eq!("".parse::<StartType>(), Ok(StartType::Unset));
    }

    #[test]
    fn other_words_are_refused_with_the_list() {
        let err = serde_json::from_value::<OsType>(json!("SOLARIS")).unwrap_err().to_string();
        assert_eq!(err, "must be one of WINDOWS, LINUX, found \"SOLARIS\"");
        assert!("ready".parse::<TaskState>().is_err(), "words are case-sensitive");
        assert!(serde_json::from_value::<OsType>(json!(1)).unwrap_err().to_string().starts_with("invalid type"));
    }

    #[test]
    fn migrate_types_follow_the_os_then_the_task_type() {
        use MigrateType::*;
        assert_eq!(MigrateType::of(Some(OsType::Windows), TaskType::MigrateFile), WindowsMigrateBlock);
        assert_eq!(MigrateType::of(Some(OsType::Windows), TaskType::MigrateBlock), WindowsMigrateBlock);
        assert_eq!(MigrateType::of(Some(OsType::Linux), TaskType::MigrateFile), LinuxMigrateFile);
        assert_eq!(MigrateType::of(None, TaskType::MigrateBlock), LinuxMigrateBlock);
        assert_eq!(serde_json::to_value(WindowsMigrateBlock).unwrap(), json!("WINDOWS_MIGRATE_BLOCK"));
    }
}
