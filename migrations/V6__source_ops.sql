-- `PUT /v3/sources/{id}` (`PutSourceServerBody`): whether each disk, physical volume, volume
-- group and logical volume is migrated, and the size it is adjusted to. The defaults are the
-- page's (`need_migration` true, `adjust_size` 0), so every existing and every newly written
-- node has them until an update names it. Target servers share these tables and keep the
-- defaults.
ALTER TABLE disks
    ADD COLUMN need_migration boolean NOT NULL DEFAULT true,
    ADD COLUMN adjust_size bigint NOT NULL DEFAULT 0 CHECK (adjust_size >= 0);
ALTER TABLE physical_volumes
    ADD COLUMN need_migration boolean NOT NULL DEFAULT true,
    ADD COLUMN adjust_size bigint NOT NULL DEFAULT 0 CHECK (adjust_size >= 0);
ALTER TABLE volume_groups
    ADD COLUMN need_migration boolean NOT NULL DEFAULT true,
    ADD COLUMN adjust_size bigint NOT NULL DEFAULT 0 CHECK (adjust_size >= 0);
ALTER TABLE logical_volumes
    ADD COLUMN need_migration boolean NOT NULL DEFAULT true,
    ADD COLUMN adjust_size bigint NOT NULL DEFAULT 0 CHECK (adjust_size >= 0);

-- `GET /v3/errors`: a domain's failed tasks, found by state without scanning its other tasks.
CREATE INDEX tasks_failed_idx ON tasks (domain_id, source_server_id) WHERE state IN ('MIGRATE_FAIL', 'SYNC_FAIL');
