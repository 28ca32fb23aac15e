//! Reply SQL.

use crate::{
    auth::model::Role,
    db::{TenantId, UserId},
    tickets::model::TicketId,
};
use sqlx::PgConnection;
use time::OffsetDateTime;

crate::db::id_newtype!(
    /// A reply or internal note.
    ReplyId
);
crate::db::id_newtype!(
    /// An earlier text of a reply.
    RevisionId
);

pub const BODY_MAX_CHARS: usize = 100_000;

/// A reply with its author's and deleter's names: a row of [`REPLY_SELECT`], or
/// a [`ThreadReply`] named from its [`Person`]s.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reply {
    pub id: ReplyId,
    pub ticket_id: TicketId,
    pub author_id: UserId,
    pub author_name: String,
    pub author_role: Role,
    pub body: String,
    pub internal: bool,
    pub created_at: OffsetDateTime,
    pub edited_at: Option<OffsetDateTime>,
    pub deleted_at: Option<OffsetDateTime>,
    pub deleted_by_name: Option<String>,
}

/// [`Reply`]'s columns, up to the conditions.
macro_rules! reply_select {
    () => {
        "select r.id, r.ticket_id, r.author_id, a.name as author_name, \
            a.role as author_role, r.body, r.internal, r.created_at, r.edited_at, r.deleted_at, \
            d.name as deleted_by_name \
       from replies r \
       join users a on a.tenant_id = r.tenant_id and a.id = r.author_id \
       left join users d on d.tenant_id = r.tenant_id and d.id = r.deleted_by"
    };
}

/// The replies a viewer reads, `$3` saying whether they are staff: customers
/// get no notes and no deleted replies.
macro_rules! visible_to_viewer {
    () => {
        " and ($3 or (not r.internal and r.deleted_at is null))"
    };
}

const REPLY_SELECT: &str = reply_select!();
const VISIBLE: &str = visible_to_viewer!();

/// Which replies `r` a ticket's page shows: those of the ticket the given
/// expression names, as [`visible_to_viewer`] lets the viewer read them. One
/// condition for [`replies_json`] and [`people_json`], so the people are
/// exactly those of the replies shown.
macro_rules! thread {
    ($ticket:literal) => {
        concat!(
            "where r.tenant_id = $1 and r.ticket_id = ",
            $ticket,
            $crate::replies::repo::visible_to_viewer!()
        )
    };
}

/// A ticket's conversation as [`for_ticket`] reads it, but without names: one
/// JSON array of [`ThreadReply`], oldest first. A column, so the ticket's page
/// reads it with the ticket (a round trip less per view); the names come once
/// per person from [`people_json`] beside it, not once per reply (a reply's
/// author and deleter looked up in users were most of the page's statement).
/// `$1` is the tenant, `$3` whether the viewer is staff, and the ticket's id
/// the given expression.
macro_rules! replies_json {
    ($ticket:literal) => {
        concat!(
            "(select coalesce(json_agg(x order by x.created_at, x.id), '[]') from (",
            "select r.id, r.ticket_id, r.author_id, r.body, r.internal, r.created_at, \
                    r.edited_at, r.deleted_at, r.deleted_by from replies r ",
            $crate::replies::repo::thread!($ticket),
            ") x)"
        )
    };
}

/// The [`Person`]s [`replies_json`]'s replies name (their authors and who
/// deleted them), as one JSON array, for the same ticket and viewer.
macro_rules! people_json {
    ($ticket:literal) => {
        concat!(
            "(select coalesce(json_agg(json_build_object('id', u.id, 'name', u.name, \
                                                        'role', u.role)), '[]') \
                from users u \
               where u.tenant_id = $1 and u.id in ( \
                     select named.id from replies r \
                      cross join lateral (values (r.author_id), (r.deleted_by)) named(id) ",
            $crate::replies::repo::thread!($ticket),
            "))"
        )
    };
}
pub(crate) use {people_json, replies_json, thread, visible_to_viewer};

/// A reply as [`replies_json`] reads it: who wrote and deleted it by id only.
#[derive(Debug, serde::Deserialize)]
pub struct ThreadReply {
    id: ReplyId,
    ticket_id: TicketId,
    author_id: UserId,
    body: String,
    internal: bool,
    #[serde(with = "time::serde::rfc3339")]
    created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    edited_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    deleted_at: Option<OffsetDateTime>,
    deleted_by: Option<UserId>,
}

/// Someone a ticket's replies name ([`people_json`]).
#[derive(Debug, serde::Deserialize)]
pub struct Person {
    id: UserId,
    name: String,
    role: Role,
}

/// `replies` with their authors' and deleters' names and roles from `people`.
/// Replies reference users by foreign key within the tenant, so everyone is
/// among `people`; should a name be missing all the same, it shows empty.
pub fn named(replies: Vec<ThreadReply>, people: &[Person]) -> Vec<Reply> {
    let person = |id: UserId| people.iter().find(|person| person.id == id);
    replies
        .into_iter()
        .map(|reply| {
            let author = person(reply.author_id);
            Reply {
                id: reply.id,
                ticket_id: reply.ticket_id,
                author_id: reply.author_id,
                author_name: author.map(|a| a.name.clone()).unwrap_or_default(),
                author_role: author.map_or(Role::Customer, |a| a.role),
                body: reply.body,
                internal: reply.internal,
                created_at: reply.created_at,
                edited_at: reply.edited_at,
                deleted_at: reply.deleted_at,
                deleted_by_name: reply
                    .deleted_by
                    .map(|id| person(id).map(|d| d.name.clone()).unwrap_or_default()),
            }
        })
        .collect()
}

/// The conversation, oldest first. Customers' pages pass `staff = false`: no
/// notes and no deleted replies, filtered here in SQL.
pub async fn for_ticket(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    staff: bool,
) -> Result<Vec<Reply>, sqlx::Error> {
    sqlx::query_as::<_, Reply>(&format!(
        "{REPLY_SELECT} where r.tenant_id = $1 and r.ticket_id = $2{VISIBLE} \
         order by r.created_at, r.id"
    ))
    .bind(tenant)
    .bind(ticket)
    .bind(staff)
    .fetch_all(conn)
    .await
}

pub async fn find(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    id: ReplyId,
) -> Result<Option<Reply>, sqlx::Error> {
    sqlx::query_as::<_, Reply>(&format!(
        "{REPLY_SELECT} where r.tenant_id = $1 and r.ticket_id = $2 and r.id = $3"
    ))
    .bind(tenant)
    .bind(ticket)
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: TicketId,
    author: UserId,
    body: &str,
    internal: bool,
    now: OffsetDateTime,
) -> Result<ReplyId, sqlx::Error> {
    let id = ReplyId::generate();
    sqlx::query(
        "insert into replies (tenant_id, id, ticket_id, author_id, body, internal, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(id)
    .bind(ticket)
    .bind(author)
    .bind(body)
    .bind(internal)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(id)
}

/// Keeps the text a reply had before an edit or delete.
pub async fn save_revision(
    conn: &mut PgConnection,
    tenant: TenantId,
    reply: ReplyId,
    body: &str,
    change: &str,
    by: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into reply_revisions (tenant_id, id, reply_id, body, change, changed_by, changed_at) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(tenant)
    .bind(RevisionId::generate())
    .bind(reply)
    .bind(body)
    .bind(change)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn update_body(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ReplyId,
    body: &str,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query("update replies set body = $3, edited_at = $4 where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .bind(body)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn mark_deleted(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: ReplyId,
    by: UserId,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update replies set deleted_at = $4, deleted_by = $3 where tenant_id = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Earlier texts of a reply, oldest first.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Revision {
    pub body: String,
    pub change: String,
    pub changed_by_name: String,
    pub changed_at: OffsetDateTime,
}

pub async fn revisions(
    conn: &mut PgConnection,
    tenant: TenantId,
    reply: ReplyId,
) -> Result<Vec<Revision>, sqlx::Error> {
    sqlx::query_as::<_, Revision>(
        "select v.body, v.change, u.name as changed_by_name, v.changed_at \
           from reply_revisions v join users u on u.tenant_id = v.tenant_id and u.id = v.changed_by \
          where v.tenant_id = $1 and v.reply_id = $2 order by v.changed_at, v.id",
    )
    .bind(tenant)
    .bind(reply)
    .fetch_all(conn)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(author: UserId, deleted_by: Option<UserId>) -> ThreadReply {
        ThreadReply {
            id: ReplyId::generate(),
            ticket_id: TicketId::generate(),
            author_id: author,
            body: "Hello".to_owned(),
            internal: false,
            created_at: OffsetDateTime::UNIX_EPOCH,
            edited_at: None,
            deleted_at: deleted_by.map(|_| OffsetDateTime::UNIX_EPOCH),
            deleted_by,
        }
    }

    fn person(name: &str, role: Role) -> Person {
        Person {
            id: UserId::generate(),
            name: name.to_owned(),
            role,
        }
    }

    #[test]
    fn replies_get_their_authors_and_deleters_names_and_roles() {
        let ann = person("Ann", Role::Customer);
        let bob = person("Bob", Role::Agent);
        let cy = person("Cy", Role::Admin);
        let replies = vec![
            reply(ann.id, None),
            reply(bob.id, Some(cy.id)),
            reply(ann.id, Some(ann.id)),
        ];
        let named = named(replies, &[ann, bob, cy]);
        let seen: Vec<_> = named
            .iter()
            .map(|r| {
                (
                    r.author_name.as_str(),
                    r.author_role,
                    r.deleted_by_name.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("Ann", Role::Customer, None),
                ("Bob", Role::Agent, Some("Cy")),
                ("Ann", Role::Customer, Some("Ann")),
            ]
        );
    }

    #[test]
    fn someone_missing_from_the_people_shows_with_no_name() {
        let named = named(
            vec![reply(UserId::generate(), Some(UserId::generate()))],
            &[],
        );
        assert_eq!(named[0].author_name, "");
        assert_eq!(named[0].author_role, Role::Customer);
        assert_eq!(named[0].deleted_by_name.as_deref(), Some(""));
    }
}
