-- The normalized store of the SMS v3 task API.
--
-- Every row carries the domain (tenant) it belongs to, so every query can be scoped by it and
-- an index can lead with it. Task and server ids are UUID v4; every nested object (disk,
-- volume, group, filesystem, subvolume, network, subtask, special config) takes a positive
-- bigint from one shared sequence, as the API serves them (`api-decisions.md`, Values).
-- Children carry a `position` so that arrays come back in the order they were sent, also after
-- an update that kept some ids and added others.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE SEQUENCE object_id_seq AS bigint START 1;

-- One table for both roles: a registered source server, and a task's target server. The trees
-- below a server (disks, volume groups, Btrfs, networks) are therefore shared by both roles.
-- A target server belongs to exactly one task (`task_id`, added below once `tasks` exists).
CREATE TABLE servers (
    id                      uuid PRIMARY KEY,
    domain_id               text NOT NULL,
    role                    text NOT NULL CHECK (role IN ('source', 'target')),
    name                    text CHECK (char_length(name) <= 255),
    hostname                text CHECK (char_length(hostname) <= 255),
    ip                      text CHECK (char_length(ip) <= 255),
    ipv6                    text CHECK (char_length(ipv6) <= 255),
    os_type                 text CHECK (os_type IN ('WINDOWS', 'LINUX')),
    os_version              text CHECK (char_length(os_version) <= 255),
    virtualization_type     text CHECK (char_length(virtualization_type) <= 255),
    linux_block_check       text CHECK (char_length(linux_block_check) <= 255),
    firmware                text CHECK (firmware IN ('BIOS', 'UEFI')),
    cpu_quantity            integer CHECK (cpu_quantity BETWEEN 0 AND 65535),
    memory                  bigint CHECK (memory >= 0),
    -- `domain_id` as the agent reported it in the body; not the tenant above.
    reported_domain_id      text CHECK (char_length(reported_domain_id) <= 255),
    has_rsync               boolean,
    paravirtualization      boolean,
    raw_devices             text CHECK (char_length(raw_devices) <= 255),
    driver_files            boolean,
    system_services         boolean,
    account_rights          boolean,
    boot_loader             text CHECK (boot_loader IN ('GRUB', 'LILO')),
    system_dir              text CHECK (char_length(system_dir) <= 255),
    agent_version           text CHECK (char_length(agent_version) <= 255),
    kernel_version          text CHECK (char_length(kernel_version) <= 255),
    migration_cycle         text CHECK (migration_cycle IN
                                ('cutovering', 'cutovered', 'checking', 'setting', 'replicating', 'syncing')),
    state                   text CHECK (state IN
                                ('unavailable', 'waiting', 'initialize', 'replicate', 'syncing', 'stopping',
                                 'stopped', 'skipping', 'deleting', 'clearing', 'cleared', 'clearfailed',
                                 'premigready', 'premiged', 'premigfailed', 'cloning', 'cutovering',
                                 'finished', 'error')),
    oem_system              boolean,
    start_type              text CHECK (start_type IN ('MANUAL', 'MGC', '')),
    io_read_wait            double precision CHECK (io_read_wait BETWEEN 0 AND 10000),
    has_tc                  boolean,
    platform                text CHECK (platform IN
                                ('hw', 'ali', 'aws', 'azure', 'gcp', 'tencent', 'vmware', 'hyperv', 'other', 'default')),
    enterprise_project_id   text CHECK (char_length(enterprise_project_id) <= 255),
    connected               boolean NOT NULL DEFAULT true,
    add_date                bigint NOT NULL CHECK (add_date >= 0),
    -- Target-server attributes (TargetServer, TaskTargetServer).
    vm_id                   text CHECK (char_length(vm_id) <= 255),
    flavor                  text CHECK (char_length(flavor) <= 255),
    image_disk_id           text CHECK (char_length(image_disk_id) <= 255),
    snapshot_ids            text CHECK (char_length(snapshot_ids) <= 255),
    cutovered_snapshot_ids  text CHECK (char_length(cutovered_snapshot_ids) <= 255)
);

CREATE INDEX servers_source_list_idx ON servers (domain_id, add_date DESC, id DESC) WHERE role = 'source';

CREATE TABLE disks (
    id              bigint PRIMARY KEY DEFAULT nextval('object_id_seq'),
    domain_id       text NOT NULL,
    server_id       uuid NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    position        integer NOT NULL CHECK (position >= 0),
    name            text CHECK (char_length(name) <= 255),
    disk_id         text CHECK (char_length(disk_id) <= 255),
    device_use      text CHECK (device_use IN ('BOOT', 'OS', 'NORMAL')),
    partition_style text CHECK (partition_style IN ('MBR', 'GPT')),
    size            bigint CHECK (size >= 0),
    used_size       bigint CHECK (used_size >= 0),
    os_disk         boolean,
    relation_name   text CHECK (char_length(relation_name) <= 255),
    inode_size      integer CHECK (inode_size >= 0),
    disk_index      text CHECK (char_length(disk_index) <= 255),
    -- Deferred: an update may reorder children in place.
    UNIQUE (server_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE physical_volumes (
    id               bigint PRIMARY KEY DEFAULT nextval('object_id_seq'),
    domain_id        text NOT NULL,
    -- The owning disk row (`disks.id`); `disks.disk_id` is the API's own disk identifier.
    disk_row_id      bigint NOT NULL REFERENCES disks (id) ON DELETE CASCADE,
    position         integer NOT NULL CHECK (position >= 0),
    device_use       text CHECK (char_length(device_use) <= 255),
    file_system      text CHECK (char_length(file_system) <= 255),
    volume_index     integer CHECK (volume_index >= 0),
    mount_point      text CHECK (char_length(mount_point) <= 255),
    name             text CHECK (char_length(name) <= 255),
    size             bigint CHECK (size >= 0),
    used_size        bigint CHECK (used_size >= 0),
    free_size        bigint CHECK (free_size >= 0),
    inode_size       bigint CHECK (inode_size >= 0),
    inode_nums       bigint CHECK (inode_nums >= 0),
    uuid             text CHECK (char_length(uuid) <= 255),
    size_per_cluster integer CHECK (size_per_cluster >= 0),
    relation_name    text CHECK (char_length(relation_name) <= 255),
    -- Deferred: an update may reorder children in place.
    UNIQUE (disk_row_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE volume_groups (
    id          bigint PRIMARY KEY DEFAULT nextval('object_id_seq'),
    domain_id   text NOT NULL,
    server_id   uuid NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    position    integer NOT NULL CHECK (position >= 0),
    name        text CHECK (char_length(name) <= 255),
    components  text CHECK (char_length(components) <= 255),
    size        bigint CHECK (size >= 0),
    free_size   bigint CHECK (free_size >= 0),
    -- Deferred: an update may reorder children in place.
    UNIQUE (server_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE logical_volumes (
    id              bigint PRIMARY KEY DEFAULT nextval('object_id_seq'),
    domain_id       text NOT NULL,
    volume_group_id bigint NOT NULL REFERENCES volume_groups (id) ON DELETE CASCADE,
    position        integer NOT NULL CHECK (position >= 0),
    name            text CHECK (char_length(name) <= 1024),
    block_count     integer CHECK (block_count >= 0),
    block_size      bigint CHECK (block_size BETWEEN 0 AND 1048576),
    file_system     text CHECK (char_length(file_system) <= 255),
    inode_size      integer CHECK (inode_size >= 0),
    inode_nums      bigint CHECK (inode_nums >= 0),
    device_use      text CHECK (char_length(device_use) <= 255),
    mount_point     text CHECK (char_length(mount_point) <= 256),
    size            bigint CHECK (size >= 0),
    used_size       bigint CHECK (used_size >= 0),
    free_size       bigint CHECK (free_size >= 0),
    -- Deferred: an update may reorder children in place.
    UNIQUE (volume_group_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE btrfs_filesystems (
    id                       bigint PRIMARY KEY DEFAULT nextval('object_id_seq'),
    domain_id                text NOT NULL,
    server_id                uuid NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    position                 integer NOT NULL CHECK (position >= 0),
    name                     text CHECK (char_length(name) <= 255),
    label                    text CHECK (char_length(label) <= 255),
    uuid                     text CHECK (char_length(uuid) <= 255),
    device                   text CHECK (char_length(device) <= 255),
    size                     bigint CHECK (size >= 0),
    nodesize                 bigint CHECK (nodesize >= 0),
    sectorsize               integer CHECK (sectorsize >= 0),
    data_profile             text CHECK (char_length(data_profile) <= 255),
    system_profile           text CHECK (char_length(system_profile) <= 255),
    metadata_profile         text CHECK (char_length(metadata_profile) <= 255),
    global_reserve1          text CHECK (char_length(global_reserve1) <= 255),
    g_vol_used_size          bigint CHECK (g_vol_used_size >= 0),
    default_subvolid         text CHECK (char_length(default_subvolid) <= 255),
    default_subvol_name      text CHECK (char_length(default_subvol_name) <= 255),
    default_subvol_mountpath text CHECK (char_length(default_subvol_mountpath) <= 255),
    -- Deferred: an update may reorder children in place.
    UNIQUE (server_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE btrfs_subvolumes (
    id                bigint PRIMARY KEY DEFAULT nextval('object_id_seq'),
    domain_id         text NOT NULL,
    filesystem_id     bigint NOT NULL REFERENCES btrfs_filesystems (id) ON DELETE CASCADE,
    position          integer NOT NULL CHECK (position >= 0),
    uuid              text CHECK (char_length(uuid) <= 255),
    is_snapshot       text CHECK (char_length(is_snapshot) <= 255),
    subvol_id         text CHECK (char_length(subvol_id) <= 255),
    parent_id         text CHECK (char_length(parent_id) <= 255),
    subvol_name       text CHECK (char_length(subvol_name) <= 255),
    subvol_mount_path text CHECK (char_length(subvol_mount_path) <= 255),
    -- Deferred: an update may reorder children in place.
    UNIQUE (filesystem_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE networks (
    id        bigint PRIMARY KEY DEFAULT nextval('object_id_seq'),
    domain_id text NOT NULL,
    server_id uuid NOT NULL REFERENCES servers (id) ON DELETE CASCADE,
    position  integer NOT NULL CHECK (position >= 0),
    name      text CHECK (char_length(name) <= 255),
    ip        text CHECK (char_length(ip) <= 255),
    ipv6      text CHECK (char_length(ipv6) <= 255),
    netmask   text CHECK (char_length(netmask) <= 255),
    gateway   text CHECK (char_length(gateway) <= 255),
    mtu       integer CHECK (mtu >= 0),
    mac       text CHECK (char_length(mac) <= 255),
    -- Deferred: an update may reorder children in place.
    UNIQUE (server_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE tasks (
    id                        uuid PRIMARY KEY,
    domain_id                 text NOT NULL,
    -- At most one task per source server, enforced here and not only by a prior check.
    source_server_id          uuid NOT NULL UNIQUE REFERENCES servers (id) ON DELETE CASCADE,
    name                      text NOT NULL CHECK (char_length(name) <= 255),
    type                      text NOT NULL CHECK (type IN ('MIGRATE_FILE', 'MIGRATE_BLOCK')),
    os_type                   text CHECK (os_type IN ('WINDOWS', 'LINUX')),
    state                     text NOT NULL CHECK (state IN
                                  ('READY', 'RUNNING', 'SYNCING', 'MIGRATE_SUCCESS', 'SYNC_SUCCESS',
                                   'MIGRATE_FAIL', 'SYNC_FAIL', 'ABORTING', 'ABORT', 'SKIPPING', 'DELETING',
                                   'RESETING', 'SYNC_F_ROLLBACKING', 'SYNC_F_ROLLBACK_SUCCESS')),
    priority                  integer NOT NULL DEFAULT 1 CHECK (priority BETWEEN 0 AND 65535),
    speed_limit               integer NOT NULL DEFAULT 0 CHECK (speed_limit BETWEEN 0 AND 65535),
    start_target_server       boolean NOT NULL DEFAULT true,
    auto_start                boolean,
    migration_ip              text CHECK (char_length(migration_ip) <= 255),
    region_name               text NOT NULL CHECK (char_length(region_name) <= 255),
    region_id                 text NOT NULL CHECK (char_length(region_id) <= 255),
    project_name              text NOT NULL CHECK (char_length(project_name) <= 255),
    project_id                text NOT NULL CHECK (char_length(project_id) <= 255),
    enterprise_project_id     text CHECK (char_length(enterprise_project_id) BETWEEN 1 AND 255),
    vm_template_id            text CHECK (char_length(vm_template_id) <= 255),
    clonevm_template_id       text CHECK (char_length(clonevm_template_id) <= 100),
    use_public_ip             boolean NOT NULL DEFAULT true,
    use_ipv6                  boolean NOT NULL DEFAULT false,
    syncing                   boolean NOT NULL DEFAULT false,
    exist_server              boolean,
    start_network_check       boolean,
    over_speed_threshold      double precision NOT NULL DEFAULT 10 CHECK (over_speed_threshold BETWEEN 10 AND 100),
    is_need_consistency_check boolean,
    need_migration_test       boolean,
    target_disk_ids           text CHECK (char_length(target_disk_ids) <= 1024),
    connected                 boolean NOT NULL DEFAULT true,
    estimate_complete_time    bigint CHECK (estimate_complete_time >= 0),
    create_date               bigint NOT NULL CHECK (create_date >= 0),
    start_date                bigint CHECK (start_date >= 0),
    finish_date               bigint CHECK (finish_date >= 0),
    migrate_speed             double precision CHECK (migrate_speed BETWEEN 0 AND 10000),
    compress_rate             double precision CHECK (compress_rate BETWEEN 0 AND 10000),
    error_json                text CHECK (char_length(error_json) <= 1024),
    total_time                bigint CHECK (total_time >= 0),
    float_ip                  text CHECK (char_length(float_ip) <= 255),
    remain_seconds            bigint CHECK (remain_seconds >= 0),
    target_snapshot_id        text CHECK (char_length(target_snapshot_id) <= 255),
    log_collect_status        text CHECK (log_collect_status IN
                                  ('INIT', 'UPLOADING', 'UPLOAD_FAIL', 'UPLOADED', 'TELL_AGENT_TO_COLLECT',
                                   'WAIT_AGENT_COLLECT_ACK', 'AGENT_COLLECT_FAIL', 'AGENT_COLLECT_SUCCESS',
                                   'WAIT_SERVER_COLLECT', 'SERVER_COLLECT_FAIL', 'SERVER_COLLECT_SUCCESS',
                                   'TELL_AGENT_RESET_ACL', 'WAIT_AGENT_RESET_ACL_ACK')),
    total_cpu_usage           double precision CHECK (total_cpu_usage BETWEEN 0 AND 100),
    agent_cpu_usage           double precision CHECK (agent_cpu_usage BETWEEN 0 AND 100),
    total_mem_usage           double precision CHECK (total_mem_usage BETWEEN 0 AND 1048576),
    agent_mem_usage           double precision CHECK (agent_mem_usage BETWEEN 0 AND 1048576),
    total_disk_io             double precision CHECK (total_disk_io BETWEEN 0 AND 10000),
    agent_disk_io             double precision CHECK (agent_disk_io BETWEEN 0 AND 10000),
    subtask_info              text CHECK (char_length(subtask_info) <= 255)
);

-- List order is (create_date DESC, id DESC); one index per equality filter, each leading with
-- the tenant and ending in the list order, so a page is an index range scan whatever the size.
CREATE INDEX tasks_list_idx ON tasks (domain_id, create_date DESC, id DESC);
CREATE INDEX tasks_state_list_idx ON tasks (domain_id, state, create_date DESC, id DESC);
CREATE INDEX tasks_enterprise_project_list_idx
    ON tasks (domain_id, enterprise_project_id, create_date DESC, id DESC);
-- `name` is a case-insensitive substring filter (ILIKE), served by a trigram index.
CREATE INDEX tasks_name_trgm_idx ON tasks USING gin (name gin_trgm_ops);

ALTER TABLE servers
    ADD COLUMN task_id uuid UNIQUE REFERENCES tasks (id) ON DELETE CASCADE,
    ADD CONSTRAINT servers_target_has_task CHECK ((role = 'target') = (task_id IS NOT NULL));

-- CloneServer and NetworkCheckInfo are optional 1:1 objects of a task. They live in their own
-- tables so that "absent" (no row, served as null) is distinct from "present with empty
-- fields", and so the wide, hot `tasks` row does not carry fourteen mostly-null columns.
CREATE TABLE task_clone_servers (
    task_id     uuid PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    domain_id   text NOT NULL,
    vm_id       text CHECK (char_length(vm_id) <= 255),
    name        text CHECK (char_length(name) <= 255),
    clone_error text CHECK (char_length(clone_error) <= 255),
    clone_state text CHECK (char_length(clone_state) <= 255),
    error_msg   text CHECK (char_length(error_msg) <= 1024)
);

CREATE TABLE task_network_checks (
    task_id                  uuid PRIMARY KEY REFERENCES tasks (id) ON DELETE CASCADE,
    domain_id                text NOT NULL,
    domain_connectivity      boolean,
    destination_connectivity boolean,
    network_delay            double precision CHECK (network_delay BETWEEN 0 AND 10000),
    network_jitter           double precision CHECK (network_jitter BETWEEN 0 AND 10000),
    migration_speed          double precision CHECK (migration_speed BETWEEN 0 AND 10000),
    loss_percentage          double precision CHECK (loss_percentage BETWEEN 0 AND 100),
    cpu_usage                double precision CHECK (cpu_usage BETWEEN 0 AND 100),
    mem_usage                double precision CHECK (mem_usage BETWEEN 0 AND 100),
    evaluation_result        text CHECK (char_length(evaluation_result) BETWEEN 6 AND 8)
);

CREATE TABLE subtasks (
    id            bigint PRIMARY KEY DEFAULT nextval('object_id_seq'),
    domain_id     text NOT NULL,
    task_id       uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    position      integer NOT NULL CHECK (position >= 0),
    name          text CHECK (char_length(name) <= 255),
    progress      integer NOT NULL CHECK (progress BETWEEN 0 AND 100),
    start_date    bigint CHECK (start_date >= 0),
    end_date      bigint CHECK (end_date >= 0),
    migrate_speed double precision CHECK (migrate_speed BETWEEN 0 AND 10000),
    user_op       text CHECK (char_length(user_op) <= 50),
    process_trace text CHECK (char_length(process_trace) <= 2048),
    -- Deferred: an update may reorder children in place.
    UNIQUE (task_id, position) DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE special_configs (
    id            bigint PRIMARY KEY DEFAULT nextval('object_id_seq'),
    domain_id     text NOT NULL,
    task_id       uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    position      integer NOT NULL CHECK (position >= 0),
    config_key    text NOT NULL CHECK (config_key IN
                      ('MIGRATE_EXCLUDE_DIR', 'SYNC_EXCLUDE_DIR', 'ONLY_SYNC_DIR', 'CONSISTENCY_DIR',
                       'CONSISTENCY_DIR_ILLEGAL', 'LINUX_BLOCK_COMPRESS_THREAD_NUM', 'MIGRATE_DST_IP',
                       'LINUX_BLOCK_CACHE_SIZE', 'LINUX_CPU_LIMIT', 'LINUX_MEM_LIMIT', 'LINUX_IO_LIMIT',
                       'NUM_PROCESS_MIGRATE', 'NUM_PROCESS_SYNC', 'CONSISTENCY_RECHECK', 'CONSISTENCY_MODE',
                       'DYNAMIC_PORT')),
    config_value  text CHECK (char_length(config_value) <= 1024),
    config_status text CHECK (char_length(config_status) <= 255),
    -- Deferred: an update may reorder children in place.
    UNIQUE (task_id, position) DEFERRABLE INITIALLY DEFERRED
);
