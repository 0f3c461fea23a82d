-- Per-task settings written by their own endpoints (api-decisions.md, "Other task and source
-- operations"): `POST /v3/tasks/{id}/configuration-setting` and
-- `POST /v3/{task_id}/update-network-check-info`.

-- Configuration keys: every key of the SDK and the 2026 pages (INSTALL_PWD_AGENT was missing),
-- and the older pages' names (EXCLUDE_MIGRATE_PATH, SYNC_EXCLUDE_PATH, ONLY_SYNC_PATH), which
-- are kept as sent.
ALTER TABLE special_configs DROP CONSTRAINT special_configs_config_key_check;
ALTER TABLE special_configs ADD CONSTRAINT special_configs_config_key_check CHECK (config_key IN
    ('MIGRATE_EXCLUDE_DIR', 'SYNC_EXCLUDE_DIR', 'ONLY_SYNC_DIR', 'CONSISTENCY_DIR',
     'CONSISTENCY_DIR_ILLEGAL', 'LINUX_BLOCK_COMPRESS_THREAD_NUM', 'MIGRATE_DST_IP',
     'LINUX_BLOCK_CACHE_SIZE', 'LINUX_CPU_LIMIT', 'LINUX_MEM_LIMIT', 'LINUX_IO_LIMIT',
     'NUM_PROCESS_MIGRATE', 'NUM_PROCESS_SYNC', 'CONSISTENCY_RECHECK', 'CONSISTENCY_MODE',
     'DYNAMIC_PORT', 'INSTALL_PWD_AGENT', 'EXCLUDE_MIGRATE_PATH', 'SYNC_EXCLUDE_PATH', 'ONLY_SYNC_PATH'));
-- A task has at most one row per key: the upsert's conflict target.
CREATE UNIQUE INDEX special_configs_task_key_idx ON special_configs (task_id, config_key);

-- `evaluation_result` is 5–9 characters on the 2026 pages (6–8 before).
ALTER TABLE task_network_checks DROP CONSTRAINT task_network_checks_evaluation_result_check;
ALTER TABLE task_network_checks ADD CONSTRAINT task_network_checks_evaluation_result_check
    CHECK (char_length(evaluation_result) BETWEEN 5 AND 9);
