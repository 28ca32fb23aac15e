//! Attachment settings (a block of the general settings page with its own
//! form): the maximum size per file and the optional allow-list of formats.

use super::*;
use crate::attachments::{self, policy};

/// What the attachment settings form sent.
#[derive(Clone, Debug, Default)]
pub struct AttachmentSettingsInput {
    pub max_file_mb: String,
    pub allow_list: bool,
    /// Format names as sent (checkboxes).
    pub formats: Vec<String>,
}

impl AttachmentSettingsInput {
    pub fn from_settings(s: &policy::Settings) -> Self {
        Self {
            max_file_mb: s.max_file_mb.to_string(),
            allow_list: s.allow_list,
            formats: s.formats.clone(),
        }
    }
}

/// Checks the form; `operator_max_mb` is the largest size the server allows.
pub fn check_attachment_settings(
    input: &AttachmentSettingsInput,
    operator_max_mb: i32,
) -> (policy::Settings, FieldErrors) {
    let mut errors = FieldErrors::new();
    let max_file_mb = input
        .max_file_mb
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|mb| (1..=operator_max_mb).contains(mb))
        .unwrap_or_else(|| {
            errors.insert(
                "max_file_mb",
                format!(
                    "Enter a whole number of MB from 1 to {operator_max_mb} (the server's limit)."
                ),
            );
            policy::DEFAULT_MAX_FILE_MB
        });
    // Known formats only, in the menu's order, each once.
    let formats: Vec<String> = policy::FORMATS
        .iter()
        .filter(|f| input.formats.iter().any(|sent| sent == f.name))
        .map(|f| f.name.to_owned())
        .collect();
    if input.allow_list && formats.is_empty() {
        errors.insert(
            "formats",
            "Choose at least one format, or accept every format.".to_owned(),
        );
    }
    let settings = policy::Settings {
        max_file_mb,
        allow_list: input.allow_list,
        formats,
    };
    (settings, errors)
}

pub async fn save_attachment_settings(
    ctx: Ctx<'_>,
    input: &AttachmentSettingsInput,
    operator_max_mb: i32,
) -> AdminResult<()> {
    let (new, errors) = check_attachment_settings(input, operator_max_mb);
    if !errors.is_empty() {
        return Err(AdminError::Invalid(errors));
    }
    let mut tx = ctx.begin().await?;
    let tenant = ctx.tenant();
    let old = attachments::repo::settings_for_update(&mut tx, tenant).await?;
    if old == new {
        return Ok(());
    }
    attachments::repo::save_settings(&mut tx, tenant, &new, ctx.clock.now()).await?;
    let changes: [(&str, String, String); 3] = [
        (
            "Maximum size per file (MB)",
            old.max_file_mb.to_string(),
            new.max_file_mb.to_string(),
        ),
        (
            "Only listed formats",
            yes_no(old.allow_list),
            yes_no(new.allow_list),
        ),
        (
            "Allowed formats",
            old.formats.join(", "),
            new.formats.join(", "),
        ),
    ];
    ctx.audit_settings(&mut tx, "general", &changes).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_stay_within_the_server_limit_and_formats_are_known_ones() {
        let input = AttachmentSettingsInput {
            max_file_mb: "30".to_owned(),
            allow_list: true,
            formats: vec!["PNG".to_owned(), "EXE".to_owned(), "JPG".to_owned()],
        };
        let (settings, errors) = check_attachment_settings(&input, 25);
        assert!(errors.contains_key("max_file_mb"));
        assert_eq!(settings.formats, ["JPG", "PNG"]);

        let (_, errors) = check_attachment_settings(
            &AttachmentSettingsInput {
                max_file_mb: "10".to_owned(),
                allow_list: true,
                formats: vec![],
            },
            25,
        );
        assert_eq!(errors.keys().copied().collect::<Vec<_>>(), ["formats"]);
    }
}
