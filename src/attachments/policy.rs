//! A tenant's upload policy: the admin's maximum size per file (bounded by the
//! operator's `attachments.max_file_bytes`) and the optional allow-list of
//! formats, enforced by extension *and* by the sniffed content.
//!
//! The allow-list is a fixed menu of formats rather than free text: a format we
//! know is one whose content we can recognise, so "PNG" can mean "a file named
//! .png whose bytes are a PNG", not just a name.

use super::validate;
use crate::{config::Config, db::TenantId};
use sqlx::PgConnection;

/// One mebibyte: the admin's setting is in MB (as people say it, powers of 1024
/// like [`validate::format_size`]).
pub const MB: u64 = 1024 * 1024;
/// The admin's maximum size per file until changed.
pub const DEFAULT_MAX_FILE_MB: i32 = 25;

/// A format an allow-list may name.
#[derive(Debug, PartialEq, Eq)]
pub struct Format {
    /// As shown and stored: "JPG".
    pub name: &'static str,
    /// Lower-case extensions that name it.
    pub extensions: &'static [&'static str],
    /// Sniffed content types that prove it (see [`validate::sniff`]).
    pub content_types: &'static [&'static str],
}

const OOXML: [&str; 3] = [
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
];

/// Every format an admin can allow, in the order the settings page lists them.
pub const FORMATS: &[Format] = &[
    Format {
        name: "JPG",
        extensions: &["jpg", "jpeg"],
        content_types: &["image/jpeg"],
    },
    Format {
        name: "PNG",
        extensions: &["png"],
        content_types: &["image/png"],
    },
    Format {
        name: "GIF",
        extensions: &["gif"],
        content_types: &["image/gif"],
    },
    Format {
        name: "WEBP",
        extensions: &["webp"],
        content_types: &["image/webp"],
    },
    Format {
        name: "PDF",
        extensions: &["pdf"],
        content_types: &["application/pdf"],
    },
    Format {
        name: "DOC",
        extensions: &["doc"],
        // Older sniffers see any OLE compound file, Word's included.
        content_types: &["application/msword", "application/x-ole-storage"],
    },
    Format {
        name: "DOCX",
        extensions: &["docx"],
        // A .docx is a zip; when its parts are not where the sniffer looks
        // first, it is recognised as a zip only.
        content_types: &[OOXML[0], "application/zip"],
    },
    Format {
        name: "XLS",
        extensions: &["xls"],
        content_types: &["application/vnd.ms-excel", "application/x-ole-storage"],
    },
    Format {
        name: "XLSX",
        extensions: &["xlsx"],
        content_types: &[OOXML[1], "application/zip"],
    },
    Format {
        name: "TXT",
        extensions: &["txt", "log"],
        content_types: &["text/plain"],
    },
    Format {
        name: "CSV",
        extensions: &["csv"],
        content_types: &["text/plain"],
    },
    Format {
        name: "ZIP",
        extensions: &["zip"],
        content_types: &["application/zip", OOXML[0], OOXML[1], OOXML[2]],
    },
];

/// The allow-list an admin starts from (seed 000's list).
pub const PRESET: &[&str] = &["JPG", "PNG", "GIF", "PDF", "DOC", "DOCX", "TXT", "ZIP"];

pub fn format(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// The attachment columns of `tenant_settings`, as the admin sets them.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Settings {
    pub max_file_mb: i32,
    /// Off: every format but programs and scripts.
    pub allow_list: bool,
    /// Format names (see [`FORMATS`]); kept while the list is off.
    pub formats: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_file_mb: DEFAULT_MAX_FILE_MB,
            allow_list: false,
            formats: PRESET.iter().map(|f| (*f).to_owned()).collect(),
        }
    }
}

/// The largest per-file size an admin may choose, in whole MB: the operator's
/// limit rounded down, at least 1.
pub fn operator_max_mb(config: &Config) -> i32 {
    i32::try_from(config.attachments.max_file_bytes / MB)
        .unwrap_or(i32::MAX)
        .max(1)
}

/// What an upload to one tenant may hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub max_file_bytes: u64,
    /// None: no allow-list.
    pub allowed: Option<Vec<&'static Format>>,
}

impl Policy {
    /// The tenant's settings within the operator's bound.
    pub fn new(config: &Config, settings: &Settings) -> Self {
        let chosen = u64::try_from(settings.max_file_mb.max(1))
            .unwrap_or(1)
            .saturating_mul(MB);
        Self {
            max_file_bytes: chosen.min(config.attachments.max_file_bytes),
            allowed: settings
                .allow_list
                .then(|| settings.formats.iter().filter_map(|f| format(f)).collect()),
        }
    }

    /// The tenant's policy (its settings row, or the defaults).
    pub async fn load(
        conn: &mut PgConnection,
        tenant: TenantId,
        config: &Config,
    ) -> Result<Self, sqlx::Error> {
        let settings = super::repo::settings(conn, tenant).await?;
        Ok(Self::new(config, &settings))
    }

    /// Why `filename` is refused by the allow-list, if it is.
    pub fn refuse_name(&self, filename: &str) -> Option<String> {
        let allowed = self.allowed.as_ref()?;
        let found = allowed_by_name(allowed, filename);
        found.is_none().then(|| {
            format!(
                "“{filename}” is not a supported format. Supported formats: {}.",
                names(allowed)
            )
        })
    }

    /// Why a file named `filename` whose content sniffed as `content_type` is
    /// refused by the allow-list: its bytes must be the format its name says.
    pub fn refuse_content(&self, filename: &str, content_type: &str) -> Option<String> {
        let allowed = self.allowed.as_ref()?;
        let matches = allowed_by_name(allowed, filename)
            .is_some_and(|format| format.content_types.contains(&content_type));
        (!matches).then(|| {
            format!("“{filename}” does not contain what its name says, so it cannot be attached.")
        })
    }

    /// The file input's `accept` list (".jpg,.jpeg,.png,…"), empty without an
    /// allow-list. Only a hint to the browser's picker; the server checks.
    pub fn accept(&self) -> String {
        self.allowed
            .iter()
            .flatten()
            .flat_map(|format| format.extensions.iter())
            .map(|extension| format!(".{extension}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The line under the drop zone: "Up to 10 files, max 25 MB each. …" or,
    /// with an allow-list, "Supported formats: JPG, PNG, …, max 25 MB".
    pub fn limits_line(&self) -> String {
        let max = validate::format_size(self.max_file_bytes);
        match &self.allowed {
            Some(allowed) => format!(
                "Supported formats: {}, max {max} (up to {} files).",
                names(allowed),
                validate::MAX_FILES_PER_UPLOAD
            ),
            None => format!(
                "Up to {} files, max {max} each. Programs and scripts are not accepted.",
                validate::MAX_FILES_PER_UPLOAD
            ),
        }
    }
}

fn allowed_by_name(allowed: &[&'static Format], filename: &str) -> Option<&'static Format> {
    let (_, extension) = filename.rsplit_once('.')?;
    let extension = extension.to_ascii_lowercase();
    allowed
        .iter()
        .copied()
        .find(|format| format.extensions.contains(&extension.as_str()))
}

fn names(allowed: &[&'static Format]) -> String {
    allowed
        .iter()
        .map(|format| format.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(max: u64) -> Config {
        let mut config = Config::from_figment(Config::defaults()).unwrap();
        config.attachments.max_file_bytes = max;
        config
    }

    #[test]
    fn the_admin_limit_is_bounded_by_the_operator() {
        let settings = Settings {
            max_file_mb: 100,
            ..Settings::default()
        };
        assert_eq!(
            Policy::new(&config(25 * MB), &settings).max_file_bytes,
            25 * MB
        );
        let settings = Settings::default();
        assert_eq!(
            Policy::new(&config(1024 * MB), &settings).max_file_bytes,
            25 * MB
        );
        assert_eq!(operator_max_mb(&config(1024)), 1);
        assert_eq!(operator_max_mb(&config(30 * MB + 5)), 30);
    }

    #[test]
    fn the_allow_list_checks_the_name_and_the_content() {
        let open = Policy::new(&config(25 * MB), &Settings::default());
        assert_eq!(open.refuse_name("movie.mkv"), None);
        assert!(
            open.limits_line()
                .starts_with("Up to 10 files, max 25 MB each.")
        );

        let listed = Policy::new(
            &config(25 * MB),
            &Settings {
                allow_list: true,
                ..Settings::default()
            },
        );
        assert_eq!(
            listed.limits_line(),
            "Supported formats: JPG, PNG, GIF, PDF, DOC, DOCX, TXT, ZIP, max 25 MB (up to 10 files)."
        );
        assert_eq!(open.accept(), "");
        assert!(
            listed
                .accept()
                .starts_with(".jpg,.jpeg,.png,.gif,.pdf,.doc,")
        );
        assert_eq!(listed.refuse_name("photo.JPEG"), None);
        assert_eq!(listed.refuse_content("photo.JPEG", "image/jpeg"), None);
        assert!(listed.refuse_name("movie.mkv").is_some());
        assert!(listed.refuse_name("no-extension").is_some());
        assert!(
            listed
                .refuse_content("photo.png", "application/pdf")
                .is_some()
        );
        assert!(
            listed
                .refuse_content("notes.txt", "application/octet-stream")
                .is_some()
        );
        assert_eq!(
            listed.refuse_content("report.docx", "application/zip"),
            None
        );
    }
}
