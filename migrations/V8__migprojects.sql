-- Migration projects (`/v3/migprojects`, api-decisions.md "Templates and migration projects"):
-- the table, the one default project per domain, and each source server's project.
--
-- Settings carry their API names (`PostMigProjectBody`). Ranges are the widest that any
-- version of the public pages allows, so that no client that the public service accepts is
-- refused here.

CREATE TABLE migprojects (
    id                  uuid PRIMARY KEY,
    domain_id           text NOT NULL,
    name                text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 255),
    description         text CHECK (char_length(description) <= 255),
    isdefault           boolean NOT NULL DEFAULT false,
    region              text NOT NULL CHECK (char_length(region) <= 255),
    start_target_server boolean NOT NULL,
    speed_limit         integer NOT NULL CHECK (speed_limit BETWEEN 0 AND 10000),
    use_public_ip       boolean NOT NULL,
    exist_server        boolean NOT NULL,
    type                text NOT NULL CHECK (type IN ('MIGRATE_BLOCK', 'MIGRATE_FILE')),
    enterprise_project  text CHECK (char_length(enterprise_project) <= 255),
    syncing             boolean NOT NULL,
    start_network_check boolean NOT NULL,
    created_at          bigint NOT NULL CHECK (created_at >= 0)
);

-- At most one default project per domain: the database holds the rule, so two requests that
-- both find no default and both create one cannot both succeed.
CREATE UNIQUE INDEX migprojects_one_default_idx ON migprojects (domain_id) WHERE isdefault;
-- The list: the domain's projects, oldest first.
CREATE INDEX migprojects_list_idx ON migprojects (domain_id, created_at, id);

-- The project a source server belongs to (targets belong to none). A project that still has
-- servers cannot be deleted, also when a server joins it while the delete runs.
ALTER TABLE servers ADD COLUMN migproject_id uuid REFERENCES migprojects (id) ON DELETE RESTRICT;
-- `GET /v3/sources?migproject=…`, and the "has sources" probe of a delete.
CREATE INDEX servers_migproject_idx ON servers (domain_id, migproject_id) WHERE migproject_id IS NOT NULL;
