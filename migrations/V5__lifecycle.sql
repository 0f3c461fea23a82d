-- The task lifecycle (api-decisions.md, "The control plane: lifecycle decisions").

-- Source states and migration cycles that actions and `PUT /v3/sources/{id}/changestate`
-- set: `premiging` (PutCopyStateReq), and the drill cycles.
ALTER TABLE servers DROP CONSTRAINT servers_state_check;
ALTER TABLE servers ADD CONSTRAINT servers_state_check CHECK (state IN
    ('unavailable', 'waiting', 'initialize', 'replicate', 'syncing', 'stopping', 'stopped', 'skipping',
     'deleting', 'clearing', 'cleared', 'clearfailed', 'premigready', 'premiging', 'premiged', 'premigfailed',
     'cloning', 'cutovering', 'finished', 'error'));
ALTER TABLE servers DROP CONSTRAINT servers_migration_cycle_check;
ALTER TABLE servers ADD CONSTRAINT servers_migration_cycle_check CHECK (migration_cycle IN
    ('cutovering', 'cutovered', 'checking', 'setting', 'replicating', 'syncing', 'no_ready', 'ready_for_test',
     'testing', 'tested'));

-- `GET /v3/tasks/{id}/passphrase`: made when the task is made (here, by the default; 244 random
-- bits from two v4 UUIDs), stable for the task's life.
ALTER TABLE tasks ADD COLUMN passphrase text NOT NULL
    DEFAULT replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');

-- The agent command queue: FIFO per source (ordered by id). The agent's poll reads the head
-- of its source's queue with one probe of the index.
CREATE TABLE agent_commands (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id  text NOT NULL,
    source_id  uuid NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    -- The task the command is about; deleting the task withdraws its commands.
    task_id    uuid REFERENCES tasks (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (name IN ('START', 'STOP', 'SYNC', 'SKIP', 'PREMIGRATE', 'UPLOAD_LOG')),
    bucket     text CHECK (char_length(bucket) <= 255),
    queued_at  bigint NOT NULL
);
CREATE INDEX agent_commands_queue_idx ON agent_commands (domain_id, source_id, id);
CREATE INDEX agent_commands_task_idx ON agent_commands (task_id);

-- `POST /v3/tasks/{id}/speed-limit`: a task's time-window speed rules, one row each.
CREATE TABLE task_speed_limits (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    domain_id            text NOT NULL,
    task_id              uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    position             integer NOT NULL CHECK (position >= 0),
    start_time           text NOT NULL CHECK (start_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    end_time             text NOT NULL CHECK (end_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
    speed                integer NOT NULL CHECK (speed BETWEEN 0 AND 10000),
    over_speed_threshold double precision CHECK (over_speed_threshold BETWEEN 0 AND 100),
    CHECK (start_time < end_time),
    UNIQUE (task_id, position)
);
