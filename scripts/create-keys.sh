#!/usr/bin/env bash
# The create path with random (UUID v4) against time-ordered (UUID v7) task and target ids, on
# the same database: pgbench runs the benchmark's create script (the service's own statements,
# bench/src/pgbench.rs), as kept by `--keep`, once as it is (v7, as the service makes them) and
# once with `gen_random_uuid()` (v4, as the service made them before), alternately, with a
# fresh pool of sources before each run. It prints each run's tps and its WAL bytes per create.
#
#   cargo run --release -p sms-tasks-bench -- --sizes 1000000 --keep    # prints the kept directory
#   scripts/create-keys.sh /tmp/sms-bench-12345 postgres://postgres@127.0.0.1:5432/sms_bench_1000000
set -euo pipefail
dir=${1:?usage: create-keys.sh KEPT_BENCH_DIR DATABASE_URL [SECONDS] [ROUNDS]}
url=${2:?usage: create-keys.sh KEPT_BENCH_DIR DATABASE_URL [SECONDS] [ROUNDS]}
secs=${3:-10}
rounds=${4:-2}
domain=bench-domain

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$dir/pgbench-create.sql" "$work/v7.sql"
# The lock statement's UUID v7 expression (pgbench.rs `UUID_V7`) becomes a v4.
sed -E "s/encode\(set_bit\(set_bit\(overlay\(uuid_send\(gen_random_uuid\(\)\) PLACING substring\(int8send\(\(extract\(epoch FROM clock_timestamp\(\)\) \* 1000\)::bigint\) FROM 3\) FROM 1 FOR 6\), 52, 1\), 53, 1\), 'hex'\)::uuid/gen_random_uuid()/g" \
    "$work/v7.sql" >"$work/v4.sql"
grep -q "gen_random_uuid() AS new_task" "$work/v4.sql" || { echo "the create script has no UUID v7 expression to replace" >&2; exit 1; }

# The kept command line, with this database, run time and script.
command=$(sed -n 2p "$dir/pgbench-create.sh" | sed -E "s/^exec //; s/ \"\\\$@\"$//")
q() { psql "$url" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
for round in $(seq "$rounds"); do
    for keys in v7 v4; do
        # The pool sources of insert_source_pool (8 clients); deleting them deletes their tasks.
        q "DELETE FROM servers WHERE domain_id = '$domain' AND role = 'source' AND name LIKE 'zz-bench-pgb-%'"
        q "INSERT INTO servers (id, domain_id, role, name, ip, os_type, os_version, state, connected, add_date)
           SELECT ('ffffffff-0000-4000-8000-' || lpad((c * 10000000 + k)::text, 12, '0'))::uuid, '$domain', 'source',
                  'zz-bench-pgb-' || (c * 10000000 + k), '10.250.0.1', 'LINUX', 'CENTOS_7_64BIT', 'waiting', true,
                  (extract(epoch FROM clock_timestamp()) * 1000)::bigint
             FROM generate_series(0, 7) c, generate_series(1, $((secs * 1500))) k"
        before=$(q "SELECT pg_current_wal_lsn()")
        tasks_before=$(q "SELECT count(*) FROM tasks WHERE domain_id = '$domain'")
        run=$(echo "$command" | sed -E "s#'[^']*pgbench-create.sql'#'$work/$keys.sql'#; s#'-T' '[0-9]+'#'-T' '$secs'#; s#'postgres://[^']*'#'$url'#")
        out=$(eval "$run" 2>&1)
        created=$(( $(q "SELECT count(*) FROM tasks WHERE domain_id = '$domain'") - tasks_before ))
        wal=$(q "SELECT round(pg_wal_lsn_diff(pg_current_wal_lsn(), '$before') / greatest($created, 1))")
        echo "round $round, $keys: $(echo "$out" | grep '^tps' | cut -d' ' -f3) tps, $created creates, $wal WAL bytes per create (server-wide)"
    done
done
q "DELETE FROM servers WHERE domain_id = '$domain' AND role = 'source' AND name LIKE 'zz-bench-pgb-%'"
