//! Chat notifications: a Slack-compatible incoming webhook per tenant (works
//! with Mattermost and Rocket.Chat), for new and reopened tickets. Messages are
//! outbox rows (`channel = 'chat'`), so they get the mail worker's retries.
//!
//! A tenant admin chooses the URL, so the server must not become their way into
//! the network it runs in: the URL must be https (http only when `chat.allow_http`)
//! and every address its host resolves to must be public (not loopback, private,
//! link-local, …) unless `chat.allow_private_addresses`. The check runs when the
//! URL is saved and again at each delivery, which connects to the address it
//! checked (so a DNS answer that changes in between cannot redirect it).

use super::{ORIGIN_MARK, TicketNumber, clean};
use crate::{config::ChatConfig, db::TenantId, error::AppError};
use anyhow::{Context as _, bail};
use axum::http::Uri;
use sqlx::PgConnection;
use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};
use time::OffsetDateTime;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use uuid::Uuid;

const TIMEOUT: Duration = Duration::from_secs(10);

/// The tenant's webhook settings.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Webhook {
    pub url: String,
    pub on_new_ticket: bool,
    pub on_reopened: bool,
}

pub async fn settings(
    conn: &mut PgConnection,
    tenant: TenantId,
) -> Result<Option<Webhook>, sqlx::Error> {
    sqlx::query_as::<_, Webhook>(
        "select url, on_new_ticket, on_reopened from chat_webhooks where tenant_id = $1",
    )
    .bind(tenant)
    .fetch_optional(conn)
    .await
}

/// Saves the webhook; an empty URL removes it.
pub async fn save(
    conn: &mut PgConnection,
    tenant: TenantId,
    hook: &Webhook,
    now: OffsetDateTime,
) -> Result<(), sqlx::Error> {
    if hook.url.is_empty() {
        sqlx::query("delete from chat_webhooks where tenant_id = $1")
            .bind(tenant)
            .execute(conn)
            .await?;
        return Ok(());
    }
    sqlx::query(
        "insert into chat_webhooks (tenant_id, url, on_new_ticket, on_reopened, updated_at) \
         values ($1, $2, $3, $4, $5) \
         on conflict (tenant_id) do update set url = excluded.url, \
             on_new_ticket = excluded.on_new_ticket, on_reopened = excluded.on_reopened, \
             updated_at = excluded.updated_at",
    )
    .bind(tenant)
    .bind(&hook.url)
    .bind(hook.on_new_ticket)
    .bind(hook.on_reopened)
    .bind(now)
    .execute(conn)
    .await
    .map(|_| ())
}

/// Not reachable from the public internet: loopback, private, link-local,
/// shared, documentation, unspecified, multicast and the like.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8
        }
    }
}

/// A webhook URL's parts: https or not, host, port, path.
struct Target {
    https: bool,
    host: String,
    port: u16,
    path: String,
}

fn target(config: ChatConfig, url: &str) -> Result<Target, String> {
    let uri: Uri = url
        .trim()
        .parse()
        .map_err(|_| "Enter a full URL, like https://hooks.slack.com/services/….".to_owned())?;
    let https = match uri.scheme_str() {
        Some("https") => true,
        Some("http") if config.allow_http => false,
        Some("http") => return Err("The URL must start with https://.".to_owned()),
        _ => return Err("Enter a full URL starting with https://.".to_owned()),
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| "The URL has no host.".to_owned())?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err("The URL must not contain a user name or password.".to_owned());
    }
    Ok(Target {
        https,
        port: uri.port_u16().unwrap_or(if https { 443 } else { 80 }),
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned()),
        host,
    })
}

/// The addresses `target` may be reached at, every one of them allowed.
async fn resolve(config: ChatConfig, target: &Target) -> Result<Vec<SocketAddr>, String> {
    let addresses: Vec<SocketAddr> = tokio::net::lookup_host((target.host.as_str(), target.port))
        .await
        .map_err(|_| format!("The host {} could not be found.", target.host))?
        .collect();
    if addresses.is_empty() {
        return Err(format!("The host {} could not be found.", target.host));
    }
    if !config.allow_private_addresses && addresses.iter().any(|a| is_internal(a.ip())) {
        return Err(format!(
            "The host {} is an internal address (loopback, private or link-local), which webhooks may not call.",
            target.host
        ));
    }
    Ok(addresses)
}

/// Checks a URL an admin entered; the message says what is wrong.
pub async fn check_url(config: ChatConfig, url: &str) -> Result<String, String> {
    let url = url.trim();
    let t = target(config, url)?;
    resolve(config, &t).await?;
    Ok(url.to_owned())
}

/// Posts `payload` (JSON) to `url`; any answer but 2xx is an error.
pub async fn deliver(config: ChatConfig, url: &str, payload: &str) -> anyhow::Result<()> {
    let t = target(config, url).map_err(anyhow::Error::msg)?;
    let addresses = resolve(config, &t).await.map_err(anyhow::Error::msg)?;
    let stream = tokio::time::timeout(TIMEOUT, tokio::net::TcpStream::connect(&addresses[..]))
        .await
        .context("connecting timed out")??;
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: Tessera\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{payload}",
        t.path,
        t.host,
        payload.len()
    );
    let status = if t.https {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(t.host.clone())?;
        let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
            .connect(name, stream)
            .await?;
        exchange(stream, &request).await?
    } else {
        exchange(stream, &request).await?
    };
    if !(200..300).contains(&status) {
        bail!("the webhook answered HTTP {status}");
    }
    Ok(())
}

/// Sends the request and reads the status code of the answer.
async fn exchange(
    mut stream: impl AsyncRead + AsyncWrite + Unpin,
    request: &str,
) -> anyhow::Result<u16> {
    let work = async {
        stream.write_all(request.as_bytes()).await?;
        stream.flush().await?;
        let mut head = Vec::new();
        let mut buf = [0u8; 512];
        while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 8192 {
            let n = stream.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            head.extend_from_slice(&buf[..n]);
        }
        let line = String::from_utf8_lossy(&head);
        line.split_whitespace()
            .nth(1)
            .and_then(|code| code.parse().ok())
            .context("the webhook's answer is not HTTP")
    };
    tokio::time::timeout(TIMEOUT, work)
        .await
        .context("the webhook timed out")?
}

/// What happened to a ticket, for the chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatEvent {
    NewTicket,
    Reopened,
}

/// Queues the chat message about `ticket` when the tenant's webhook wants `event`,
/// in the action's transaction.
pub async fn ticket_event(
    conn: &mut PgConnection,
    tenant: TenantId,
    ticket: Uuid,
    event: ChatEvent,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let Some(hook) = hook_for(conn, tenant, event).await? else {
        return Ok(());
    };
    let facts: ChatTicket = sqlx::query_as(
        "select t.id, t.number, t.subject, t.version, te.slug, te.ticket_prefix \
           from tickets t join tenants te on te.id = t.tenant_id \
          where t.tenant_id = $1 and t.id = $2",
    )
    .bind(tenant)
    .bind(ticket)
    .fetch_one(&mut *conn)
    .await?;
    queue(conn, tenant, &hook, event, &facts, now).await
}

/// The tenant's webhook, if it wants `event`.
pub async fn hook_for(
    conn: &mut PgConnection,
    tenant: TenantId,
    event: ChatEvent,
) -> Result<Option<Webhook>, sqlx::Error> {
    Ok(settings(conn, tenant)
        .await?
        .filter(|hook| hook.wants(event)))
}

impl Webhook {
    fn wants(&self, event: ChatEvent) -> bool {
        match event {
            ChatEvent::NewTicket => self.on_new_ticket,
            ChatEvent::Reopened => self.on_reopened,
        }
    }
}

/// The webhook's columns for a statement that reads it with other things
/// (`left join chat_webhooks w`), read as [`MaybeWebhook`].
pub const HOOK_COLUMNS: &str =
    "w.url as hook_url, w.on_new_ticket as hook_on_new_ticket, w.on_reopened as hook_on_reopened";

/// A tenant's webhook read through [`HOOK_COLUMNS`]: all null without one.
#[derive(Debug, sqlx::FromRow)]
pub struct MaybeWebhook {
    hook_url: Option<String>,
    hook_on_new_ticket: Option<bool>,
    hook_on_reopened: Option<bool>,
}

impl MaybeWebhook {
    /// The webhook, if there is one and it wants `event`.
    pub fn wanting(self, event: ChatEvent) -> Option<Webhook> {
        let hook = Webhook {
            url: self.hook_url?,
            on_new_ticket: self.hook_on_new_ticket?,
            on_reopened: self.hook_on_reopened?,
        };
        hook.wants(event).then_some(hook)
    }
}

/// What a chat message says about a ticket.
#[derive(Debug, sqlx::FromRow)]
pub struct ChatTicket {
    pub id: Uuid,
    #[sqlx(try_from = "i64")]
    pub number: TicketNumber,
    pub subject: String,
    pub version: i32,
    pub slug: String,
    pub ticket_prefix: String,
}

/// Queues the message about `ticket` for `hook` (see [`hook_for`]).
pub async fn queue(
    conn: &mut PgConnection,
    tenant: TenantId,
    hook: &Webhook,
    event: ChatEvent,
    ticket: &ChatTicket,
    now: OffsetDateTime,
) -> Result<(), AppError> {
    let ChatTicket {
        id,
        number,
        subject,
        version,
        slug,
        ticket_prefix,
    } = ticket;
    let shown = number.shown(ticket_prefix);
    let (what, key) = match event {
        ChatEvent::NewTicket => ("New ticket", format!("chat:new:{id}")),
        ChatEvent::Reopened => ("Reopened", format!("chat:reopened:{id}:{version}")),
    };
    let link = format!("{ORIGIN_MARK}{}", number.path(slug));
    let text = format!("{what} {shown}: {}\n{link}", clean(subject));
    let payload = serde_json::json!({ "text": text }).to_string();
    sqlx::query(
        "insert into email_outbox (tenant_id, id, recipient_email, from_name, template, ticket_id, \
             subject, body_text, body_html, message_id, idempotency_key, status, attempts, \
             next_attempt_at, created_at, channel, webhook_url, payload) \
         values ($1, $2, '', '', $3, $4, $5, $6, '', $7, $8, 'pending', 0, $9, $9, 'chat', $10, $11) \
         on conflict (tenant_id, idempotency_key) do nothing",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(match event {
        ChatEvent::NewTicket => "chat_new_ticket",
        ChatEvent::Reopened => "chat_reopened",
    })
    .bind(id)
    .bind(format!("{what} {shown}: {}", super::header_safe(subject)))
    .bind(&text)
    .bind(format!("<chat-{}@{slug}.tessera>", Uuid::now_v7()))
    .bind(key)
    .bind(now)
    .bind(&hook.url)
    .bind(payload)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700::1111"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn only_https_unless_allowed_and_no_credentials() {
        let strict = ChatConfig {
            allow_http: false,
            allow_private_addresses: false,
        };
        assert!(target(strict, "http://hooks.example.test/x").is_err());
        assert!(target(strict, "ftp://hooks.example.test/x").is_err());
        assert!(target(strict, "https://user:pw@hooks.example.test/x").is_err());
        let t = target(strict, "https://hooks.example.test/services/abc").unwrap();
        assert_eq!((t.port, t.path.as_str()), (443, "/services/abc"));
        let loose = ChatConfig {
            allow_http: true,
            ..strict
        };
        assert_eq!(target(loose, "http://127.0.0.1:9/h").unwrap().port, 9);
    }
}
