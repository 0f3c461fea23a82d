//! `GET /v3/tasks`: filters, paging, order, the fields of each element, and tenancy
//! (`api-decisions.md`, List; seed 002).

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::fixtures::*;
use crate::helpers::*;

/// The count and the ids (sorted) of the tasks matching `query`, on one page of 200.
async fn matching(app: &TestApp, query: &[(&str, &str)]) -> (i64, Vec<String>) {
    let mut query = query.to_vec();
    query.push(("limit", "200"));
    let body = list(app, &query).await;
    let found = ids(&body);
    assert_eq!(count(&body) as usize, found.len(), "count and tasks disagree for {query:?}: {body}");
    (count(&body), sorted(&found))
}

/// Asserts that `query` matches exactly `expected`.
async fn assert_matches(app: &TestApp, query: &[(&str, &str)], expected: &[&String]) {
    let (n, found) = matching(app, query).await;
    assert_eq!(found, sorted(expected), "tasks matching {query:?}");
    assert_eq!(n, expected.len() as i64, "count for {query:?}");
}

#[tokio::test]
async fn the_state_filter_matches_the_state_exactly() {
    let app = spawn_app().await;
    let t = create_tasks(&app, TOKEN_A, &names("state", 3)).await;
    put_ok(&app, &t[0].task, &json!({ "state": "RUNNING" })).await;
    put_ok(&app, &t[1].task, &json!({ "state": "SYNC_FAIL" })).await;

    assert_matches(&app, &[("state", "RUNNING")], &[&t[0].task]).await;
    assert_matches(&app, &[("state", "SYNC_FAIL")], &[&t[1].task]).await;
    assert_matches(&app, &[("state", "READY")], &[&t[2].task]).await;
    assert_matches(&app, &[("state", "MIGRATE_SUCCESS")], &[]).await;
    // Both lists of seed 002 are accepted.
    assert_matches(&app, &[("state", "SYNC_F_ROLLBACK_SUCCESS")], &[]).await;
    assert_matches(&app, &[], &[&t[0].task, &t[1].task, &t[2].task]).await;
}

#[tokio::test]
async fn the_name_filter_is_a_case_insensitive_literal_substring() {
    let app = spawn_app().await;
    let all_names = ["MigrationTask", "a_b", "axb", "ab", "under_score", "t5", "t6", "t7"].map(String::from);
    let created = create_tasks(&app, TOKEN_A, &all_names).await;
    let by_name = |name: &str| created[all_names.iter().position(|n| n == name).unwrap()].task.clone();
    let (migration, a_b, axb, ab, under_score) =
        (by_name("MigrationTask"), by_name("a_b"), by_name("axb"), by_name("ab"), by_name("under_score"));
    // Names beyond the create pattern ([A-Za-z0-9_-]) are set through PUT (0–255 characters).
    let (percent, no_percent, backslash) = (by_name("t5"), by_name("t6"), by_name("t7"));
    put_ok(&app, &percent, &json!({ "name": "50%off" })).await;
    put_ok(&app, &no_percent, &json!({ "name": "50xoff" })).await;
    put_ok(&app, &backslash, &json!({ "name": "back\\slash" })).await;

    assert_matches(&app, &[("name", "MiGrAt")], &[&migration]).await;
    assert_matches(&app, &[("name", "migrationtask")], &[&migration]).await;
    assert_matches(&app, &[("name", "TASK")], &[&migration]).await;
    // `_` is not a one-character wildcard.
    assert_matches(&app, &[("name", "a_b")], &[&a_b]).await;
    assert_matches(&app, &[("name", "_")], &[&a_b, &under_score]).await;
    assert_matches(&app, &[("name", "ab")], &[&ab]).await;
    assert_matches(&app, &[("name", "axb")], &[&axb]).await;
    // `%` is not a wildcard either.
    assert_matches(&app, &[("name", "%")], &[&percent]).await;
    assert_matches(&app, &[("name", "0%O")], &[&percent]).await;
    assert_matches(&app, &[("name", "50")], &[&percent, &no_percent]).await;
    // Nor is `\` an escape character.
    assert_matches(&app, &[("name", "\\")], &[&backslash]).await;
    assert_matches(&app, &[("name", "k\\s")], &[&backslash]).await;
    assert_matches(&app, &[("name", "nothing-like-it")], &[]).await;
}

#[tokio::test]
async fn the_id_and_source_server_id_filters_match_one_task() {
    let app = spawn_app().await;
    let t = create_tasks(&app, TOKEN_A, &names("ids", 3)).await;

    assert_matches(&app, &[("id", &t[1].task)], &[&t[1].task]).await;
    assert_matches(&app, &[("source_server_id", &t[2].source)], &[&t[2].task]).await;
    // A task id is not a source server id, nor the other way round.
    assert_matches(&app, &[("source_server_id", &t[1].task)], &[]).await;
    assert_matches(&app, &[("id", &t[1].source)], &[]).await;
    // Upper case names the same UUID.
    assert_matches(&app, &[("id", &t[0].task.to_uppercase())], &[&t[0].task]).await;
    // An id that is not a UUID matches nothing (and is not an error).
    assert_matches(&app, &[("id", "not-a-uuid")], &[]).await;
    assert_matches(&app, &[("source_server_id", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxx0001")], &[]).await;
    assert_matches(&app, &[("id", &uuid::Uuid::new_v4().to_string())], &[]).await;
}

#[tokio::test]
async fn the_enterprise_project_filter_sees_both_update_spellings() {
    let app = spawn_app().await;
    let t = create_tasks(&app, TOKEN_A, &names("ep", 3)).await;
    put_ok(&app, &t[0].task, &json!({ "enterprise_project_id": "ep-1" })).await;
    // The SDK's PutTaskReq names it `enterprise_project`.
    put_ok(&app, &t[1].task, &json!({ "enterprise_project": "ep-2" })).await;

    assert_matches(&app, &[("enterprise_project_id", "ep-1")], &[&t[0].task]).await;
    assert_matches(&app, &[("enterprise_project_id", "ep-2")], &[&t[1].task]).await;
    // Exact, not a substring nor case-insensitive.
    assert_matches(&app, &[("enterprise_project_id", "ep")], &[]).await;
    assert_matches(&app, &[("enterprise_project_id", "EP-1")], &[]).await;

    let body = list(&app, &[("id", &t[1].task)]).await;
    assert_eq!(body["tasks"][0]["enterprise_project_id"], "ep-2");
    let body = list(&app, &[("id", &t[2].task)]).await;
    assert_eq!(body["tasks"][0]["enterprise_project_id"], Value::Null);
}

#[tokio::test]
async fn filters_combine_with_and() {
    let app = spawn_app().await;
    let t = create_tasks(&app, TOKEN_A, &sorted(&["alpha-1", "alpha-2", "alpha-3", "beta-1"])).await;
    let (alpha1, alpha2, alpha3, beta1) = (&t[0], &t[1], &t[2], &t[3]);
    put_ok(&app, &alpha1.task, &json!({ "state": "RUNNING", "enterprise_project_id": "ep-1" })).await;
    put_ok(&app, &alpha2.task, &json!({ "state": "RUNNING", "enterprise_project_id": "ep-2" })).await;
    put_ok(&app, &alpha3.task, &json!({ "enterprise_project_id": "ep-1" })).await;
    put_ok(&app, &beta1.task, &json!({ "state": "RUNNING", "enterprise_project_id": "ep-1" })).await;

    assert_matches(&app, &[("state", "RUNNING"), ("name", "alpha")], &[&alpha1.task, &alpha2.task]).await;
    assert_matches(&app, &[("state", "RUNNING"), ("enterprise_project_id", "ep-1")], &[&alpha1.task, &beta1.task])
        .await;
    assert_matches(
        &app,
        &[("state", "RUNNING"), ("name", "ALPHA"), ("enterprise_project_id", "ep-1")],
        &[&alpha1.task],
    )
    .await;
    assert_matches(&app, &[("state", "READY"), ("name", "alpha"), ("enterprise_project_id", "ep-1")], &[&alpha3.task])
        .await;
    assert_matches(&app, &[("id", &alpha1.task), ("state", "READY")], &[]).await;
    assert_matches(&app, &[("id", &alpha1.task), ("state", "RUNNING"), ("name", "1")], &[&alpha1.task]).await;
    assert_matches(&app, &[("source_server_id", &alpha3.source), ("enterprise_project_id", "ep-1")], &[&alpha3.task])
        .await;
    assert_matches(&app, &[("source_server_id", &alpha3.source), ("enterprise_project_id", "ep-2")], &[]).await;
    assert_matches(&app, &[("name", "beta"), ("enterprise_project_id", "ep-2")], &[]).await;
}

#[tokio::test]
async fn invalid_query_values_are_refused_naming_the_parameter() {
    let app = spawn_app().await;
    create_tasks(&app, TOKEN_A, &names("q", 1)).await;
    let long_id = "a".repeat(37);
    let cases: &[(&str, &str)] = &[
        ("limit", "-1"),
        ("limit", "201"),
        ("limit", "abc"),
        ("limit", ""),
        ("limit", "1.0"),
        ("offset", "-1"),
        ("offset", "65536"),
        ("offset", "1.5"),
        ("offset", "x"),
        ("state", "NOPE"),
        ("state", "running"),
        ("state", ""),
        ("id", &long_id),
        ("id", ""),
        ("source_server_id", ""),
        ("source_server_id", &long_id),
        ("name", &"n".repeat(256)),
    ];
    let mut failures = Vec::new();
    for (name, value) in cases {
        let reply = list_reply_as(&app, TOKEN_A, &[(name, value)]).await;
        if let Err(problem) = reply.check_invalid(name) {
            failures.push(format!("{name}={value:?}: {problem}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn limit_and_offset_bound_the_page_but_never_the_count() {
    let app = spawn_app().await;
    let created = create_tasks(&app, TOKEN_A, &names("many", 250)).await;
    let all: HashSet<String> = created.iter().map(|c| c.task.clone()).collect();

    let page = |limit: &'static str, offset: &'static str| {
        let app = &app;
        async move {
            let mut query = vec![];
            if !limit.is_empty() {
                query.push(("limit", limit));
            }
            if !offset.is_empty() {
                query.push(("offset", offset));
            }
            let body = list(app, &query).await;
            assert_eq!(count(&body), 250, "count with limit={limit:?} offset={offset:?}");
            ids(&body)
        }
    };

    assert_eq!(page("0", "").await, Vec::<String>::new(), "limit 0 returns only the count");
    assert_eq!(page("1", "").await.len(), 1);
    let first_200 = page("200", "").await;
    assert_eq!(first_200.len(), 200);
    assert_eq!(first_200.iter().collect::<HashSet<_>>().len(), 200, "no task twice on a page");
    let default = page("", "").await;
    assert_eq!(default.len(), 100, "the default limit is 100");
    assert_eq!(default[..], first_200[..100]);
    let last = page("100", "200").await;
    assert_eq!(last.len(), 50);
    let everything: HashSet<String> = first_200.iter().chain(&last).cloned().collect();
    assert_eq!(everything, all, "two pages hold every task");
    assert_eq!(page("200", "249").await.len(), 1);
    assert_eq!(page("0", "249").await.len(), 0);
    assert_eq!(page("", "250").await, Vec::<String>::new(), "offset at the end");
    assert_eq!(page("", "65535").await, Vec::<String>::new(), "offset past the end");
    assert_eq!(page("7", "3").await[..], first_200[3..10]);

    list_reply_as(&app, TOKEN_A, &[("limit", "201")]).await.assert_invalid("limit");
}

/// Sets the tasks' `create_date` through PUT and returns the ids in the list order the
/// service must use: `create_date` descending, then `id` descending.
async fn with_dates(app: &TestApp, created: &[Created], date_of: impl Fn(usize) -> i64) -> Vec<String> {
    let mut dated = Vec::new();
    for (i, c) in created.iter().enumerate() {
        put_ok(app, &c.task, &json!({ "create_date": date_of(i) })).await;
        dated.push((date_of(i), c.task.clone()));
    }
    // A hyphenated lowercase UUID sorts as text the way PostgreSQL sorts the uuid.
    dated.sort_by(|a, b| b.cmp(a));
    dated.into_iter().map(|(_, id)| id).collect()
}

#[tokio::test]
async fn tasks_are_listed_newest_first_then_by_id_descending() {
    let app = spawn_app().await;
    let created = create_tasks(&app, TOKEN_A, &names("order", 20)).await;
    // Groups of four tasks share a create_date, so the id decides within a group.
    let expected = with_dates(&app, &created, |i| 1_600_000_000_000 + (i as i64 % 5) * 1000).await;

    let body = list(&app, &[]).await;
    assert_eq!(ids(&body), expected);
    let dates: Vec<i64> =
        body["tasks"].as_array().unwrap().iter().map(|t| t["create_date"].as_i64().unwrap()).collect();
    assert!(dates.windows(2).all(|w| w[0] >= w[1]), "create_date descending: {dates:?}");

    // Paging with limit 7 yields each task exactly once, in the same order.
    let mut paged = Vec::new();
    for offset in (0..).step_by(7) {
        let page = ids(&list(&app, &[("limit", "7"), ("offset", &offset.to_string())]).await);
        let n = page.len();
        paged.extend(page);
        if n < 7 {
            break;
        }
    }
    assert_eq!(paged, expected);

    // A filtered list keeps the order: "order-1" matches order-1 and order-10 to order-19.
    let matching: HashSet<&String> =
        created.iter().enumerate().filter(|(i, _)| *i == 1 || *i >= 10).map(|(_, c)| &c.task).collect();
    let filtered: Vec<String> = expected.iter().filter(|id| matching.contains(id)).cloned().collect();
    assert_eq!(ids(&list(&app, &[("name", "order-1")]).await), filtered);
}

/// Offset paging over a newest-first list while tasks are created between page reads.
///
/// A client wants "no task skipped, no task twice". Newest-first order with offset paging
/// cannot give both: every task created between two reads lands at the head of the list and
/// pushes every older task one position further, so the next page starts that many positions
/// early and repeats the tail of the previous page. What the service can and must guarantee
/// is that no task that existed at the first read is ever skipped, and that a task appears
/// again only through that shift: the repeats on a page equal the tasks created since the
/// previous read.
#[tokio::test]
async fn paging_while_tasks_are_created_skips_nothing_and_repeats_only_the_shift() {
    let app = spawn_app().await;
    let created = create_tasks(&app, TOKEN_A, &names("old", 20)).await;
    // Old dates: every task created from now on is newer, so it lands at the head.
    let existing = with_dates(&app, &created, |i| 1_600_000_000_000 + i as i64).await;

    let inserted_before_page = [0usize, 2, 1, 0, 0];
    let mut inserted = 0;
    let mut new_tasks: HashSet<String> = HashSet::new();
    let mut seen: Vec<String> = Vec::new();
    for (k, &insert) in inserted_before_page.iter().enumerate() {
        for c in create_tasks(&app, TOKEN_A, &names(&format!("new-{k}"), insert)).await {
            new_tasks.insert(c.task);
        }
        inserted += insert;
        let offset = 7 * k;
        let body = list(&app, &[("limit", "7"), ("offset", &offset.to_string())]).await;
        assert_eq!(count(&body) as usize, existing.len() + inserted, "the count follows the creations");
        let page = ids(&body);
        // The newer tasks occupy the first `inserted` positions, before this offset.
        let start = (offset - inserted).min(existing.len());
        let end = (offset + 7 - inserted).min(existing.len());
        assert_eq!(page, existing[start..end], "page {k} is shifted by the {inserted} tasks created so far");
        assert!(page.iter().all(|id| !new_tasks.contains(id)), "a new task appears after its position was read");
        let repeats = page.iter().filter(|id| seen.contains(id)).count();
        assert_eq!(repeats, if k == 0 { 0 } else { insert }, "repeats on page {k} equal the tasks created since");
        seen.extend(page);
        if end == existing.len() {
            break;
        }
    }
    let unique: HashSet<&String> = seen.iter().collect();
    for id in &existing {
        assert!(unique.contains(id), "task {id} existed at the first read and was skipped");
    }
    assert_eq!(seen.len() - unique.len(), 3, "every repeat comes from the shift");
}

const LIST_FIELDS: &[&str] = &[
    "id",
    "name",
    "type",
    "os_type",
    "state",
    "estimate_complete_time",
    "create_date",
    "priority",
    "speed_limit",
    "migrate_speed",
    "compress_rate",
    "start_target_server",
    "error_json",
    "total_time",
    "migration_ip",
    "sub_tasks",
    "source_server",
    "enterprise_project_id",
    "target_server",
    "log_collect_status",
    "clone_server",
    "syncing",
    "network_check_info",
    "special_config",
    "total_cpu_usage",
    "agent_cpu_usage",
    "total_mem_usage",
    "agent_mem_usage",
    "total_disk_io",
    "agent_disk_io",
    "need_migration_test",
    "subtask_info",
];

#[tokio::test]
async fn each_element_carries_every_field_of_seed_002() {
    let app = spawn_app().await;
    let t = create_tasks(&app, TOKEN_A, &names("fields", 2)).await;
    put_ok(
        &app,
        &t[0].task,
        &json!({
            "sub_tasks": [subtask("CREATE_CLOUD_SERVER"), subtask("SSL_CONFIG")],
            "clone_server": {
                "vm_id": "clone-vm", "name": "clone-name", "clone_error": "none",
                "clone_state": "finished", "error_msg": "no error"
            },
            "migrate_speed": 12.5,
            "error_json": "{}",
            "total_time": 115,
            "estimate_complete_time": 1598435999000i64,
        }),
    )
    .await;

    let body = list(&app, &[]).await;
    assert_eq!(keys(&body), ["count", "tasks"]);
    let tasks = body["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 2);
    for item in tasks {
        let missing: Vec<&&str> = LIST_FIELDS.iter().filter(|f| item.get(**f).is_none()).collect();
        assert!(missing.is_empty(), "fields missing from a list element: {missing:?} in {item}");
        assert_eq!(
            keys(&item["source_server"]),
            sorted(&["id", "ip", "name", "os_type", "os_version", "oem_system", "state"]),
            "source_server: SourceServerAssociatedWithTask"
        );
        assert_eq!(
            keys(&item["target_server"]),
            sorted(&["id", "vm_id", "name", "ip", "os_type", "os_version"]),
            "target_server: TargetServerAssociatedWithTask"
        );
        assert!(item["special_config"].is_array() && item["sub_tasks"].is_array());

        // Every value the list shares with show is the same.
        let shown = show(&app, item["id"].as_str().unwrap()).await;
        for field in LIST_FIELDS {
            let listed = &item[*field];
            match shown.get(*field) {
                // Fields that show does not carry: nothing to compare.
                None => {
                    assert!(["syncing", "special_config", "log_collect_status"].contains(field), "show lacks {field}")
                }
                Some(shown) => assert_shown(listed, shown, field, &|_| false),
            }
        }
    }

    let updated = tasks.iter().find(|item| item["id"] == json!(&t[0].task)).expect("the updated task is listed");
    let subtasks = updated["sub_tasks"].as_array().unwrap();
    assert_eq!(subtasks.len(), 2);
    for subtask in subtasks {
        assert_eq!(
            keys(subtask),
            sorted(&["id", "name", "progress", "start_date", "end_date", "process_trace"]),
            "sub_tasks: SubTaskAssociatedWithTask"
        );
    }
    assert_eq!(subtasks[0]["name"], "CREATE_CLOUD_SERVER");
    assert_eq!(subtasks[1]["process_trace"], "trace of SSL_CONFIG");
    assert_eq!(updated["clone_server"], json!({ "vm_id": "clone-vm", "name": "clone-name" }));
    assert_eq!(updated["migrate_speed"], 12.5);
    assert_eq!(updated["total_time"], 115);
    assert_eq!(updated["source_server"]["id"], json!(t[0].source));

    let plain = tasks.iter().find(|item| item["id"] == json!(&t[1].task)).expect("the other task is listed");
    assert_eq!(plain["clone_server"], Value::Null);
    assert_eq!(plain["sub_tasks"], json!([]));
    assert_eq!(plain["special_config"], json!([]));
    assert_eq!(plain["network_check_info"], Value::Null);
    assert_eq!(plain["state"], "READY");
    assert_eq!(plain["syncing"], false);
    assert_eq!(plain["target_server"]["name"], "Auto-tar-name");
}

#[tokio::test]
async fn another_domains_tasks_are_never_counted_or_shown() {
    let app = spawn_app().await;
    let a = create_tasks(&app, TOKEN_A, &names("shared", 3)).await;
    let b = create_tasks(&app, TOKEN_B, &names("shared", 2)).await;
    put_ok(&app, &a[0].task, &json!({ "state": "RUNNING", "enterprise_project_id": "ep-shared" })).await;
    let reply = app.put_as(TOKEN_B, &task_path(&b[0].task), &json!({ "state": "RUNNING" })).await;
    reply.assert_ok();
    let reply = app.put_as(TOKEN_B, &task_path(&b[1].task), &json!({ "enterprise_project_id": "ep-shared" })).await;
    reply.assert_ok();

    for (token, own, other) in [(TOKEN_A, &a, &b), (TOKEN_B, &b, &a)] {
        let own_ids = sorted(&own.iter().map(|c| c.task.clone()).collect::<Vec<_>>());
        let body = list_as(&app, token, &[]).await;
        assert_eq!(count(&body), own.len() as i64, "{token} counts only its own tasks");
        assert_eq!(sorted(&ids(&body)), own_ids);
        let body = list_as(&app, token, &[("name", "shared"), ("limit", "0")]).await;
        assert_eq!(count(&body), own.len() as i64);
        for c in other.iter() {
            let body = list_as(&app, token, &[("id", &c.task)]).await;
            assert_eq!((count(&body), ids(&body)), (0, vec![]), "{token} sees another domain's task by id");
            let body = list_as(&app, token, &[("source_server_id", &c.source)]).await;
            assert_eq!((count(&body), ids(&body)), (0, vec![]), "{token} sees another domain's task by source");
        }
        let body = list_as(&app, token, &[("state", "RUNNING")]).await;
        assert_eq!(count(&body), 1);
        let body = list_as(&app, token, &[("enterprise_project_id", "ep-shared")]).await;
        assert_eq!(count(&body), 1);
        assert!(ids(&body).iter().all(|id| own.iter().any(|c| &c.task == id)));
    }
}
