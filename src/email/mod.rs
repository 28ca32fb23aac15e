//! Email notifications through an outbox.
//!
//! Invariants:
//! - a request never talks to SMTP: the action that causes mail writes its
//!   `email_outbox` rows in its own transaction ([`notify`] is called with the
//!   action's [`crate::db::TenantTx`]), so a rolled-back action sends nothing and a
//!   committed one loses nothing, whatever happens to the mail server;
//! - one row per cause and recipient: every row carries an idempotency key unique
//!   per tenant (`reply:{reply}:{user}`, …), so replaying a cause enqueues nothing new;
//! - who gets what is decided in [`notify`] and nowhere else: never the person who
//!   acted (the new-ticket confirmation to its requester is the one exception: it
//!   is their receipt), never a deactivated user, never an internal note to a
//!   customer;
//! - rows are rendered when they are written (subject, text and HTML, Message-ID
//!   and threading headers), so delivery needs no tenant data. The one thing left
//!   open is the deployment's address: links start with [`ORIGIN_MARK`], which the
//!   worker replaces with `server.public_url` at delivery (user text can never
//!   contain the mark: it is stripped from everything rendered). A new ticket's
//!   messages are stored before its create takes the number, which they print
//!   as [`TicketNumber::New`]'s marks; the create's numbering statement puts the
//!   number there, in the same transaction (`tickets::repo::insert_numbered`);
//! - delivery ([`worker`]) claims one due row at a time with `for update skip
//!   locked`, holding the row lock while it sends, so instances running at once
//!   never send a row twice; a failure backs off exponentially with jitter and
//!   after `smtp.max_attempts` marks the row failed with the last error;
//! - the worker reads across tenants as the role `tessera_mailer`, which may only
//!   read this table and update its delivery columns (see `0003_email_outbox.sql`).

pub mod notify;
pub mod outbox;
mod templates;
pub use templates::AccountKind;
pub mod chat;
pub mod inbound;
pub mod links;
pub mod transport;
pub mod worker;

/// Where links in stored bodies start; the worker puts `server.public_url` there.
/// A private-use character that no rendered user text keeps (see [`clean`]).
pub const ORIGIN_MARK: &str = "\u{E000}origin\u{E000}";

/// Where the unsubscribe link goes in stored bodies: the worker puts the whole
/// signed link there (see [`links`]). Like the origin mark, no user text keeps it.
pub const UNSUBSCRIBE_MARK: &str = "\u{E000}unsubscribe\u{E000}";

/// Where a new ticket's number goes in messages stored before its create took
/// it: as digits (in links), and as the six-digit form `TKT-000013` shows.
/// `tickets::repo::insert_numbered` replaces both; no user text keeps them.
pub const NEW_NUMBER_MARK: &str = "\u{E000}number\u{E000}";
pub const NEW_NUMBER_PADDED_MARK: &str = "\u{E000}number:06\u{E000}";

/// A ticket's number as a stored message prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketNumber {
    Taken(i64),
    /// A new ticket's, before its create takes it (see [`NEW_NUMBER_MARK`]).
    New,
}

impl From<i64> for TicketNumber {
    fn from(number: i64) -> Self {
        Self::Taken(number)
    }
}

impl TicketNumber {
    /// As people read it: `TKT-000013`.
    pub fn shown(self, prefix: &str) -> String {
        match self {
            Self::Taken(number) => crate::tickets::model::display_number(prefix, number),
            Self::New => format!("{prefix}{NEW_NUMBER_PADDED_MARK}"),
        }
    }

    /// The ticket's page under the tenant's `slug`, without the origin.
    pub fn path(self, slug: &str) -> String {
        match self {
            Self::Taken(number) => format!("/{slug}/tickets/{number}"),
            Self::New => format!("/{slug}/tickets/{NEW_NUMBER_MARK}"),
        }
    }
}

/// User text made safe to render into a stored message: no origin mark, and no
/// control characters other than line breaks and tabs.
pub(crate) fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| *c != '\u{E000}')
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .collect()
}

/// A value for a header line (subject, display name): one line, no control
/// characters at all, so nothing can start a header of its own.
pub(crate) fn header_safe(text: &str) -> String {
    let one_line: String = text
        .chars()
        .filter(|c| *c != '\u{E000}')
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    one_line.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_lose_line_breaks_and_the_origin_mark() {
        let cases = [
            ("Plain subject", "Plain subject"),
            (
                "Evil\r\nBcc: victim@example.test",
                "Evil Bcc: victim@example.test",
            ),
            ("tab\there", "tab here"),
            ("\u{E000}origin\u{E000}/x", "origin/x"),
            ("  spaced   out  ", "spaced out"),
        ];
        for (raw, expected) in cases {
            assert_eq!(header_safe(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn body_text_keeps_lines_but_not_the_origin_mark() {
        assert_eq!(clean("a\nb\u{E000}c\u{7}d"), "a\nbcd");
    }
}
