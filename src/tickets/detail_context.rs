//! What a ticket's page shows besides the ticket and its replies: the tenant's
//! catalog (option lists, attachment and reopening settings, for staff the
//! assignee and group choices), the ticket's files, who follows it, and for
//! staff its live guest links. The catalog as kept, the rest in one statement:
//! as separate queries these were ten round trips, most of the page's time.

use super::{catalog::Catalog, model::TicketId, repo::Follower};
use crate::{
    attachments::repo::{LISTED_JSON, Listed},
    auth::model::User,
    state::AppState,
    tenants::Tenant,
};
use sqlx::{PgConnection, types::Json};
use std::sync::Arc;

pub struct DetailContext {
    pub catalog: Arc<Catalog>,
    /// Oldest first; no note files for customers.
    pub files: Vec<Listed>,
    pub following: bool,
    pub followers: Vec<Follower>,
    /// Staff only (0 for customers).
    pub guest_links: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    files: Json<Vec<Listed>>,
    followers: Json<Vec<Follower>>,
    guest_links: i64,
}

impl DetailContext {
    /// `$3` says whether the viewer is staff: the staff-only `case` runs for
    /// staff only.
    pub async fn load(
        state: &AppState,
        conn: &mut PgConnection,
        tenant: &Tenant,
        viewer: &User,
        ticket: TicketId,
    ) -> Result<Self, sqlx::Error> {
        let catalog = state.catalogs.of(conn, tenant).await?;
        let row: Row = sqlx::query_as(&format!(
            "select {LISTED_JSON} as files, \
               (select coalesce(json_agg(json_build_object('user_id', f.user_id, 'name', u.name) \
                                         order by f.created_at), '[]') \
                  from ticket_followers f \
                  join users u on u.tenant_id = f.tenant_id and u.id = f.user_id \
                 where f.tenant_id = $1 and f.ticket_id = $2) as followers, \
               case when $3 then (select count(*) from ticket_access_links \
                                   where tenant_id = $1 and ticket_id = $2 and revoked_at is null) \
                    else 0 end as guest_links"
        ))
        .bind(viewer.tenant_id)
        .bind(ticket)
        .bind(viewer.role.is_staff())
        .fetch_one(conn)
        .await?;
        Ok(Self {
            catalog,
            files: row.files.0,
            // Read off the followers: as its own test, a reusable plan looked the
            // viewer up among every ticket they follow (3,444 at the big tenant).
            following: row.followers.iter().any(|f| f.user_id == viewer.id),
            followers: row.followers.0,
            guest_links: row.guest_links,
        })
    }
}
