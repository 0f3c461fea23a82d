//! The migration-project aggregate: the `migprojects` table, each domain's one default project
//! (made on first need), and which project a source server belongs to (`servers.migproject_id`).
//!
//! The default project is kept unique by the partial unique index
//! `migprojects_one_default_idx`; every change of which project is the default, and the
//! creation of the automatic one, also takes a per-domain advisory lock for the rest of its
//! transaction, so that they run one after the other and never meet the index as an error.
//! Functions that change the default therefore expect to run inside a transaction.

use sqlx::PgConnection;
use uuid::Uuid;

use super::{Assignments, RowSet, StoreError, StoreResult, Table};
use crate::model::migproject::{MigProjectPatch, MigProjectRow, MigProjectSettings, NewMigProject};
use crate::model::{now_ms, DomainId};

/// The SQLSTATE of a foreign-key violation.
const FOREIGN_KEY_VIOLATION: &str = "23503";

fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    err.as_database_error().and_then(|e| e.code()).is_some_and(|code| code == FOREIGN_KEY_VIOLATION)
}

/// Serializes, until the end of the current transaction, the changes of the domain's default.
async fn lock_default(conn: &mut PgConnection, domain: &DomainId) -> sqlx::Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('sms-tasks/migprojects/default/' || $1, 0))")
        .bind(domain)
        .execute(conn)
        .await?;
    Ok(())
}

async fn default_id(conn: &mut PgConnection, domain: &DomainId) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT id FROM migprojects WHERE domain_id = $1 AND isdefault")
        .bind(domain)
        .fetch_optional(conn)
        .await
}

async fn insert(
    conn: &mut PgConnection,
    domain: &DomainId,
    settings: &MigProjectSettings,
    isdefault: bool,
) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    let mut set = RowSet::new(Table::MigProjects, 1);
    set.column("id", vec![id])
        .column("domain_id", vec![domain])
        .column("isdefault", vec![isdefault])
        .column("created_at", vec![now_ms()])
        .attributes(&[settings]);
    set.insert(conn).await?;
    Ok(id)
}

/// The id of the domain's default project, made (named `default`, with the create page's
/// defaults) when the domain has none. Run it inside a transaction: two transactions that
/// both find none make one project, and both get its id.
pub async fn ensure_default(conn: &mut PgConnection, domain: &DomainId) -> sqlx::Result<Uuid> {
    if let Some(id) = default_id(conn, domain).await? {
        return Ok(id);
    }
    lock_default(conn, domain).await?;
    // Read again under the lock: each statement sees what committed before it began.
    if let Some(id) = default_id(conn, domain).await? {
        return Ok(id);
    }
    insert(conn, domain, &MigProjectSettings::automatic_default(), true).await
}

/// Makes project `id` the domain's default; the old default stops being it. Inside a
/// transaction.
pub async fn set_default(conn: &mut PgConnection, domain: &DomainId, id: Uuid) -> StoreResult<()> {
    lock_default(conn, domain).await?;
    let found: Option<bool> =
        sqlx::query_scalar("SELECT isdefault FROM migprojects WHERE domain_id = $1 AND id = $2 FOR UPDATE")
            .bind(domain)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    match found {
        None => return Err(StoreError::NoSuchMigProject),
        Some(true) => return Ok(()),
        Some(false) => {}
    }
    // The old default first: the unique index allows one default at any moment.
    sqlx::query("UPDATE migprojects SET isdefault = false WHERE domain_id = $1 AND isdefault")
        .bind(domain)
        .execute(&mut *conn)
        .await?;
    sqlx::query("UPDATE migprojects SET isdefault = true WHERE domain_id = $1 AND id = $2")
        .bind(domain)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Creates a project; with `isdefault` true it becomes the domain's default. Inside a
/// transaction.
pub async fn create(conn: &mut PgConnection, domain: &DomainId, body: &NewMigProject) -> StoreResult<Uuid> {
    let id = insert(conn, domain, &body.settings(), false).await?;
    if body.isdefault == Some(true) {
        set_default(conn, domain, id).await?;
    }
    Ok(id)
}

/// A project of the domain.
pub async fn find(conn: &mut PgConnection, domain: &DomainId, id: Uuid) -> sqlx::Result<Option<MigProjectRow>> {
    sqlx::query_as("SELECT * FROM migprojects WHERE domain_id = $1 AND id = $2")
        .bind(domain)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// A page of the domain's projects, oldest first, and the count of all of them.
pub async fn list(
    conn: &mut PgConnection,
    domain: &DomainId,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(i64, Vec<MigProjectRow>)> {
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM migprojects WHERE domain_id = $1")
        .bind(domain)
        .fetch_one(&mut *conn)
        .await?;
    let rows =
        sqlx::query_as("SELECT * FROM migprojects WHERE domain_id = $1 ORDER BY created_at, id LIMIT $2 OFFSET $3")
            .bind(domain)
            .bind(limit)
            .bind(offset)
            .fetch_all(&mut *conn)
            .await?;
    Ok((count, rows))
}

/// Applies a partial update; `isdefault: true` makes the project the default. Inside a
/// transaction.
pub async fn update(conn: &mut PgConnection, domain: &DomainId, id: Uuid, patch: &MigProjectPatch) -> StoreResult<()> {
    let isdefault: bool =
        sqlx::query_scalar("SELECT isdefault FROM migprojects WHERE domain_id = $1 AND id = $2 FOR UPDATE")
            .bind(domain)
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?
            .ok_or(StoreError::NoSuchMigProject)?;
    if isdefault && patch.isdefault == Some(false) {
        return Err(StoreError::MigProjectStaysDefault);
    }
    let mut set = Assignments::new(Table::MigProjects);
    set.value("name", &patch.name)
        .patch("description", &patch.description)
        .value("region", &patch.region)
        .value("start_target_server", &patch.start_target_server)
        .value("speed_limit", &patch.speed_limit)
        .value("use_public_ip", &patch.use_public_ip)
        .value("exist_server", &patch.exist_server)
        .value("type", &patch.project_type)
        .patch("enterprise_project", &patch.enterprise_project)
        .value("syncing", &patch.syncing)
        .value("start_network_check", &patch.start_network_check);
    set.execute(&mut *conn, domain, id).await?;
    if patch.isdefault == Some(true) && !isdefault {
        set_default(conn, domain, id).await?;
    }
    Ok(())
}

/// Deletes a project: not the default, and not while it has source servers (also when one
/// joins it while the delete runs: the foreign key refuses the delete).
pub async fn delete(conn: &mut PgConnection, domain: &DomainId, id: Uuid) -> StoreResult<()> {
    let deleted = sqlx::query(
        "DELETE FROM migprojects p WHERE p.domain_id = $1 AND p.id = $2 AND NOT p.isdefault
           AND NOT EXISTS (SELECT 1 FROM servers s WHERE s.domain_id = $1 AND s.migproject_id = $2)",
    )
    .bind(domain)
    .bind(id)
    .execute(&mut *conn)
    .await;
    match deleted {
        Ok(done) if done.rows_affected() == 1 => return Ok(()),
        Ok(_) => {}
        Err(err) if is_foreign_key_violation(&err) => return Err(StoreError::MigProjectHasSources),
        Err(err) => return Err(err.into()),
    }
    // Nothing deleted: say why.
    let found: Option<(bool, bool)> = sqlx::query_as(
        "SELECT p.isdefault, EXISTS (SELECT 1 FROM servers s WHERE s.domain_id = $1 AND s.migproject_id = $2)
           FROM migprojects p WHERE p.domain_id = $1 AND p.id = $2",
    )
    .bind(domain)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    match found {
        None => Err(StoreError::NoSuchMigProject),
        Some((true, _)) => Err(StoreError::MigProjectIsDefault),
        Some((false, _)) => Err(StoreError::MigProjectHasSources),
    }
}

/// Puts a newly registered source server into the domain's default project (made if the
/// domain has none). Inside the registration's transaction.
pub async fn join_default(conn: &mut PgConnection, domain: &DomainId, source_id: Uuid) -> sqlx::Result<Uuid> {
    let project = ensure_default(conn, domain).await?;
    sqlx::query("UPDATE servers SET migproject_id = $3 WHERE domain_id = $1 AND id = $2")
        .bind(domain)
        .bind(source_id)
        .bind(project)
        .execute(conn)
        .await?;
    Ok(project)
}

/// Moves source server `source_id` into project `project_id`, both of the domain
/// (`PUT /v3/sources/{id}` with `migprojectid`). `NotFound` when the project does not exist in
/// the domain (also when it is deleted meanwhile), `SourceNotFound` when the source does not.
pub async fn move_source(
    conn: &mut PgConnection,
    domain: &DomainId,
    source_id: Uuid,
    project_id: Uuid,
) -> StoreResult<()> {
    let moved = sqlx::query(
        "UPDATE servers SET migproject_id = $3
          WHERE domain_id = $1 AND id = $2 AND role = 'source'
            AND EXISTS (SELECT 1 FROM migprojects WHERE domain_id = $1 AND id = $3)",
    )
    .bind(domain)
    .bind(source_id)
    .bind(project_id)
    .execute(&mut *conn)
    .await;
    match moved {
        Ok(done) if done.rows_affected() == 1 => return Ok(()),
        Ok(_) => {}
        Err(err) if is_foreign_key_violation(&err) => return Err(StoreError::NoSuchMigProject),
        Err(err) => return Err(err.into()),
    }
    if find(conn, domain, project_id).await?.is_none() {
        return Err(StoreError::NoSuchMigProject);
    }
    Err(StoreError::SourceServerNotFound)
}
