//! Who may do what with a ticket: the one place these rules live.
//!
//! Staff (agents, admins) see and change every ticket of their tenant. A customer
//! sees only tickets they requested, never internal notes or note activity, may
//! edit the subject and description of their own ticket while it is not closed,
//! and may close it (when they may reply: `lifecycle`). Everyone edits or deletes
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
    };
    use time::macros::datetime;

    fn user(role: Role, tenant: TenantId) -> User {
        User {
            tenant_id: tenant,
            id: UserId::generate(),
            email: "x@example.test".into(),
            name: "X".into(),
            role,
            timezone: None,
            active: true,
        }
    }

    fn ticket(tenant: TenantId, requester: UserId, category: StatusCategory) -> Ticket {
        let mut ticket = crate::tickets::service::tests::ticket(category);
        ticket.tenant_id = tenant;
        ticket.requester_id = requester;
        ticket
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
            (&owner, &open, true, EditScope::OwnText),
            (&owner, &closed, true, EditScope::Nothing),
            (&other, &open, false, EditScope::Nothing),
            (&agent, &closed, true, EditScope::Everything),
            (&foreign_agent, &open, false, EditScope::Nothing),
        ];
        for (who, ticket, sees, scope) in cases {
            assert_eq!(can_see_ticket(who, ticket), sees);
            assert_eq!(edit_scope(who, ticket), scope);
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
