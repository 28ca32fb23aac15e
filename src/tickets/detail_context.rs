//! What a ticket's page shows besides the ticket, its replies and files: the
//! option lists, the tenant's attachment and reopening settings, who follows the ticket, its
//! live guest links, and for staff the assignee and group choices and the
//! status counters the side list's count reads. One statement: as separate
//! queries these were nine round trips, most of the page's time.

use super::{
    lifecycle,
    model::{StatusId, TicketId},
    options::{OPTIONS_COLUMNS, OptionsRow, TicketOptions},
    repo::{Follower, STAFF_JSON, StaffMember},
};
use crate::{attachments::policy, auth::model::User};
use sqlx::{PgConnection, types::Json};

pub struct DetailContext {
    pub options: TicketOptions,
    pub attachments: policy::Settings,
    pub lifecycle: lifecycle::Settings,
    pub following: bool,
    pub followers: Vec<Follower>,
    /// Staff only (0 for customers), like the three below (empty).
    pub guest_links: i64,
    pub staff: Vec<StaffMember>,
    pub groups: Vec<(uuid::Uuid, String)>,
    pub counters: Vec<(StatusId, i64)>,
}

#[derive(sqlx::FromRow)]
struct Row {
    #[sqlx(flatten)]
    options: OptionsRow,
    max_file_mb: Option<i32>,
    allow_list: Option<bool>,
    formats: Option<Vec<String>>,
    reopen_window_days: Option<i32>,
    customers_can_reopen: Option<bool>,
    followers: Json<Vec<Follower>>,
    guest_links: i64,
    staff: Json<Vec<StaffMember>>,
    groups: Json<Vec<(uuid::Uuid, String)>>,
    counters: Json<Vec<(StatusId, i64)>>,
}

impl DetailContext {
    /// `$3` says whether the viewer is staff: each staff-only `case` runs
    /// for staff only. A tenant without a settings row gets the defaults.
    pub async fn load(
        conn: &mut PgConnection,
        viewer: &User,
        ticket: TicketId,
    ) -> Result<Self, sqlx::Error> {
        let row: Row = sqlx::query_as(&format!(
            "select {OPTIONS_COLUMNS}, s.attachment_max_file_mb as max_file_mb, \
                    s.attachment_allow_list as allow_list, s.attachment_formats as formats, \
                    s.reopen_window_days, s.customers_can_reopen, \
               (select coalesce(json_agg(json_build_object('user_id', f.user_id, 'name', u.name) \
                                         order by f.created_at), '[]') \
                  from ticket_followers f \
                  join users u on u.tenant_id = f.tenant_id and u.id = f.user_id \
                 where f.tenant_id = $1 and f.ticket_id = $2) as followers, \
               case when $3 then (select count(*) from ticket_access_links \
                                   where tenant_id = $1 and ticket_id = $2 and revoked_at is null) \
                    else 0 end as guest_links, \
               case when $3 then {STAFF_JSON} else '[]' end as staff, \
               case when $3 then (select coalesce(json_agg(json_build_array(id, name) \
                                                           order by name), '[]') \
                                    from groups where tenant_id = $1) \
                    else '[]' end as groups, \
               case when $3 then (select coalesce(json_agg(json_build_array(status_id, n)), '[]') \
                                    from ticket_status_counts where tenant_id = $1) \
                    else '[]' end as counters \
             from (select 1) one left join tenant_settings s on s.tenant_id = $1"
        ))
        .bind(viewer.tenant_id)
        .bind(ticket)
        .bind(viewer.role.is_staff())
        .fetch_one(conn)
        .await?;
        let defaults = policy::Settings::default();
        let lifecycle_defaults = lifecycle::Settings::default();
        Ok(Self {
            options: row.options.into(),
            attachments: policy::Settings {
                max_file_mb: row.max_file_mb.unwrap_or(defaults.max_file_mb),
                allow_list: row.allow_list.unwrap_or(defaults.allow_list),
                formats: row.formats.unwrap_or(defaults.formats),
            },
            lifecycle: lifecycle::Settings {
                reopen_window_days: row
                    .reopen_window_days
                    .unwrap_or(lifecycle_defaults.reopen_window_days),
                customers_can_reopen: row
                    .customers_can_reopen
                    .unwrap_or(lifecycle_defaults.customers_can_reopen),
            },
            // Read off the followers: as its own test, a reusable plan looked the
            // viewer up among every ticket they follow (3,444 at the big tenant).
            following: row.followers.iter().any(|f| f.user_id == viewer.id),
            followers: row.followers.0,
            guest_links: row.guest_links,
            staff: row.staff.0,
            groups: row.groups.0,
            counters: row.counters.0,
        })
    }
}
