//! The one message guests get outside ticket notifications: fresh access links
//! to their open tickets, asked for on the submission page.

use crate::{
    auth::model::User,
    db::TenantTx,
    email::{ORIGIN_MARK, clean, header_safe, outbox},
    error::AppError,
    tenants::Tenant,
};
use askama::Template;
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct TicketLink {
    pub number: String,
    pub subject: String,
    /// A path; the origin mark is put before it here.
    pub link: String,
}

struct LinksMail {
    tenant_name: String,
    recipient_name: String,
    subject: String,
    tickets: Vec<TicketLink>,
}

#[derive(Template)]
#[template(path = "email/guest_links.txt")]
struct LinksText<'a> {
    m: &'a LinksMail,
}

#[derive(Template)]
#[template(path = "email/guest_links.html")]
struct LinksHtml<'a> {
    m: &'a LinksMail,
}

pub async fn enqueue_links(
    tx: &mut TenantTx,
    now: OffsetDateTime,
    tenant: &Tenant,
    to: &User,
    tickets: Vec<TicketLink>,
) -> Result<(), AppError> {
    let mail = LinksMail {
        tenant_name: clean(&tenant.name),
        recipient_name: clean(&to.name),
        subject: header_safe(&format!("Your requests at {}", tenant.name)),
        tickets: tickets
            .into_iter()
            .map(|t| TicketLink {
                subject: clean(&t.subject),
                link: format!("{ORIGIN_MARK}{}", t.link),
                ..t
            })
            .collect(),
    };
    let body_text = LinksText { m: &mail }.render()?;
    let body_html = LinksHtml { m: &mail }.render()?;
    let id = Uuid::now_v7();
    outbox::enqueue(
        tx,
        &outbox::NewEmail {
            recipient_user_id: Some(to.id),
            recipient_email: to.email.clone(),
            recipient_name: header_safe(&to.name),
            from_name: header_safe(&tenant.name),
            template: "guest_links",
            ticket_id: None,
            subject: mail.subject.clone(),
            body_text,
            body_html,
            message_id: format!("<{id}@{}.tessera>", tenant.slug),
            in_reply_to: None,
            references: None,
            idempotency_key: format!("guest-links:{id}"),
            // Not about one ticket: nothing to unsubscribe from.
            unsubscribe_path: None,
        },
        now,
    )
    .await?;
    Ok(())
}
