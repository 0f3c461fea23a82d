-- Exact task counts without scanning: `GET /v3/tasks` with no filter, `state`,
-- `enterprise_project_id` or both reads these sums instead of counting matching rows.
--
-- Maintained by statement-level triggers in the same transaction as every write, so the sums
-- are always exact. Each writing backend adds to its own shard row (pg_backend_pid() % 16),
-- so concurrent creates in one domain do not queue on one hot row; reads sum the shards.
CREATE TABLE task_counts (
    domain_id             text NOT NULL,
    state                 text NOT NULL,
    -- '' stands for "no enterprise project" (a real one has at least one character).
    enterprise_project_id text NOT NULL,
    shard                 smallint NOT NULL CHECK (shard BETWEEN 0 AND 15),
    n                     bigint NOT NULL,
    PRIMARY KEY (domain_id, state, enterprise_project_id, shard)
);

-- An insert adds its rows to the counts, a delete takes its rows away.
CREATE FUNCTION task_counts_on_insert_or_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_counts AS c (domain_id, state, enterprise_project_id, shard, n)
    SELECT domain_id, state, coalesce(enterprise_project_id, ''), pg_backend_pid() % 16,
           CASE TG_OP WHEN 'INSERT' THEN count(*) ELSE -count(*) END
    FROM changed_rows GROUP BY 1, 2, 3
    ON CONFLICT (domain_id, state, enterprise_project_id, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

-- An update moves a task between counts only when its state or enterprise project changes;
-- other updates touch no counter row.
CREATE FUNCTION task_counts_on_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO task_counts AS c (domain_id, state, enterprise_project_id, shard, n)
    SELECT m.domain_id, m.state, m.project, pg_backend_pid() % 16, sum(m.delta)
    FROM (
        SELECT o.domain_id, o.state, coalesce(o.enterprise_project_id, '') AS project, -1 AS delta
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.state, o.enterprise_project_id) IS DISTINCT FROM (n.state, n.enterprise_project_id)
        UNION ALL
        SELECT n.domain_id, n.state, coalesce(n.enterprise_project_id, ''), 1
        FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.state, o.enterprise_project_id) IS DISTINCT FROM (n.state, n.enterprise_project_id)
    ) m
    GROUP BY 1, 2, 3
    ON CONFLICT (domain_id, state, enterprise_project_id, shard) DO UPDATE SET n = c.n + EXCLUDED.n;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_count_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION task_counts_on_insert_or_delete();
CREATE TRIGGER tasks_count_update AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION task_counts_on_update();
CREATE TRIGGER tasks_count_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION task_counts_on_insert_or_delete();

-- Counts of the tasks that exist when this migration runs.
INSERT INTO task_counts (domain_id, state, enterprise_project_id, shard, n)
SELECT domain_id, state, coalesce(enterprise_project_id, ''), 0, count(*) FROM tasks GROUP BY 1, 2, 3;
