//! Configuration: built-in defaults (`config/default.toml`, compiled in), then
//! `config/default.toml` and `config/{profile}.toml` from the working directory,
//! then `TESSERA__SECTION__KEY` environment variables, then command-line flags.
//! Everything is validated at start; an error names the key and the reason.

use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

const BUILT_IN_DEFAULTS: &str = include_str!("../config/default.toml");
const SESSION_SECRET_FILE: &str = "session-secret";

#[derive(Debug, Clone, Deserialize)]
pub struct Config {
    pub server: ServerConfig,
    pub database: DatabaseConfig,
    pub session: SessionConfig,
    pub auth: AuthConfig,
    pub attachments: AttachmentsConfig,
    pub smtp: SmtpConfig,
    pub email: EmailConfig,
    pub chat: ChatConfig,
    pub jobs: JobsConfig,
    pub log: LogConfig,
}

#[derive(Debug, Clone, Deserialize)]
pub struct JobsConfig {
    pub auto_close_interval_secs: u64,
    /// How often stored files without a row are looked for.
    pub orphan_sweep_interval_secs: u64,
    /// How old a file without a row must be before the sweep deletes it.
    pub orphan_grace_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ServerConfig {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    pub public_url: String,
    pub request_timeout_secs: u64,
    pub body_limit_bytes: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DatabaseConfig {
    pub url: Option<SecretString>,
    pub max_connections: u32,
    /// How long a request waits for a connection before it answers 503: the
    /// database is down or every connection is busy.
    pub acquire_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SessionConfig {
    pub secret: Option<SecretString>,
    pub idle_timeout_hours: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AuthConfig {
    pub max_failures_per_account: i32,
    pub max_failures_per_address: i32,
    pub throttle_window_secs: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct AttachmentsConfig {
    /// The local backend's directory (unset: `data_dir/attachments`).
    pub dir: Option<PathBuf>,
    /// The largest file one may upload (each file; an upload holds up to
    /// `attachments::MAX_FILES_PER_UPLOAD`). Tenant admins may choose less.
    pub max_file_bytes: u64,
    /// Where the bytes live.
    #[serde(default)]
    pub backend: StorageBackend,
    /// The bucket, for `backend = "s3"`.
    #[serde(default)]
    pub s3: Option<S3Config>,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    #[default]
    Local,
    S3,
}

/// An S3-compatible bucket (AWS S3, MinIO, Garage, Ceph …).
#[derive(Debug, Clone, Deserialize)]
pub struct S3Config {
    pub bucket: String,
    #[serde(default = "default_s3_region")]
    pub region: String,
    /// Unset: AWS. For other services their URL, e.g. `http://127.0.0.1:9000`.
    pub endpoint: Option<String>,
    /// Unset: taken from the environment (AWS_ACCESS_KEY_ID, instance metadata …).
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<SecretString>,
    /// `endpoint/bucket/key` URLs instead of `bucket.endpoint/key` (MinIO and
    /// most self-hosted services want this).
    #[serde(default)]
    pub path_style: bool,
}

fn default_s3_region() -> String {
    "us-east-1".to_owned()
}

#[derive(Debug, Clone, Deserialize)]
pub struct SmtpConfig {
    pub host: Option<String>,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub from: String,
    /// Delivery attempts per message before it is marked failed.
    pub max_attempts: u32,
    /// The first retry waits about this long, each further one twice as long…
    pub first_retry_secs: u64,
    /// …up to this.
    pub longest_retry_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct EmailConfig {
    /// The Reply-To address of ticket notifications, with `{token}` where the
    /// reply token goes (`support+{token}@help.example.test`). Unset: no
    /// Reply-To, and inbound mail matches by threading headers and subject only.
    pub reply_to: Option<String>,
    /// The largest inbound message accepted (bytes); larger ones are rejected.
    pub inbound_max_bytes: usize,
}

/// What tenant admins may point chat webhooks at.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct ChatConfig {
    /// Allow `http://` webhook URLs (local tests); otherwise https only.
    pub allow_http: bool,
    /// Allow URLs that resolve to loopback, private or link-local addresses.
    pub allow_private_addresses: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    Starttls,
    Tls,
    Plain,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LogConfig {
    pub format: LogFormat,
    pub filter: String,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A configuration problem, worded for the operator: which key, and why.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(String),
    #[error("configuration key `{key}`: {reason}")]
    Key { key: &'static str, reason: String },
}

/// Values given on the command line; they win over every other source.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Overrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<SocketAddr>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

impl Config {
    /// Loads the layered configuration from the working directory and the process environment.
    pub fn load(overrides: &Overrides) -> Result<Self, ConfigError> {
        let profile = std::env::var("TESSERA_PROFILE").ok();
        let mut figment =
            Figment::from(Toml::string(BUILT_IN_DEFAULTS)).merge(Toml::file("config/default.toml"));
        if let Some(profile) = profile.filter(|p| !p.is_empty()) {
            figment = figment.merge(Toml::file(format!("config/{profile}.toml")));
        }
        figment = figment.merge(Env::prefixed("TESSERA__").split("__"));
        if let Ok(url) = std::env::var("DATABASE_URL") {
            // The conventional variable, below Tessera's own.
            if std::env::var_os("TESSERA__DATABASE__URL").is_none() && !url.is_empty() {
                figment = figment.merge(Serialized::default("database.url", url));
            }
        }
        figment = figment.merge(Serialized::default("server", overrides));
        Self::from_figment(figment)
    }

    /// Extracts and validates a configuration from any figment (tests build their own).
    pub fn from_figment(figment: Figment) -> Result<Self, ConfigError> {
        let config: Config = figment.extract().map_err(|error| {
            // figment names the key in its message ("… for key `server.bind` …").
            ConfigError::Invalid(error.to_string())
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The built-in defaults alone, as a figment to layer test values on.
    pub fn defaults() -> Figment {
        Figment::from(Toml::string(BUILT_IN_DEFAULTS))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let key = |key, reason: &str| {
            Err(ConfigError::Key {
                key,
                reason: reason.to_owned(),
            })
        };
        if !(self.server.public_url.starts_with("http://")
            || self.server.public_url.starts_with("https://"))
        {
            return key("server.public_url", "must start with http:// or https://");
        }
        if self.server.request_timeout_secs == 0 {
            return key("server.request_timeout_secs", "must be at least 1");
        }
        if self.server.body_limit_bytes < 1024 {
            return key("server.body_limit_bytes", "must be at least 1024");
        }
        if self.database.max_connections == 0 {
            return key("database.max_connections", "must be at least 1");
        }
        if self.database.acquire_timeout_secs == 0 {
            return key("database.acquire_timeout_secs", "must be at least 1");
        }
        if let Some(url) = &self.database.url {
            let url = url.expose_secret();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return key("database.url", "must be a postgres:// or postgresql:// URL");
            }
        }
        if let Some(secret) = &self.session.secret
            && secret.expose_secret().len() < 32
        {
            return key("session.secret", "must be at least 32 characters long");
        }
        if self.session.idle_timeout_hours < 1 {
            return key("session.idle_timeout_hours", "must be at least 1");
        }
        if self.auth.max_failures_per_account < 1 || self.auth.max_failures_per_address < 1 {
            return key("auth.max_failures_per_*", "must be at least 1");
        }
        if self.auth.throttle_window_secs < 1 {
            return key("auth.throttle_window_secs", "must be at least 1");
        }
        if self.attachments.max_file_bytes == 0 {
            return key("attachments.max_file_bytes", "must be at least 1");
        }
        if self.attachments.backend == StorageBackend::S3 {
            let Some(s3) = &self.attachments.s3 else {
                return key(
                    "attachments.s3",
                    "is needed with backend = \"s3\" (at least `bucket`)",
                );
            };
            if s3.bucket.trim().is_empty() {
                return key("attachments.s3.bucket", "must not be empty");
            }
            if let Err(error) = crate::attachments::s3::S3Store::new(s3) {
                return key("attachments.s3", &error.to_string());
            }
        }
        if self.jobs.auto_close_interval_secs == 0 {
            return key("jobs.auto_close_interval_secs", "must be at least 1");
        }
        if self.jobs.orphan_sweep_interval_secs == 0 {
            return key("jobs.orphan_sweep_interval_secs", "must be at least 1");
        }
        if self.smtp.from.trim().is_empty() {
            return key("smtp.from", "must not be empty");
        }
        if self.smtp.from.parse::<lettre::message::Mailbox>().is_err() {
            return key(
                "smtp.from",
                "must be an email address, optionally with a name: `Name <address>`",
            );
        }
        if let Some(pattern) = &self.email.reply_to
            && (pattern.matches("{token}").count() != 1
                || !pattern
                    .split_once("{token}")
                    .is_some_and(|(_, domain)| domain.contains('@')))
        {
            return key(
                "email.reply_to",
                "must be an address with `{token}` once before the @, like support+{token}@example.test",
            );
        }
        if self.email.inbound_max_bytes == 0 {
            return key("email.inbound_max_bytes", "must be at least 1");
        }
        if self.smtp.max_attempts == 0 {
            return key("smtp.max_attempts", "must be at least 1");
        }
        if self.smtp.first_retry_secs == 0
            || self.smtp.longest_retry_secs < self.smtp.first_retry_secs
        {
            return key(
                "smtp.first_retry_secs",
                "must be at least 1 and at most smtp.longest_retry_secs",
            );
        }
        if self.public() {
            self.refuse_weak_secrets()?;
        }
        Ok(())
    }

    /// Served over https, Tessera is in production: secrets copied from the
    /// documentation or guessable at a glance stop the start.
    fn refuse_weak_secrets(&self) -> Result<(), ConfigError> {
        let refuse = |key: &'static str, reason: &str| {
            Err(ConfigError::Key {
                key,
                reason: format!("{reason} (refused because server.public_url is https)"),
            })
        };
        if let Some(secret) = &self.session.secret
            && let Some(reason) = weak_session_secret(secret.expose_secret())
        {
            return refuse("session.secret", reason);
        }
        if let Some(url) = &self.database.url
            && let Some(password) = url_password(url.expose_secret())
            && is_default_password(password)
        {
            return refuse(
                "database.url",
                "has a default or example password; use a strong, generated one",
            );
        }
        if let Some(password) = &self.smtp.password
            && is_default_password(password.expose_secret())
        {
            return refuse(
                "smtp.password",
                "is a placeholder or default password; set the real one",
            );
        }
        if let Some(key) = self
            .attachments
            .s3
            .as_ref()
            .and_then(|s3| s3.secret_access_key.as_ref())
            && is_default_password(key.expose_secret())
        {
            return refuse(
                "attachments.s3.secret_access_key",
                "is a placeholder or default key; set the real one",
            );
        }
        Ok(())
    }

    /// Whether users reach Tessera over https: a public, production setup.
    pub fn public(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }

    /// Cookies are marked `Secure` when users reach Tessera over TLS.
    pub fn secure_cookies(&self) -> bool {
        self.server.public_url.starts_with("https://")
    }

    pub fn attachment_dir(&self) -> PathBuf {
        self.attachments
            .dir
            .clone()
            .unwrap_or_else(|| self.server.data_dir.join("attachments"))
    }

    /// The configured session secret, or the one kept in the data directory
    /// (created on first use, readable by its owner only).
    pub fn session_secret(&self) -> anyhow::Result<SecretString> {
        if let Some(secret) = &self.session.secret {
            return Ok(secret.clone());
        }
        load_or_create_secret(&self.server.data_dir.join(SESSION_SECRET_FILE))
    }
}

/// Words that mark a value as copied from documentation or a tutorial.
const PLACEHOLDER_WORDS: &[&str] = &[
    "change",
    "replace",
    "example",
    "placeholder",
    "default",
    "secret",
    "password",
    "…",
    "...",
    "xxxx",
    "todo",
    "tessera",
];

/// Passwords seen in examples and default installs (ours included: the
/// Dockerfile's `tessera:secret`).
const DEFAULT_PASSWORDS: &[&str] = &[
    "",
    "secret",
    "password",
    "passw0rd",
    "postgres",
    "tessera",
    "admin",
    "root",
    "changeme",
    "change-me",
    "change_me",
    "123456",
    "12345678",
    "letmein",
    "…",
    "...",
    "xxx",
    "test",
];

/// Why `secret` is no session secret for production, if it is not.
fn weak_session_secret(secret: &str) -> Option<&'static str> {
    let lower = secret.to_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|word| lower.contains(word)) {
        return Some("looks like a placeholder; generate one, e.g. `openssl rand -base64 48`");
    }
    let distinct: std::collections::BTreeSet<char> = secret.chars().collect();
    if distinct.len() < 12 {
        return Some(
            "has too few different characters to be random; generate one, e.g. `openssl rand -base64 48`",
        );
    }
    None
}

fn is_default_password(password: &str) -> bool {
    let password = password.trim().to_lowercase();
    DEFAULT_PASSWORDS.contains(&password.as_str())
}

/// The password of a `postgres://user:password@host/…` URL, if it has one.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let credentials = authority.rsplit_once('@')?.0;
    Some(credentials.split_once(':')?.1)
}

fn load_or_create_secret(path: &Path) -> anyhow::Result<SecretString> {
    use anyhow::Context as _;
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(SecretString::from(existing.to_owned()));
        }
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating data directory {}", parent.display()))?;
    }
    let secret = crate::auth::tokens::random_token();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing session secret {}", path.display()))?;
    file.write_all(secret.as_bytes())?;
    Ok(SecretString::from(secret))
}
