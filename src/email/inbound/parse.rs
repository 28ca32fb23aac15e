//! Reading an inbound message: the headers the matching rules use, and the new
//! text of a reply without the quoted history and the signature.

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders as _};

/// What the rules look at in one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inbound {
    /// `<id>`, as Message-IDs are stored.
    pub message_id: Option<String>,
    /// The sender's address, lowercase.
    pub from: String,
    pub subject: String,
    /// Every address it was sent to (To, Cc, Delivered-To, X-Original-To).
    pub recipients: Vec<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// Sent by a robot (RFC 3834 `Auto-Submitted` other than `no`).
    pub automatic: bool,
    /// The text part (or the HTML part as text).
    pub text: String,
    /// Attached files: (name as sent, contents).
    pub attachments: Vec<(String, Vec<u8>)>,
}

fn bracketed(id: &str) -> String {
    format!(
        "<{}>",
        id.trim().trim_start_matches('<').trim_end_matches('>')
    )
}

fn ids(value: &HeaderValue) -> Vec<String> {
    match value {
        HeaderValue::Text(id) => vec![bracketed(id)],
        HeaderValue::TextList(list) => list.iter().map(|id| bracketed(id)).collect(),
        _ => Vec::new(),
    }
}

fn addresses(address: Option<&Address>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|a| a.address())
                .map(str::to_ascii_lowercase)
                .collect()
        })
        .unwrap_or_default()
}

/// Parses a raw RFC 822 message; `Err` says why it is malformed.
pub fn parse(raw: &[u8]) -> Result<Inbound, &'static str> {
    let message = MessageParser::default()
        .parse(raw)
        .ok_or("not a mail message")?;
    let from = addresses(message.from())
        .into_iter()
        .next()
        .filter(|a| a.contains('@'))
        .ok_or("no sender address (From)")?;
    let mut recipients = addresses(message.to());
    recipients.extend(addresses(message.cc()));
    for name in ["Delivered-To", "X-Original-To"] {
        if let Some(value) = message.header_raw(name) {
            recipients.push(value.trim().trim_matches(['<', '>']).to_ascii_lowercase());
        }
    }
    let automatic = message
        .header_raw("Auto-Submitted")
        .is_some_and(|v| !v.trim().eq_ignore_ascii_case("no"));
    Ok(Inbound {
        message_id: message.message_id().map(bracketed),
        from,
        subject: message.subject().unwrap_or_default().to_owned(),
        recipients,
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
        automatic,
        text: message.body_text(0).unwrap_or_default().into_owned(),
        attachments: message
            .attachments()
            .map(|part| {
                let name = part.attachment_name().unwrap_or("attachment").to_owned();
                (name, part.contents().to_vec())
            })
            .collect(),
    })
}

/// Where the quoted history starts: the attribution line of common clients.
fn starts_history(line: &str, next: Option<&str>) -> bool {
    let line = line.trim();
    let attribution = |l: &str| l.starts_with("On ") && l.ends_with("wrote:");
    attribution(line)
        || (line.starts_with("On ") && next.is_some_and(|n| n.trim().ends_with("wrote:")))
        || line.starts_with("-----Original Message-----")
        || (line.len() >= 5 && line.chars().all(|c| c == '_'))
        || (line.starts_with("From:") && next.is_some_and(|n| n.trim().starts_with("Sent:")))
}

/// The new text of a reply: everything before the quoted history and the
/// signature (`-- `), without quoted (`>`) lines, trimmed.
pub fn strip_reply(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut kept = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if starts_history(line, lines.get(i + 1).copied()) || line.trim_end() == "--" {
            break;
        }
        if line.trim_start().starts_with('>') {
            continue;
        }
        kept.push(*line);
    }
    kept.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_lose_quotes_history_and_signature() {
        let cases = [
            (
                "Thanks, works now.\n\nOn Mon, 23 Nov 2026 at 09:00, Acme <help@acme.test> wrote:\n> We fixed it.\n",
                "Thanks, works now.",
            ),
            (
                "Still broken.\n\nOn Mon, 23 Nov 2026 at 09:00, Acme Support\n<help@acme.test> wrote:\n> old\n",
                "Still broken.",
            ),
            ("Inline:\n> quoted\nmy answer\n", "Inline:\nmy answer"),
            ("Short.\n-- \nCara\nACME Corp\n", "Short."),
            (
                "Yes.\r\n\r\n-----Original Message-----\r\nFrom: x\r\n",
                "Yes.",
            ),
            ("Ok\n\nFrom: Acme\nSent: Monday\nTo: me\n", "Ok"),
            ("Ok\n________________________________\nFrom: Acme\n", "Ok"),
            ("> only a quote\n", ""),
        ];
        for (raw, expected) in cases {
            assert_eq!(strip_reply(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn headers_are_read_and_ids_bracketed() {
        let raw = b"From: Cara <Cara@Acme.Test>\r\nTo: support+abc@help.test\r\nCc: x@y.test\r\n\
Subject: Re: [TKT-000001] Printer\r\nMessage-ID: <m1@mail.test>\r\n\
In-Reply-To: <a@acme.tessera>\r\nReferences: <root@acme.tessera> <a@acme.tessera>\r\n\
\r\nHello\r\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.from, "cara@acme.test");
        assert_eq!(m.message_id.as_deref(), Some("<m1@mail.test>"));
        assert_eq!(m.recipients, ["support+abc@help.test", "x@y.test"]);
        assert_eq!(m.in_reply_to, ["<a@acme.tessera>"]);
        assert_eq!(m.references, ["<root@acme.tessera>", "<a@acme.tessera>"]);
        assert!(!m.automatic);
        assert_eq!(m.text.trim(), "Hello");
        assert!(parse(b"no headers at all").is_err());
    }
}
