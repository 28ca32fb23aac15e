//! A ticket's page: the ticket with what the page shows beside it and its
//! replies. The tenant's catalog (option lists, attachment and reopening
//! settings, for staff the assignee and group choices) as kept; the ticket, its
//! replies and files, who follows it, and for staff its live guest links in one
//! statement: as separate queries these were twelve round trips, most of the
//! page's time.

use super::{
    access,
    catalog::Catalog,
    model::Ticket,
    repo::{Follower, TICKET_COLUMNS, TICKET_TABLES},
};
use crate::{
    attachments::repo::{Listed, listed_json},
    auth::model::User,
    replies::repo::{self, Person, Reply, ThreadReply, people_json, replies_json},
    state::AppState,
    tenants::Tenant,
};
use sqlx::{PgConnection, types::Json};
use std::sync::Arc;

pub struct DetailContext {
    pub catalog: Arc<Catalog>,
    /// Oldest first; no notes or deleted replies for customers.
    pub replies: Vec<Reply>,
    /// Oldest first; no note files for customers.
    pub files: Vec<Listed>,
    pub following: bool,
    pub followers: Vec<Follower>,
    /// Staff only (0 for customers).
    pub guest_links: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    #[sqlx(flatten)]
    ticket: Ticket,
    replies: Json<Vec<ThreadReply>>,
    people: Json<Vec<Person>>,
    files: Json<Vec<Listed>>,
    followers: Json<Vec<Follower>>,
    guest_links: i64,
}

/// The files of the ticket `t` ([`listed_json`]).
const FILES: &str = listed_json!("t.id");

/// The replies of the ticket `t` ([`replies_json`]) and who they name
/// ([`people_json`]).
const REPLIES: &str = replies_json!("t.id");
const PEOPLE: &str = people_json!("t.id");

impl DetailContext {
    /// Ticket `number` with its page's context, if it exists and the viewer
    /// may see it (`tickets::load_visible`'s rule). `$3` says whether the
    /// viewer is staff: the staff-only `case` runs for staff only.
    pub async fn load(
        state: &AppState,
        conn: &mut PgConnection,
        tenant: &Tenant,
        viewer: &User,
        number: i64,
    ) -> Result<Option<(Ticket, Self)>, sqlx::Error> {
        let catalog = state.catalogs.of(conn, tenant).await?;
        let row: Option<Row> = sqlx::query_as(&format!(
            "select {TICKET_COLUMNS}, {REPLIES} as replies, {PEOPLE} as people, \
               {FILES} as files, \
               (select coalesce(json_agg(json_build_object('user_id', f.user_id, 'name', u.name) \
                                         order by f.created_at), '[]') \
                  from ticket_followers f \
                  join users u on u.tenant_id = f.tenant_id and u.id = f.user_id \
                 where f.tenant_id = $1 and f.ticket_id = t.id) as followers, \
               case when $3 then (select count(*) from ticket_access_links l \
                                   where l.tenant_id = $1 and l.ticket_id = t.id \
                                     and l.revoked_at is null) \
                    else 0 end as guest_links \
             {TICKET_TABLES} where t.tenant_id = $1 and t.number = $2"
        ))
        .bind(viewer.tenant_id)
        .bind(number)
        .bind(viewer.role.is_staff())
        .fetch_optional(conn)
        .await?;
        let row = row.filter(|row| access::can_see_ticket(viewer, &row.ticket));
        Ok(row.map(|row| {
            let context = Self {
                catalog,
                replies: repo::named(row.replies.0, &row.people),
                files: row.files.0,
                // Read off the followers: as its own test, a reusable plan looked
                // the viewer up among every ticket they follow (3,444 at the big
                // tenant).
                following: row.followers.iter().any(|f| f.user_id == viewer.id),
                followers: row.followers.0,
                guest_links: row.guest_links,
            };
            (row.ticket, context)
        }))
    }
}
