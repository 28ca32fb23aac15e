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
        }
    }
}
