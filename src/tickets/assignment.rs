//! Assignment: to an agent and/or a group from the ticket page, "Assign to me",
//! agent availability, and auto-assignment per group.
//!
//! Invariants:
//! - a manual assignment is an edit of the assignee and group fields: it goes
//!   through [`service::edit_in`], so its events, following and email are the
//!   edit form's (the new assignee follows and is told; the old one is not);
//! - auto-assignment runs when a ticket enters a group unassigned, in that
//!   transaction, with the group row locked `for update`: concurrent tickets
//!   queue on the lock, so round-robin never hands two tickets the same turn and
//!   least-loaded sees the previous pick;
//! - only active staff members whose availability is "available" are picked.

use super::{
    model::GroupId,
    options::TicketOptions,
    service::{self, SaveError, TicketInput},
};
use crate::{
    auth::model::User,
    clock::Clock,
    db::{Db, TenantTx, UserId},
    error::AppError,
};

/// How a group hands out its unassigned tickets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoAssign {
    Off,
    RoundRobin,
    LeastLoaded,
}

impl AutoAssign {
    pub const ALL: [(AutoAssign, &'static str); 3] = [
        (AutoAssign::Off, "Off"),
        (AutoAssign::RoundRobin, "Round-robin"),
        (AutoAssign::LeastLoaded, "Least loaded"),
    ];

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "off" => Some(AutoAssign::Off),
            "round_robin" => Some(AutoAssign::RoundRobin),
            "least_loaded" => Some(AutoAssign::LeastLoaded),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AutoAssign::Off => "off",
            AutoAssign::RoundRobin => "round_robin",
            AutoAssign::LeastLoaded => "least_loaded",
        }
    }
}

/// The agent a ticket entering `group` unassigned goes to, if the group
/// auto-assigns and has an available member. Locks the group row until the
/// transaction ends.
pub async fn pick(tx: &mut TenantTx, group: GroupId) -> Result<Option<UserId>, sqlx::Error> {
    let tenant = tx.tenant();
    let Some((mode, last)) = sqlx::query_as::<_, (String, Option<uuid::Uuid>)>(
        "select auto_assign, last_assigned_user_id from groups \
          where tenant_id = $1 and id = $2 for update",
    )
    .bind(tenant)
    .bind(group)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let chosen: Option<UserId> = match AutoAssign::parse(&mode) {
        None | Some(AutoAssign::Off) => return Ok(None),
        // The next member after the last one picked, in a fixed order, wrapping.
        Some(AutoAssign::RoundRobin) => {
            sqlx::query_scalar(
                "select u.id from group_members m \
                   join users u on u.tenant_id = m.tenant_id and u.id = m.user_id \
                  where m.tenant_id = $1 and m.group_id = $2 and u.active \
                    and u.role in ('agent', 'admin') and u.availability = 'available' \
                  order by u.id <= coalesce($3, '00000000-0000-0000-0000-000000000000'::uuid), u.id \
                  limit 1",
            )
            .bind(tenant)
            .bind(group)
            .bind(last)
            .fetch_optional(&mut **tx)
            .await?
        }
        // The member with the fewest tickets not yet resolved.
        Some(AutoAssign::LeastLoaded) => {
            sqlx::query_scalar(
                "select u.id from group_members m \
                   join users u on u.tenant_id = m.tenant_id and u.id = m.user_id \
                  where m.tenant_id = $1 and m.group_id = $2 and u.active \
                    and u.role in ('agent', 'admin') and u.availability = 'available' \
                  order by (select count(*) from tickets t \
                             where t.tenant_id = m.tenant_id and t.assignee_id = u.id \
                               and t.status_category in ('new', 'open', 'waiting')), u.id \
                  limit 1",
            )
            .bind(tenant)
            .bind(group)
            .fetch_optional(&mut **tx)
            .await?
        }
    };
    if let Some(user) = chosen {
        sqlx::query(
            "update groups set last_assigned_user_id = $3 where tenant_id = $1 and id = $2",
        )
        .bind(tenant)
        .bind(group)
        .bind(user)
        .execute(&mut **tx)
        .await?;
    }
    Ok(chosen)
}

/// A change of assignment: `None` keeps the field as it is; `Some("")` clears it.
#[derive(Debug, Default, Clone)]
pub struct Assignment {
    pub assignee: Option<String>,
    pub group: Option<String>,
}

/// Assigns ticket `number` (staff only), with the edit form's rules.
pub async fn assign(
    db: &Db,
    clock: &Clock,
    actor: &User,
    number: i64,
    change: Assignment,
) -> Result<(), SaveError> {
    if !actor.role.is_staff() {
        return Err(AppError::NotFound.into());
    }
    let tenant = actor.tenant_id;
    let mut tx = db.tenant_tx(tenant).await?;
    let options = TicketOptions::load(&mut tx, tenant).await?;
    let ticket = super::load_visible(&mut tx, actor, number).await?;
    let mut input = TicketInput {
        version: None,
        loaded_at: None,
        ..TicketInput::from_ticket(&ticket, &options)
    };
    if let Some(assignee) = change.assignee {
        input.assignee = assignee;
    }
    if let Some(group) = change.group {
        input.group = group;
    }
    service::edit_in(&mut tx, &options, clock.now(), actor, number, input).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether auto-assignment may pick a staff member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability {
    Available,
    Away,
}

impl Availability {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "available" => Some(Availability::Available),
            "away" => Some(Availability::Away),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Available => "available",
            Availability::Away => "away",
        }
    }
}

/// Sets a staff member's own availability.
pub async fn set_availability(db: &Db, user: &User, to: Availability) -> Result<(), AppError> {
    if !user.role.is_staff() {
        return Err(AppError::NotFound);
    }
    let mut tx = db.tenant_tx(user.tenant_id).await?;
    sqlx::query("update users set availability = $3 where tenant_id = $1 and id = $2")
        .bind(user.tenant_id)
        .bind(user.id)
        .bind(to.as_str())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Sets how a group auto-assigns (admins, from the groups page).
pub async fn set_group_mode(
    tx: &mut TenantTx,
    group: GroupId,
    mode: AutoAssign,
) -> Result<bool, sqlx::Error> {
    let tenant = tx.tenant();
    let done = sqlx::query("update groups set auto_assign = $3 where tenant_id = $1 and id = $2")
        .bind(tenant)
        .bind(group)
        .bind(mode.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected() == 1)
}
