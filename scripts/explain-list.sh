#!/usr/bin/env bash
# Prints EXPLAIN (ANALYZE, BUFFERS) of the statements `GET /v3/tasks` runs, on a seeded
# database: the count, the page query for no filter and for each filter, at offsets 0 and
# 65,000, and the per-page child queries.
#
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/sms_plans \
#     cargo run --release -- seed --domain plans-domain --tasks 1000000 --seed 7
#   scripts/explain-list.sh postgres://postgres@127.0.0.1:5432/sms_plans plans-domain
set -euo pipefail
url=${1:?usage: explain-list.sh DATABASE_URL DOMAIN}
domain=${2:?usage: explain-list.sh DATABASE_URL DOMAIN}

q() { psql "$url" -XAtq -v ON_ERROR_STOP=1 -c "$1"; }
explain() {
    printf '\n### %s\n\n```sql\n%s\n```\n\n```\n' "$1" "$2"
    # Run once to warm the cache, then show the plan of the second run.
    psql "$url" -Xq -c "$2" >/dev/null
    psql "$url" -XAtq -c "EXPLAIN (ANALYZE, BUFFERS) $2"
    printf '```\n'
}
page() { # page CONDITIONS OFFSET: the two shapes of store::tasks::page_query
    if [ "$2" -lt 2000 ]; then
        echo "SELECT * FROM tasks WHERE domain_id = '$domain'$1 ORDER BY create_date DESC, id DESC LIMIT 200 OFFSET $2"
    else
        echo "SELECT t.* FROM (SELECT id, create_date FROM tasks WHERE domain_id = '$domain'$1 ORDER BY create_date DESC, id DESC LIMIT 200 OFFSET $2) page JOIN tasks t ON t.id = page.id ORDER BY page.create_date DESC, page.id DESC"
    fi
}

task_id=$(q "SELECT id FROM tasks WHERE domain_id = '$domain' ORDER BY create_date DESC OFFSET 500000 LIMIT 1")
source_id=$(q "SELECT source_server_id FROM tasks WHERE id = '$task_id'")
tasks=$(q "SELECT count(*) FROM tasks WHERE domain_id = '$domain'")
echo "Tasks in domain \`$domain\`: $tasks. PostgreSQL: $(q 'SHOW server_version'). Generated $(date -u +%FT%TZ)."

explain "Count, no filter (maintained counters)" "SELECT coalesce(sum(n), 0)::bigint FROM task_counts WHERE domain_id = '$domain'"
explain "Count, state and enterprise project (maintained counters)" "SELECT coalesce(sum(n), 0)::bigint FROM task_counts WHERE domain_id = '$domain' AND state = 'RUNNING' AND enterprise_project_id = 'ep-retail'"
explain "Count, name filter (its matches, through the trigram index)" "SELECT count(*) FROM tasks WHERE domain_id = '$domain' AND name ILIKE '%0042%'"
explain "Page, no filter, offset 0" "$(page '' 0)"
explain "Page, no filter, offset 1,000" "$(page '' 1000)"
explain "Page, no filter, offset 65,000 (deferred join)" "$(page '' 65000)"
explain "Page, state, offset 0" "$(page " AND state = 'RUNNING'" 0)"
explain "Page, state, offset 65,000 (deferred join)" "$(page " AND state = 'RUNNING'" 65000)"
explain "Page, enterprise_project_id, offset 65,000 (deferred join)" "$(page " AND enterprise_project_id = 'ep-retail'" 65000)"
explain "Page, enterprise_project_id, offset 0" "$(page " AND enterprise_project_id = 'ep-retail'" 0)"
explain "Page, state and enterprise_project_id, offset 0" "$(page " AND state = 'RUNNING' AND enterprise_project_id = 'ep-retail'" 0)"
explain "Page, id" "$(page " AND id = '$task_id'" 0)"
explain "Page, source_server_id" "$(page " AND source_server_id = '$source_id'" 0)"
explain "Page, name substring (rare: 0042 matches ~1 in 10,000 names)" "$(page " AND name ILIKE '%0042%'" 0)"
explain "Page, name substring (common: 'alpha' matches ~1 in 20 names)" "$(page " AND name ILIKE '%alpha%'" 0)"
ids=$(q "SELECT '{' || string_agg(id::text, ',') || '}' FROM (SELECT id FROM tasks WHERE domain_id = '$domain' ORDER BY create_date DESC, id DESC LIMIT 200) p")
explain "Children of a page: subtasks" "SELECT * FROM subtasks WHERE domain_id = '$domain' AND task_id = ANY('$ids'::uuid[]) ORDER BY task_id, position"
explain "Children of a page: target servers" "SELECT id, task_id, vm_id, name, ip, os_type, os_version FROM servers WHERE domain_id = '$domain' AND task_id = ANY('$ids'::uuid[])"
