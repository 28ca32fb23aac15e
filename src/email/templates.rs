//! The messages: one context, and a text and an HTML template per message in
//! `templates/email/`. Everything printed is escaped by askama except the
//! Markdown body, which is [`SafeHtml`] from `markdown::render`.

use crate::markdown::SafeHtml;
use askama::Template;

/// One changed field, as the activity log words it.
#[derive(Debug, Clone)]
pub struct Change {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// What every message template may print.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The whole subject line, as it is sent.
    pub subject: String,
    pub tenant_name: String,
    pub recipient_name: String,
    pub actor_name: String,
    /// The recipient did the thing themselves (their own new ticket).
    pub by_recipient: bool,
    /// The ticket's display number, `TKT-000042`.
    pub number: String,
    pub ticket_subject: String,
    /// Absolute link, starting with the origin mark.
    pub link: String,
    pub body_text: String,
    pub body_html: SafeHtml,
    pub changes: Vec<Change>,
    pub internal: bool,
    /// The link that stops the recipient following the ticket (the worker's
    /// mark), or empty when the recipient is not a user.
    pub unsubscribe: String,
}

/// The message kinds, each naming its pair of templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    TicketCreated,
    TicketAssigned,
    TicketUpdated,
    ReplyAdded,
}

impl Kind {
    /// The template name stored with the row.
    pub fn name(self) -> &'static str {
        match self {
            Kind::TicketCreated => "ticket_created",
            Kind::TicketAssigned => "ticket_assigned",
            Kind::TicketUpdated => "ticket_updated",
            Kind::ReplyAdded => "reply_added",
        }
    }
}

macro_rules! message_templates {
    ($($text:ident, $text_path:literal, $html:ident, $html_path:literal;)*) => {
        $(
            #[derive(Template)]
            #[template(path = $text_path)]
            struct $text<'a> {
                m: &'a Mail,
            }

            #[derive(Template)]
            #[template(path = $html_path)]
            struct $html<'a> {
                m: &'a Mail,
            }
        )*
    };
}

message_templates! {
    CreatedText, "email/ticket_created.txt", CreatedHtml, "email/ticket_created.html";
    AssignedText, "email/ticket_assigned.txt", AssignedHtml, "email/ticket_assigned.html";
    UpdatedText, "email/ticket_updated.txt", UpdatedHtml, "email/ticket_updated.html";
    ReplyText, "email/reply_added.txt", ReplyHtml, "email/reply_added.html";
}

/// The text and HTML bodies of `kind` for `mail`.
pub fn render(kind: Kind, mail: &Mail) -> Result<(String, String), askama::Error> {
    let m = mail;
    Ok(match kind {
        Kind::TicketCreated => (CreatedText { m }.render()?, CreatedHtml { m }.render()?),
        Kind::TicketAssigned => (AssignedText { m }.render()?, AssignedHtml { m }.render()?),
        Kind::TicketUpdated => (UpdatedText { m }.render()?, UpdatedHtml { m }.render()?),
        Kind::ReplyAdded => (ReplyText { m }.render()?, ReplyHtml { m }.render()?),
    })
}

/// What the account messages (password reset, invitation) print.
#[derive(Debug, Clone)]
pub struct AccountMail {
    pub subject: String,
    pub tenant_name: String,
    pub recipient_name: String,
    /// The account's email address.
    pub email: String,
    /// Who sent the invitation (the admin's name); empty for a reset.
    pub invited_by: String,
    /// The set-password link, starting with the origin mark.
    pub link: String,
    /// How long the link works, in words ("1 hour").
    pub valid_for: String,
}

/// The account message kinds, each naming its pair of templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountKind {
    PasswordReset,
    Invitation,
}

impl AccountKind {
    /// The template name stored with the row.
    pub fn name(self) -> &'static str {
        match self {
            AccountKind::PasswordReset => "password_reset",
            AccountKind::Invitation => "invitation",
        }
    }
}

macro_rules! account_templates {
    ($($text:ident, $text_path:literal, $html:ident, $html_path:literal;)*) => {
        $(
            #[derive(Template)]
            #[template(path = $text_path)]
            struct $text<'a> {
                m: &'a AccountMail,
            }

            #[derive(Template)]
            #[template(path = $html_path)]
            struct $html<'a> {
                m: &'a AccountMail,
            }
        )*
    };
}

account_templates! {
    ResetText, "email/password_reset.txt", ResetHtml, "email/password_reset.html";
    InviteText, "email/invitation.txt", InviteHtml, "email/invitation.html";
}

/// The text and HTML bodies of an account message.
pub fn render_account(
    kind: AccountKind,
    mail: &AccountMail,
) -> Result<(String, String), askama::Error> {
    let m = mail;
    Ok(match kind {
        AccountKind::PasswordReset => (ResetText { m }.render()?, ResetHtml { m }.render()?),
        AccountKind::Invitation => (InviteText { m }.render()?, InviteHtml { m }.render()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mail() -> Mail {
        Mail {
            subject: "[TKT-000042] Printer <on> fire".into(),
            tenant_name: "Acme & Co".into(),
            recipient_name: "Cara".into(),
            actor_name: "Alex".into(),
            by_recipient: false,
            number: "TKT-000042".into(),
            ticket_subject: "Printer <on> fire".into(),
            link: "https://help.example.test/acme/tickets/42".into(),
            body_text: "It **smokes**.".into(),
            body_html: crate::markdown::render("It **smokes**. <script>x</script>"),
            changes: vec![Change {
                field: "Status".into(),
                old: "New".into(),
                new: "Resolved".into(),
            }],
            internal: false,
            unsubscribe: "https://help.example.test/acme/unsubscribe?token=t".into(),
        }
    }

    #[test]
    fn every_message_renders_text_and_escaped_html() {
        for kind in [
            Kind::TicketCreated,
            Kind::TicketAssigned,
            Kind::TicketUpdated,
            Kind::ReplyAdded,
        ] {
            let (text, html) = render(kind, &mail()).expect("renders");
            assert!(text.contains("TKT-000042"), "{kind:?}: {text}");
            assert!(text.contains("https://help.example.test/acme/tickets/42"));
            assert!(text.contains("Printer <on> fire"), "text is not escaped");
            assert!(
                html.contains("Printer &#60;on&#62; fire")
                    || html.contains("Printer &lt;on&gt; fire")
            );
            assert!(html.contains("Acme &#38; Co") || html.contains("Acme &amp; Co"));
            assert!(!html.contains("<script>"), "{kind:?}: {html}");
            assert!(
                text.contains("/acme/unsubscribe?token=t"),
                "{kind:?}: {text}"
            );
            assert!(
                html.contains("/acme/unsubscribe?token=t"),
                "{kind:?}: {html}"
            );
        }
    }

    #[test]
    fn account_messages_render_the_link_and_escape_names() {
        let mail = AccountMail {
            subject: "Reset your password".into(),
            tenant_name: "Acme & Co".into(),
            recipient_name: "Cara <b>".into(),
            email: "cara@example.test".into(),
            invited_by: "Alex".into(),
            link: "https://help.example.test/acme/password/reset?token=abc".into(),
            valid_for: "1 hour".into(),
        };
        for kind in [AccountKind::PasswordReset, AccountKind::Invitation] {
            let (text, html) = render_account(kind, &mail).expect("renders");
            assert!(text.contains("/acme/password/reset?token=abc"), "{text}");
            assert!(text.contains("1 hour"));
            assert!(html.contains("/acme/password/reset?token=abc"));
            assert!(!html.contains("Cara <b>"), "{html}");
        }
    }
}
