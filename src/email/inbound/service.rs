//! The rules for one inbound message. Matching goes in this order, and the
//! first rule that applies decides:
//!
//! 1. our reply token in a recipient address (`email.reply_to`): the token must
//!    verify for this tenant and name a sent message, and the sender must be
//!    that message's recipient, or the message is rejected (never passed on to
//!    the weaker rules: a forged or misused token is an attack, not a miss);
//! 2. In-Reply-To, then References, against the Message-IDs Tessera sent or
//!    accepted for a ticket; the sender must be an active user;
//! 3. a ticket number in the subject, only when the sender is that ticket's
//!    requester or a follower (so a stranger quoting a number reaches nobody);
//! 4. otherwise a new ticket when the tenant accepts email tickets and the
//!    sender is a user; else rejected.
//!
//! Every message is recorded with its decision and reason. A Message-ID
//! accepted before is a duplicate and changes nothing. Replies go through
//! [`crate::replies::service::add`], so notifications and reopen rules apply.

use super::{
    parse::{self, Inbound},
    repo::{self, Record},
};
use crate::attachments::{
    self, MAX_FILES_PER_UPLOAD,
    service::{Receiving, Upload, UploadError},
};
use crate::{
    auth::{self, model::User},
    clock::Clock,
    config::Config,
    db::{Db, TenantId, UserId},
    email::links,
    error::AppError,
    replies::service::{self as replies, NewReply, ReplyError},
    tickets::{
        model::display_number,
        service::{self as tickets, SaveError, TicketInput},
    },
};
use uuid::Uuid;

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Outcome {
    pub decision: &'static str,
    pub reason: String,
}

/// Everything one message needs from the request.
pub struct Ctx<'a> {
    pub db: &'a Db,
    pub clock: &'a Clock,
    pub config: &'a Config,
    pub secret: &'a [u8],
    pub tenant: TenantId,
    pub ticket_prefix: &'a str,
}

/// The decision, before it is carried out.
enum Target {
    Reply {
        ticket: Uuid,
        user: UserId,
        reason: String,
    },
    NewTicket {
        user: UserId,
        /// Why an earlier rule did not apply, if one nearly did.
        note: String,
    },
    Reject(String),
}

fn reject(reason: impl Into<String>) -> Target {
    Target::Reject(reason.into())
}

/// Records a message that was too large or could not be read.
pub async fn refuse_unread(
    ctx: &Ctx<'_>,
    size: usize,
    reason: String,
) -> Result<Outcome, AppError> {
    let record = Record {
        size_bytes: i32::try_from(size).unwrap_or(i32::MAX),
        decision: "rejected",
        reason: reason.clone(),
        ..Record::default()
    };
    let mut tx = ctx.db.tenant_tx(ctx.tenant).await?;
    repo::insert(&mut tx, &record, ctx.clock.now()).await?;
    tx.commit().await?;
    Ok(Outcome {
        decision: "rejected",
        reason,
    })
}

/// Handles one raw message of at most `email.inbound_max_bytes`.
pub async fn receive(ctx: &Ctx<'_>, raw: &[u8]) -> Result<Outcome, AppError> {
    let message = match parse::parse(raw) {
        Ok(message) => message,
        Err(why) => return refuse_unread(ctx, raw.len(), format!("malformed: {why}")).await,
    };
    let mut record = Record {
        message_id: message.message_id.clone(),
        from_address: message.from.clone(),
        subject: message.subject.chars().take(500).collect(),
        size_bytes: i32::try_from(raw.len()).unwrap_or(i32::MAX),
        ..Record::default()
    };
    let mut tx = ctx.db.tenant_tx(ctx.tenant).await?;
    if let Some(id) = &message.message_id {
        repo::lock_message_id(&mut tx, id).await?;
        if repo::seen(&mut tx, id).await? {
            record.decision = "duplicate";
            record.reason = format!("duplicate: {id} was received before");
            repo::insert(&mut tx, &record, ctx.clock.now()).await?;
            tx.commit().await?;
            return Ok(Outcome {
                decision: record.decision,
                reason: record.reason,
            });
        }
    }
    let target = if message.automatic {
        reject("automatic message (Auto-Submitted): not answered, to avoid mail loops")
    } else {
        decide(ctx, &mut tx, &message).await?
    };
    // The reply or ticket is made in its own transaction (the feature's rules);
    // this one keeps the Message-ID locked until the record is written.
    match target {
        Target::Reply {
            ticket,
            user,
            reason,
        } => {
            record.ticket_id = Some(ticket);
            record.user_id = Some(user);
            let body = parse::strip_reply(&message.text);
            if body.is_empty() {
                record.decision = "rejected";
                record.reason =
                    format!("{reason}, but nothing is left once the quoted text is removed");
            } else {
                let actor = load_user(&mut tx, ctx.tenant, user).await?;
                let number = repo::ticket_participation(&mut tx, ticket, None)
                    .await?
                    .map(|(number, _)| number)
                    .ok_or(AppError::NotFound)?;
                let (upload, notes) = store_attachments(ctx, &message).await?;
                let reply = NewReply {
                    files: upload.files(),
                    ..NewReply::text(&body)
                };
                let added = replies::add(ctx.db, ctx.clock, &actor, number, reply).await;
                if added.is_ok() {
                    upload.keep();
                } else {
                    upload.discard().await;
                }
                match added {
                    Ok(reply) => {
                        record.decision = "reply";
                        record.reply_id = Some(reply.0);
                        record.reason = with_notes(reason, &notes);
                    }
                    Err(ReplyError::Invalid(why)) => {
                        record.decision = "rejected";
                        record.reason = format!("{reason}, but the reply was refused: {why}");
                    }
                    Err(ReplyError::App(AppError::NotFound)) => {
                        record.decision = "rejected";
                        record.reason = format!("{reason}, but the sender may not see the ticket");
                    }
                    Err(ReplyError::App(error)) => return Err(error),
                }
            }
        }
        Target::NewTicket { user, note } => {
            let actor = load_user(&mut tx, ctx.tenant, user).await?;
            record.user_id = Some(user);
            let subject = match message.subject.trim() {
                "" => "(no subject)".to_owned(),
                s => s.chars().take(200).collect(),
            };
            let input = TicketInput {
                subject,
                description: parse::strip_reply(&message.text),
                ..TicketInput::default()
            };
            let (upload, notes) = store_attachments(ctx, &message).await?;
            let created =
                tickets::create_with_files(ctx.db, ctx.clock, &actor, input, upload.files()).await;
            if created.is_ok() {
                upload.keep();
            } else {
                upload.discard().await;
            }
            match created {
                Ok(created) => {
                    record.decision = "ticket";
                    record.ticket_id = repo::ticket_by_number(&mut tx, created.number).await?;
                    record.reason = with_notes(
                        format!("new ticket {}{note}", created.display_number),
                        &notes,
                    );
                }
                Err(SaveError::App(error)) => return Err(error),
                Err(other) => {
                    record.decision = "rejected";
                    record.reason = format!("new ticket refused: {other}{note}");
                }
            }
        }
        Target::Reject(reason) => {
            record.decision = "rejected";
            record.reason = reason;
        }
    }
    repo::insert(&mut tx, &record, ctx.clock.now()).await?;
    tx.commit().await?;
    tracing::info!(tenant = %ctx.tenant, decision = record.decision, reason = record.reason, "inbound mail");
    Ok(Outcome {
        decision: record.decision,
        reason: record.reason,
    })
}

/// Stores the message's attachments through the checks of uploads (blocked
/// names, sniffed content, size, count). A refused file is left out and said
/// in the returned notes; the rest are stored, to be recorded with the reply.
async fn store_attachments(
    ctx: &Ctx<'_>,
    message: &Inbound,
) -> Result<(Upload, Vec<String>), AppError> {
    let store = attachments::storage::from_config(ctx.config);
    let policy = {
        let mut tx = ctx.db.tenant_tx(ctx.tenant).await?;
        let policy = attachments::policy::Policy::load(&mut tx, ctx.tenant, ctx.config).await?;
        tx.commit().await?;
        policy
    };
    let mut upload = Upload::new(store.clone());
    let mut notes = Vec::new();
    for (i, (name, bytes)) in message.attachments.iter().enumerate() {
        if i >= MAX_FILES_PER_UPLOAD {
            notes.push(format!(
                "more than {MAX_FILES_PER_UPLOAD} files: the rest left out"
            ));
            break;
        }
        let result = async {
            let mut receiving = Receiving::start(&store, ctx.tenant, name, &policy).await?;
            if let Err(error) = receiving.push(bytes).await {
                receiving.abort().await;
                return Err(error);
            }
            receiving.finish().await
        }
        .await;
        match result {
            Ok(file) => upload.push(file),
            Err(UploadError::Refused(refusal)) => notes.push(refusal.message),
            Err(UploadError::Storage(error)) => return Err(AppError::Internal(error.into())),
        }
    }
    Ok((upload, notes))
}

/// The reason, with what happened to refused attachments.
fn with_notes(reason: String, notes: &[String]) -> String {
    if notes.is_empty() {
        reason
    } else {
        format!("{reason}; attachments refused: {}", notes.join(" "))
    }
}

async fn load_user(
    tx: &mut crate::db::TenantTx,
    tenant: TenantId,
    user: UserId,
) -> Result<User, AppError> {
    auth::repo::find_user(tx, tenant, user)
        .await?
        .ok_or(AppError::NotFound)
}

/// The ticket number quoted in a subject (`[TKT-000013]` or `TKT-000013`).
pub fn number_in_subject(subject: &str, prefix: &str) -> Option<i64> {
    if prefix.is_empty() {
        return None;
    }
    let lower = subject.to_ascii_lowercase();
    let prefix = prefix.to_ascii_lowercase();
    lower.match_indices(&prefix).find_map(|(at, _)| {
        let digits: String = lower[at + prefix.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        (!digits.is_empty()).then(|| digits.parse().ok()).flatten()
    })
}

async fn decide(
    ctx: &Ctx<'_>,
    tx: &mut crate::db::TenantTx,
    message: &Inbound,
) -> Result<Target, AppError> {
    let sender = repo::active_user_id_by_email(tx, &message.from).await?;

    // 1. Our reply token.
    if let Some(pattern) = &ctx.config.email.reply_to {
        let token = message
            .recipients
            .iter()
            .find_map(|address| links::token_in_address(pattern, address));
        if let Some(token) = token {
            let Some(row) = links::parse_reply_token(ctx.secret, ctx.tenant, token) else {
                return Ok(reject(
                    "unknown reply token (forged or from another helpdesk)",
                ));
            };
            let Some((ticket, user)) = repo::outbox_target(tx, row).await? else {
                return Ok(reject("unknown reply token: it names no ticket message"));
            };
            if sender != Some(user) {
                return Ok(reject(format!(
                    "sender {} does not match the reply token's recipient",
                    message.from
                )));
            }
            return Ok(Target::Reply {
                ticket,
                user,
                reason: "matched token".to_owned(),
            });
        }
    }

    // 2. Threading headers.
    for (header, ids) in [
        ("In-Reply-To", &message.in_reply_to),
        ("References", &message.references),
    ] {
        if ids.is_empty() {
            continue;
        }
        if let Some(ticket) = repo::ticket_of_message_ids(tx, ids).await? {
            let Some(user) = sender else {
                return Ok(reject(format!(
                    "matched {header}, but sender {} is not a user of this helpdesk",
                    message.from
                )));
            };
            return Ok(Target::Reply {
                ticket,
                user,
                reason: format!("matched {header}"),
            });
        }
    }

    // 3. A ticket number in the subject, from a participant only.
    let mut note = String::new();
    if let Some(number) = number_in_subject(&message.subject, ctx.ticket_prefix)
        && let Some(ticket) = repo::ticket_by_number(tx, number).await?
    {
        let shown = display_number(ctx.ticket_prefix, number);
        match repo::ticket_participation(tx, ticket, sender).await? {
            Some((_, true)) => {
                if let Some(user) = sender {
                    return Ok(Target::Reply {
                        ticket,
                        user,
                        reason: format!("matched subject {shown}: sender is a participant"),
                    });
                }
            }
            _ => note = format!(": sender not a participant of {shown}"),
        }
    }

    // 4. A new ticket, when the tenant takes them by email.
    let settings = repo::settings(tx, ctx.tenant).await?;
    if !settings.accept_email_tickets {
        return Ok(reject(format!(
            "matched no ticket and this helpdesk does not accept new tickets by email{note}"
        )));
    }
    match sender {
        Some(user) => Ok(Target::NewTicket { user, note }),
        None => Ok(reject(format!(
            "matched no ticket and sender {} is not a user of this helpdesk{note}",
            message.from
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_number_needs_the_prefix_and_digits() {
        assert_eq!(
            number_in_subject("Re: [TKT-000013] Printer", "TKT-"),
            Some(13)
        );
        assert_eq!(number_in_subject("re: tkt-42 again", "TKT-"), Some(42));
        assert_eq!(number_in_subject("Re: TKT- nothing", "TKT-"), None);
        assert_eq!(number_in_subject("Order 000013", "TKT-"), None);
        assert_eq!(number_in_subject("x", ""), None);
    }
}
