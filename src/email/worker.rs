//! The mail worker: a tokio task that delivers due outbox rows. Safe on every
//! instance at once: each row is claimed with `for update skip locked` and stays
//! locked while it is sent, so no two workers send the same row.

use super::{
    ORIGIN_MARK, UNSUBSCRIBE_MARK, links,
    outbox::{self, OutboxRow},
    transport::Transport,
};
use crate::{
    clock::Clock,
    config::{ChatConfig, Config},
    db::Db,
};
use anyhow::Context as _;
use lettre::{
    Message,
    message::{
        Mailbox, MultiPart,
        header::{Header, HeaderName, HeaderValue},
    },
};
use std::{
    sync::Arc,
    time::{Duration as StdDuration, SystemTime},
};
use time::Duration;
use tokio::sync::watch;

/// How often the worker looks for due mail.
const POLL_INTERVAL: StdDuration = StdDuration::from_secs(5);
/// Most rows one `run_once` delivers, so a long queue does not starve shutdown.
const BATCH: usize = 100;
/// The first retry waits about this long; each further one twice as long…
/// (`smtp.first_retry_secs`' default)
const FIRST_RETRY: Duration = Duration::minutes(1);
/// …up to this (`smtp.longest_retry_secs`' default).
const LONGEST_RETRY: Duration = Duration::hours(6);

/// The delay before attempt `attempts + 1`, after `attempts` failures (≥ 1):
/// exponential, capped, with "equal jitter": half the delay is fixed and half is
/// `jitter` (0.0–1.0) of it, so instances that failed together spread out.
pub fn backoff(attempts: i32, jitter: f64) -> Duration {
    backoff_between(FIRST_RETRY, LONGEST_RETRY, attempts, jitter)
}

/// [`backoff`] starting at `first` and capped at `longest`.
pub fn backoff_between(first: Duration, longest: Duration, attempts: i32, jitter: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).clamp(0, 30) as u32;
    let full = first
        .checked_mul(2_i32.saturating_pow(doublings))
        .unwrap_or(longest)
        .min(longest);
    let half = full / 2;
    half + half * jitter.clamp(0.0, 1.0)
}

fn random_fraction() -> f64 {
    f64::from(getrandom::u32().unwrap_or(u32::MAX / 2)) / f64::from(u32::MAX)
}

/// What one `run_once` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub sent: usize,
    pub retrying: usize,
    pub failed: usize,
}

/// The server's secret, which signs the reply and unsubscribe tokens; never printed.
#[derive(Clone)]
struct Key(Arc<[u8]>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(…)")
    }
}

#[derive(Clone, Debug)]
pub struct Worker {
    db: Db,
    transport: Transport,
    clock: Clock,
    from: Mailbox,
    public_url: String,
    max_attempts: i32,
    /// `smtp.first_retry_secs` and `smtp.longest_retry_secs`.
    retry: (Duration, Duration),
    key: Key,
    /// `email.reply_to`: the Reply-To pattern with `{token}`.
    reply_to: Option<String>,
    chat: ChatConfig,
}

impl Worker {
    /// A worker delivering through the transport `config.smtp` describes;
    /// `secret` is the server's (`AppState::secret_bytes`), which signs links.
    pub fn from_config(
        db: Db,
        config: &Config,
        clock: Clock,
        secret: &[u8],
    ) -> anyhow::Result<Self> {
        Self::new(db, config, clock, secret, Transport::from_config(config)?)
    }

    pub fn new(
        db: Db,
        config: &Config,
        clock: Clock,
        secret: &[u8],
        transport: Transport,
    ) -> anyhow::Result<Self> {
        let from: Mailbox = config
            .smtp
            .from
            .parse()
            .context("configuration key `smtp.from`: not an email address")?;
        Ok(Self {
            db,
            transport,
            clock,
            from,
            public_url: config.server.public_url.trim_end_matches('/').to_owned(),
            max_attempts: i32::try_from(config.smtp.max_attempts).unwrap_or(i32::MAX),
            retry: (
                Duration::seconds(i64::try_from(config.smtp.first_retry_secs).unwrap_or(i64::MAX)),
                Duration::seconds(
                    i64::try_from(config.smtp.longest_retry_secs).unwrap_or(i64::MAX),
                ),
            ),
            key: Key(Arc::from(secret)),
            reply_to: config.email.reply_to.clone(),
            chat: config.chat,
        })
    }

    /// Runs until `stop` turns true, delivering due mail every few seconds. A
    /// delivery in progress finishes before it returns.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut interval = tokio::time::interval(POLL_INTERVAL);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = interval.tick() => {
                    if let Err(error) = self.drain(&stop).await {
                        tracing::warn!(error = format!("{error:#}"), "mail delivery");
                    }
                }
                _ = stop.changed() => break,
            }
            if *stop.borrow() {
                break;
            }
        }
    }

    /// Delivers batch after batch while each comes back whole (more is due),
    /// looking at `stop` between batches. One batch a poll capped a backlog at
    /// 20 mails a second (the fault harness's drains ran out of time once
    /// pages got faster and produced more mail).
    pub async fn drain(&self, stop: &watch::Receiver<bool>) -> anyhow::Result<Report> {
        let mut total = Report::default();
        loop {
            let report = self.run_once().await?;
            total.sent += report.sent;
            total.retrying += report.retrying;
            total.failed += report.failed;
            if report.sent + report.retrying + report.failed < BATCH || *stop.borrow() {
                return Ok(total);
            }
        }
    }

    /// Delivers the rows due now, one at a time, until none is left (or a batch
    /// is done). Each row's failure is recorded on the row, not returned.
    pub async fn run_once(&self) -> anyhow::Result<Report> {
        let mut report = Report::default();
        for _ in 0..BATCH {
            let mut tx = self.db.pool().begin().await?;
            outbox::enter_worker_role(&mut tx).await?;
            let Some(row) = outbox::claim_due(&mut tx, self.clock.now()).await? else {
                tx.commit().await?;
                break;
            };
            let result = if row.channel == "chat" {
                self.post_chat(&row)
                    .await
                    .map_err(|e| (format!("{e:#}"), true))
            } else {
                self.send_mail(&row).await
            };
            let now = self.clock.now();
            match result {
                Ok(()) => {
                    outbox::mark_sent(&mut tx, row.tenant_id, row.id, now).await?;
                    report.sent += 1;
                    tracing::info!(tenant = %row.tenant_id, id = %row.id, template = row.template, "mail sent");
                }
                Err((error, retryable)) => {
                    let attempts = row.attempts + 1;
                    let retry_at = (retryable && attempts < self.max_attempts).then(|| {
                        let (first, longest) = self.retry;
                        now + backoff_between(first, longest, attempts, random_fraction())
                    });
                    outbox::mark_attempt_failed(&mut tx, row.tenant_id, row.id, &error, retry_at)
                        .await?;
                    if retry_at.is_some() {
                        report.retrying += 1;
                    } else {
                        report.failed += 1;
                    }
                    tracing::warn!(tenant = %row.tenant_id, id = %row.id, attempts, %error, "mail not sent");
                }
            }
            tx.commit().await?;
        }
        Ok(report)
    }

    /// Sends an email row; the flag says whether a failure is worth retrying.
    async fn send_mail(&self, row: &OutboxRow) -> Result<(), (String, bool)> {
        match self.message(row) {
            Ok(message) => self
                .transport
                .send(&message, &format!("{}-{}", row.tenant_id, row.id))
                .await
                .map_err(|e| (format!("{e:#}"), true)),
            // A message that cannot be built never will be: no retries.
            Err(e) => Err((format!("{e:#}"), false)),
        }
    }

    /// Posts a chat row to its webhook, links pointing at `server.public_url`.
    async fn post_chat(&self, row: &OutboxRow) -> anyhow::Result<()> {
        let url = row.webhook_url.as_deref().unwrap_or_default();
        let payload = row
            .payload
            .as_deref()
            .unwrap_or_default()
            .replace(ORIGIN_MARK, &self.public_url);
        super::chat::deliver(self.chat, url, &payload).await
    }

    /// The message a row describes, its links pointing at `server.public_url`.
    fn message(&self, row: &OutboxRow) -> anyhow::Result<Message> {
        let to = Mailbox::new(
            Some(row.recipient_name.clone()).filter(|n| !n.is_empty()),
            row.recipient_email
                .parse()
                .context("the recipient's address is not valid")?,
        );
        let from = Mailbox::new(Some(row.from_name.clone()), self.from.email.clone());
        let mut builder = Message::builder()
            .from(from)
            .to(to)
            .subject(row.subject.clone())
            .message_id(Some(row.message_id.clone()))
            .date(SystemTime::from(row.created_at))
            .header(AutoSubmitted);
        if let Some(in_reply_to) = &row.in_reply_to {
            builder = builder.in_reply_to(in_reply_to.clone());
        }
        if let Some(references) = &row.thread_references {
            builder = builder.references(references.clone());
        }
        let ticket_mail = row.ticket_id.zip(row.recipient_user_id);
        if let Some(pattern) = &self.reply_to
            && ticket_mail.is_some()
        {
            let token = links::reply_token(&self.key.0, row.tenant_id, row.id);
            let address = links::reply_address(pattern, &token)
                .parse()
                .context("configuration key `email.reply_to`: not an email address")?;
            builder = builder.reply_to(Mailbox::new(Some(row.from_name.clone()), address));
        }
        let unsubscribe = match (ticket_mail, &row.unsubscribe_path) {
            (Some((ticket, user)), Some(path)) => {
                let token = links::unsubscribe_token(&self.key.0, row.tenant_id, user, ticket);
                let url = format!("{}{path}?token={token}", self.public_url);
                builder = builder.header(ListUnsubscribe(format!("<{url}>")));
                url
            }
            _ => String::new(),
        };
        let text = row
            .body_text
            .replace(ORIGIN_MARK, &self.public_url)
            .replace(UNSUBSCRIBE_MARK, &unsubscribe);
        let html = row
            .body_html
            .replace(ORIGIN_MARK, &self.public_url)
            .replace(UNSUBSCRIBE_MARK, &unsubscribe);
        Ok(builder.multipart(MultiPart::alternative_plain_html(text, html))?)
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): tells vacation responders and
/// other robots not to answer, so notifications cannot start a mail loop.
#[derive(Clone, Debug)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// `List-Unsubscribe: <url>` (RFC 2369): mail clients offer it as a button; it
/// leads to the page that stops the recipient following the ticket.
#[derive(Clone, Debug)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(value: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(value.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_with_bounded_jitter() {
        // (attempts so far, jitter, delay)
        let cases = [
            (1, 0.0, Duration::seconds(30)),
            (1, 1.0, Duration::minutes(1)),
            (2, 0.0, Duration::minutes(1)),
            (3, 1.0, Duration::minutes(4)),
            (4, 0.5, Duration::minutes(6)),
            (20, 1.0, LONGEST_RETRY),
            (20, 0.0, LONGEST_RETRY / 2),
            (0, 1.0, Duration::minutes(1)),
        ];
        for (attempts, jitter, expected) in cases {
            assert_eq!(
                backoff(attempts, jitter),
                expected,
                "{attempts} at {jitter}"
            );
        }
    }
}
