//! The template aggregate in SQL: a template row, its 1:1 VPC and public IP, and its NICs,
//! security groups and disks (`migrations/V9__templates.sql`). Creates, replacing updates and
//! deletes are one transaction each; a show or a list page is one statement whatever the
//! number of templates and children; every statement binds the caller's domain.

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{escape_like, RowSet, Table};
use crate::model::columns::Columns;
use crate::model::now_ms;
use crate::model::template::{
    Nic, PublicIp, SecurityGroup, Template, TemplateDisk, TemplateRequest, TemplateView, Vpc,
};
use crate::model::DomainId;

/// Whether `id` names a template of the domain (for a `clone_test`'s `template_id`).
pub async fn exists(conn: &mut PgConnection, domain: &DomainId, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM templates WHERE domain_id = $1 AND id = $2)")
        .bind(domain)
        .bind(id)
        .fetch_one(conn)
        .await
}

/// Creates a template with all its parts; returns its new id.
pub async fn create(pool: &PgPool, domain: &DomainId, request: &TemplateRequest) -> sqlx::Result<Uuid> {
    let id = Uuid::now_v7();
    let mut tx = pool.begin().await?;
    let mut row = template_row(domain, id, &request.attrs);
    row.column("created_at", vec![now_ms()]);
    row.insert(&mut tx).await?;
    insert_parts(&mut tx, domain, id, request).await?;
    tx.commit().await?;
    Ok(id)
}

/// Replaces the template `id` of the domain with `request`, parts included. `false` when the
/// domain has no such template (nothing is written then).
pub async fn replace(pool: &PgPool, domain: &DomainId, id: Uuid, request: &TemplateRequest) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?;
    let created_at: Option<i64> =
        sqlx::query_scalar("SELECT created_at FROM templates WHERE domain_id = $1 AND id = $2 FOR UPDATE")
            .bind(domain)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(created_at) = created_at else {
        return Ok(false);
    };
    // The row exists and is locked, so the upsert updates it; it keeps its place in the list.
    let mut row = template_row(domain, id, &request.attrs);
    row.column("created_at", vec![created_at]);
    row.upsert(&mut tx).await?;
    for table in PART_TABLES {
        sqlx::query(&format!("DELETE FROM {} WHERE domain_id = $1 AND template_id = $2", table.name()))
            .bind(domain)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    insert_parts(&mut tx, domain, id, request).await?;
    tx.commit().await?;
    Ok(true)
}

/// The tables of a template's parts.
const PART_TABLES: [Table; 5] = [
    Table::TemplateVpcs,
    Table::TemplatePublicips,
    Table::TemplateNics,
    Table::TemplateSecurityGroups,
    Table::TemplateDisks,
];

/// The outcome of a delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    All,
    /// This id names no template of the domain; nothing was deleted.
    Missing(Uuid),
}

/// Deletes the templates `ids` of the domain with their parts, all or none.
pub async fn delete(pool: &PgPool, domain: &DomainId, ids: &[Uuid]) -> sqlx::Result<Deleted> {
    let mut tx = pool.begin().await?;
    let deleted: Vec<Uuid> =
        sqlx::query_scalar("DELETE FROM templates WHERE domain_id = $1 AND id = ANY($2) RETURNING id")
            .bind(domain)
            .bind(ids)
            .fetch_all(&mut *tx)
            .await?;
    if let Some(missing) = ids.iter().find(|id| !deleted.contains(id)) {
        // Dropping the transaction rolls the deletes back.
        return Ok(Deleted::Missing(*missing));
    }
    tx.commit().await?;
    Ok(Deleted::All)
}

/// The target password of the template `id`: `None` when the domain has no such template,
/// `Some(None)` when the template has no password.
pub async fn target_password(
    conn: &mut PgConnection,
    domain: &DomainId,
    id: Uuid,
) -> sqlx::Result<Option<Option<String>>> {
    sqlx::query_scalar("SELECT target_password FROM templates WHERE domain_id = $1 AND id = $2")
        .bind(domain)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// The template `id` of the domain, with all its parts.
pub async fn find(conn: &mut PgConnection, domain: &DomainId, id: Uuid) -> sqlx::Result<Option<TemplateView>> {
    let mut sql = QueryBuilder::new(VIEW);
    sql.push(" WHERE t.domain_id = ").push_bind(domain.as_str()).push(" AND t.id = ").push_bind(id);
    let row: Option<ViewRow> = sql.build_query_as().fetch_optional(conn).await?;
    Ok(row.map(into_view))
}

/// Filters of `GET /v3/vm/templates`; `None` matches everything.
#[derive(Debug, Default, Clone)]
pub struct TemplateFilter {
    /// Case-insensitive substring; `%` and `_` match themselves.
    pub name: Option<String>,
    pub availability_zone: Option<String>,
    pub region: Option<String>,
    pub id: Option<Uuid>,
}

impl TemplateFilter {
    /// ` WHERE …` of the domain and each filter present.
    fn push_conditions<'a>(&'a self, sql: &mut QueryBuilder<'a, Postgres>, domain: &'a DomainId) {
        sql.push(" WHERE t.domain_id = ").push_bind(domain.as_str());
        if let Some(name) = &self.name {
            sql.push(" AND t.name ILIKE ").push_bind(format!("%{}%", escape_like(name)));
        }
        if let Some(zone) = &self.availability_zone {
            sql.push(" AND t.availability_zone = ").push_bind(zone);
        }
        if let Some(region) = &self.region {
            sql.push(" AND t.region = ").push_bind(region);
        }
        if let Some(id) = self.id {
            sql.push(" AND t.id = ").push_bind(id);
        }
    }
}

/// The exact count of the domain's templates that match `filter`, and the page of them at
/// `offset` (newest first), each with all its parts: two statements.
pub async fn list(
    conn: &mut PgConnection,
    domain: &DomainId,
    filter: &TemplateFilter,
    limit: i64,
    offset: i64,
) -> sqlx::Result<(i64, Vec<TemplateView>)> {
    let mut count = QueryBuilder::new("SELECT count(*) FROM templates t");
    filter.push_conditions(&mut count, domain);
    let count: i64 = count.build_query_scalar().fetch_one(&mut *conn).await?;
    if limit == 0 || offset >= count {
        return Ok((count, Vec::new()));
    }
    let mut sql = QueryBuilder::new(VIEW);
    filter.push_conditions(&mut sql, domain);
    sql.push(" ORDER BY t.created_at DESC, t.id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    let rows: Vec<ViewRow> = sql.build_query_as().fetch_all(conn).await?;
    Ok((count, rows.into_iter().map(into_view).collect()))
}

/// Templates (`t`) with their parts as JSON of their rows, decoded into the attribute types.
const VIEW: &str = "SELECT t.id, row_to_json(t),
        (SELECT row_to_json(v) FROM template_vpcs v WHERE v.domain_id = t.domain_id AND v.template_id = t.id),
        (SELECT coalesce(json_agg(n ORDER BY n.position), '[]'::json) FROM template_nics n
          WHERE n.domain_id = t.domain_id AND n.template_id = t.id),
        (SELECT coalesce(json_agg(g ORDER BY g.position), '[]'::json) FROM template_security_groups g
          WHERE g.domain_id = t.domain_id AND g.template_id = t.id),
        (SELECT row_to_json(p) FROM template_publicips p WHERE p.domain_id = t.domain_id AND p.template_id = t.id),
        (SELECT coalesce(json_agg(d ORDER BY d.position), '[]'::json) FROM template_disks d
          WHERE d.domain_id = t.domain_id AND d.template_id = t.id)
   FROM templates t";

type ViewRow = (
    Uuid,
    Json<Template>,
    Option<Json<Vpc>>,
    Json<Vec<Nic>>,
    Json<Vec<SecurityGroup>>,
    Option<Json<PublicIp>>,
    Json<Vec<TemplateDisk>>,
);

fn into_view((id, attrs, vpc, nics, security_groups, publicip, disk): ViewRow) -> TemplateView {
    TemplateView {
        id,
        attrs: attrs.0,
        vpc: vpc.map(|v| v.0),
        nics: nics.0,
        security_groups: security_groups.0,
        publicip: publicip.map(|p| p.0),
        disk: disk.0,
    }
}

/// The `templates` row of `attrs` (without `created_at`).
fn template_row(domain: &DomainId, id: Uuid, attrs: &Template) -> RowSet {
    let mut set = RowSet::new(Table::Templates, 1);
    set.column("id", vec![id]).column("domain_id", vec![domain]).attributes(&[attrs]);
    set
}

/// Writes the template's parts: one statement per table that has rows.
async fn insert_parts(
    conn: &mut PgConnection,
    domain: &DomainId,
    id: Uuid,
    request: &TemplateRequest,
) -> sqlx::Result<()> {
    let parts = &request.members;
    parts_of(Table::TemplateVpcs, domain, id, parts.vpc.as_slice(), false).insert(conn).await?;
    parts_of(Table::TemplatePublicips, domain, id, parts.publicip.as_slice(), false).insert(conn).await?;
    parts_of(Table::TemplateNics, domain, id, parts.nics.as_deref().unwrap_or_default(), true).insert(conn).await?;
    let groups = parts.security_groups.as_deref().unwrap_or_default();
    parts_of(Table::TemplateSecurityGroups, domain, id, groups, true).insert(conn).await?;
    parts_of(Table::TemplateDisks, domain, id, parts.disk.as_deref().unwrap_or_default(), true).insert(conn).await
}

/// The rows of `items`, parts of template `id`: their keys (with their `position` when
/// `ordered`), then their attributes.
fn parts_of<A: Columns>(table: Table, domain: &DomainId, id: Uuid, items: &[A], ordered: bool) -> RowSet {
    let n = items.len();
    let mut set = RowSet::new(table, n);
    set.column("template_id", vec![id; n]).column("domain_id", vec![domain; n]);
    if ordered {
        set.column("position", (0..n as i32).collect::<Vec<_>>());
    }
    set.attributes(&items.iter().collect::<Vec<_>>());
    set
}
