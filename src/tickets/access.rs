//! Who may do what with a ticket: the one place these rules live.
//!
//! Staff (agents, admins) see and change every ticket of their tenant. A customer
//! sees only tickets they requested, never internal notes or note activity, may
//! edit the subject and description of their own ticket while it is not closed,
//! may close it, and may reply until it is closed. Everyone edits or deletes
//! their own reply for 15 minutes; staff edit or delete any reply at any time.
//! A ticket or reply the caller may not see is answered with 404 by the callers.

use super::model::{StatusCategory, Ticket};
use crate::auth::model::User;
use time::{Duration, OffsetDateTime};

/// How long authors may edit or delete their own replies.
pub const REPLY_EDIT_WINDOW: Duration = Duration::minutes(15);

pub fn can_see_ticket(user: &User, ticket: &Ticket) -> bool {
    user.tenant_id == ticket.tenant_id && (user.role.is_staff() || ticket.requester_id == user.id)
}

/// What of a ticket the user may change on the edit form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EditScope {
    /// Every field.
    Everything,
    /// Subject and description, and closing it.
    OwnText,
    Nothing,
}

pub fn edit_scope(user: &User, ticket: &Ticket) -> EditScope {
    if !can_see_ticket(user, ticket) {
        EditScope::Nothing
    } else if user.role.is_staff() {
        EditScope::Everything
    } else if ticket.status_category == StatusCategory::Closed {
        EditScope::Nothing
    } else {
        EditScope::OwnText
    }
}

/// Why the user may not reply, or `None` if they may.
pub fn reply_refusal(user: &User, ticket: &Ticket) -> Option<&'static str> {
    if user.role.is_staff() || ticket.status_category != StatusCategory::Closed {
        None
    } else {
        Some("This ticket is closed, so it no longer takes replies. Please open a new ticket.")
    }
}

/// The facts about a reply that access depends on.
#[derive(Clone, Copy, Debug)]
pub struct ReplyFacts {
    pub author_is_viewer: bool,
    pub internal: bool,
    pub deleted: bool,
    pub created_at: OffsetDateTime,
}

pub fn can_see_reply(user: &User, reply: ReplyFacts) -> bool {
    user.role.is_staff() || (!reply.internal && !reply.deleted)
}

pub fn can_change_reply(user: &User, reply: ReplyFacts, now: OffsetDateTime) -> bool {
    if !can_see_reply(user, reply) || reply.deleted {
        return false;
    }
    user.role.is_staff() || (reply.author_is_viewer && now - reply.created_at <= REPLY_EDIT_WINDOW)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        auth::model::Role,
        db::{TenantId, UserId},
        tickets::model::*,
    };
    use time::macros::datetime;

    fn user(role: Role, tenant: TenantId) -> User {
        User {
            tenant_id: tenant,
            id: UserId::generate(),
            email: "x@example.test".into(),
            name: "X".into(),
            role,
            timezone: "UTC".into(),
            active: true,
        }
    }

    fn ticket(tenant: TenantId, requester: UserId, category: StatusCategory) -> Ticket {
        let at = datetime!(2026-01-01 0:00 UTC);
        Ticket {
            tenant_id: tenant,
            id: TicketId::generate(),
            number: 1,
            subject: "s".into(),
            description: String::new(),
            type_id: TypeId::generate(),
            priority_id: PriorityId::generate(),
            status_id: StatusId::generate(),
            status_category: category,
            category_id: None,
            requester_id: requester,
            requester_name: "R".into(),
            requester_email: "r@example.test".into(),
            assignee_id: None,
            assignee_name: None,
            group_id: None,
            tags: vec![],
            created_at: at,
            updated_at: at,
            last_reply_at: None,
            resolved_at: None,
            closed_at: None,
            reopened: false,
            version: 1,
        }
    }

    #[test]
    fn customers_see_and_edit_only_their_own_tickets() {
        let tenant = TenantId::generate();
        let owner = user(Role::Customer, tenant);
        let other = user(Role::Customer, tenant);
        let agent = user(Role::Agent, tenant);
        let foreign_agent = user(Role::Agent, TenantId::generate());
        let open = ticket(tenant, owner.id, StatusCategory::Open);
        let closed = ticket(tenant, owner.id, StatusCategory::Closed);

        let cases = [
            (&owner, &open, true, EditScope::OwnText, true),
            (&owner, &closed, true, EditScope::Nothing, false),
            (&other, &open, false, EditScope::Nothing, true),
            (&agent, &closed, true, EditScope::Everything, true),
            (&foreign_agent, &open, false, EditScope::Nothing, true),
        ];
        for (who, ticket, sees, scope, may_reply) in cases {
            assert_eq!(can_see_ticket(who, ticket), sees);
            assert_eq!(edit_scope(who, ticket), scope);
            assert_eq!(reply_refusal(who, ticket).is_none(), may_reply);
        }
    }

    #[test]
    fn replies_can_be_changed_by_their_author_for_fifteen_minutes_and_by_staff_always() {
        let tenant = TenantId::generate();
        let customer = user(Role::Customer, tenant);
        let agent = user(Role::Agent, tenant);
        let written = datetime!(2026-01-01 12:00 UTC);
        let facts = |own, internal, deleted| ReplyFacts {
            author_is_viewer: own,
            internal,
            deleted,
            created_at: written,
        };
        let in_window = written + Duration::minutes(15);
        let late = written + Duration::minutes(16);
        assert!(can_change_reply(
            &customer,
            facts(true, false, false),
            in_window
        ));
        assert!(!can_change_reply(
            &customer,
            facts(true, false, false),
            late
        ));
        assert!(!can_change_reply(
            &customer,
            facts(false, false, false),
            in_window
        ));
        assert!(can_change_reply(&agent, facts(false, false, false), late));
        assert!(
            !can_change_reply(&agent, facts(false, false, true), late),
            "deleted"
        );
        assert!(
            !can_see_reply(&customer, facts(false, true, false)),
            "notes"
        );
        assert!(
            !can_see_reply(&customer, facts(false, false, true)),
            "deleted"
        );
        assert!(can_see_reply(&agent, facts(false, true, true)));
    }
}
