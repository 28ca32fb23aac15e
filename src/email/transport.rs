//! Where delivered mail goes: an SMTP server, or `.eml` files in a directory.

use crate::config::{Config, SmtpSecurity};
use anyhow::Context as _;
use lettre::{
    AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
    transport::smtp::authentication::Credentials,
};
use secrecy::ExposeSecret as _;
use std::{path::PathBuf, time::Duration};

/// How long one message's SMTP exchange may take before the attempt counts as
/// failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub enum Transport {
    /// An SMTP relay (production; tests use an in-process SMTP sink).
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// One `.eml` file per message in this directory: the default when no SMTP
    /// host is configured, so local and demo mode run with no mail server and a
    /// person can open what would have been sent.
    File(PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Smtp(_) => f.write_str("Transport::Smtp"),
            Transport::File(dir) => write!(f, "Transport::File({})", dir.display()),
        }
    }
}

impl Transport {
    /// The transport `config.smtp` describes: SMTP when `smtp.host` is set,
    /// otherwise files under `data_dir/outbox`.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        let smtp = &config.smtp;
        let Some(host) = smtp.host.as_deref().filter(|h| !h.trim().is_empty()) else {
            return Ok(Transport::File(config.server.data_dir.join("outbox")));
        };
        let builder = match smtp.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .with_context(|| format!("configuration key `smtp.host`: {host}"))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .with_context(|| format!("configuration key `smtp.host`: {host}"))?,
            SmtpSecurity::Plain => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
        };
        let mut builder = builder.port(smtp.port).timeout(Some(SMTP_TIMEOUT));
        if let Some(username) = smtp.username.as_deref().filter(|u| !u.is_empty()) {
            let password = smtp
                .password
                .as_ref()
                .map(|p| p.expose_secret().to_owned())
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(username.to_owned(), password));
        }
        Ok(Transport::Smtp(builder.build()))
    }

    /// Delivers one message; `name` names its file for the file transport.
    pub async fn send(&self, message: &Message, name: &str) -> anyhow::Result<()> {
        match self {
            Transport::Smtp(smtp) => {
                // lettre's timeout bounds connecting only: a server that stops
                // answering mid-conversation held the send, and with it the
                // mail worker, for good (lettre issue 1027; the fault
                // harness's SMTP scenario caught it). The whole exchange is
                // bounded here.
                tokio::time::timeout(SMTP_TIMEOUT, smtp.send(message.clone()))
                    .await
                    .map_err(|_| anyhow::anyhow!("the SMTP server did not answer in time"))??;
                Ok(())
            }
            Transport::File(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .with_context(|| format!("creating {}", dir.display()))?;
                // Written aside and renamed, so a reader never sees half a message.
                let path = dir.join(format!("{name}.eml"));
                let partial = dir.join(format!(".{name}.eml.partial"));
                tokio::fs::write(&partial, message.formatted())
                    .await
                    .with_context(|| format!("writing {}", partial.display()))?;
                tokio::fs::rename(&partial, &path)
                    .await
                    .with_context(|| format!("writing {}", path.display()))?;
                Ok(())
            }
        }
    }
}
