//! Attachments: uploads on create, replies and notes streamed to a real
//! directory, downloads only for those who may see them (with safe headers),
//! refused programs, scripts, counts and sizes with nothing left behind, file
//! name normalisation, and the CSRF token of forms with files.

use crate::helpers::{PASSWORD, TestApp};
use axum::http::StatusCode;
use figment::providers::Serialized;
use sha2::{Digest as _, Sha256};
use std::path::{Path, PathBuf};
use tessera::{auth::model::User, config::Config, db::TenantId, tenants::Tenant};

const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";

/// Tenant acme (and globex) with a storage directory of the test's own.
struct Desk {
    app: TestApp,
    acme: Tenant,
    customer: User,
    agent: User,
    admin: User,
    dir: PathBuf,
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn desk_with(max_file_bytes: Option<u64>) -> Desk {
    let dir = std::env::temp_dir().join(format!("tessera-attachments-{}", uuid::Uuid::now_v7()));
    let mut figment = Config::defaults().merge(Serialized::default("attachments.dir", &dir));
    if let Some(max) = max_file_bytes {
        figment = figment.merge(Serialized::default("attachments.max_file_bytes", max));
    }
    let app = TestApp::with_config(figment).await;
    let acme = app.create_tenant("acme").await;
    app.create_tenant("globex").await;
    Desk {
        app,
        acme: acme.tenant,
        customer: acme.customer,
        agent: acme.agent,
        admin: acme.admin,
        dir,
    }
}

async fn desk() -> Desk {
    desk_with(None).await
}

impl Desk {
    async fn sign_in_as(&mut self, tenant: &str, email: &str) {
        self.app.clear_cookies();
        self.app
            .sign_in(tenant, email, PASSWORD)
            .await
            .assert_redirect_to(&format!("/{tenant}/"));
    }

    /// Creates a ticket through the form with `files`; returns its number.
    async fn create_with(&mut self, files: &[(&str, &[u8])]) -> i64 {
        self.app.get("/acme/tickets/new").await;
        let response = self
            .app
            .post_multipart(
                "/acme/tickets",
                &[
                    ("subject", "Scanner jams"),
                    ("description", "See the files."),
                ],
                files,
            )
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
        let location = response.location().expect("a redirect").to_owned();
        location
            .trim_start_matches("/acme/tickets/")
            .split('?')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("the ticket number in the redirect")
    }

    /// The download links on the ticket page, in page order.
    async fn links(&mut self, number: i64) -> Vec<String> {
        let page = self.app.get(&format!("/acme/tickets/{number}")).await;
        assert_eq!(page.status, StatusCode::OK);
        let prefix = format!("/acme/tickets/{number}/attachments/");
        page.body
            .match_indices(&prefix)
            .map(|(at, _)| page.body[at..at + prefix.len() + 36].to_owned())
            .collect()
    }

    async fn rows(&self, tenant: TenantId) -> i64 {
        let mut tx = self.app.db.tenant_tx(tenant).await.expect("a transaction");
        let n = sqlx::query_scalar::<_, i64>("select count(*) from attachments")
            .fetch_one(&mut *tx)
            .await
            .expect("counting attachments");
        tx.commit().await.expect("commit");
        n
    }

    fn stored_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir, &mut out);
        out
    }

    async fn assert_nothing_saved(&self) {
        assert_eq!(self.rows(self.acme.id).await, 0, "no attachment row");
        assert_eq!(self.stored_files(), Vec::<PathBuf>::new(), "no file left");
    }
}

#[tokio::test]
async fn files_uploaded_on_create_and_reply_download_with_safe_headers_for_requester_and_staff() {
    let mut desk = desk().await;
    let (customer, agent) = (desk.customer.email.clone(), desk.agent.email.clone());
    desk.sign_in_as("acme", &customer).await;
    let number = desk.create_with(&[("report.pdf", PDF)]).await;

    desk.app.get(&format!("/acme/tickets/{number}")).await;
    let notes = "line one\nline two\n".as_bytes();
    let reply = desk
        .app
        .post_multipart(
            &format!("/acme/tickets/{number}/replies"),
            &[("body", "More details attached."), ("action", "send")],
            &[("notes.txt", notes)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);

    let page = desk.app.get(&format!("/acme/tickets/{number}")).await;
    assert!(page.body.contains("report.pdf") && page.body.contains("notes.txt"));
    let links = desk.links(number).await;
    assert_eq!(links.len(), 2, "{links:?}");
    assert_eq!(desk.stored_files().len(), 2);
    let activity = desk
        .app
        .get(&format!("/acme/tickets/{number}/activity"))
        .await;
    assert_eq!(activity.status, StatusCode::OK);
    for line in [
        format!("attached report.pdf ({} bytes)", PDF.len()),
        "attached notes.txt (18 bytes)".to_owned(),
    ] {
        assert!(activity.body.contains(&line), "{line}: {}", activity.body);
    }

    for who in [customer, agent] {
        desk.sign_in_as("acme", &who).await;
        let (response, bytes) = desk.app.get_bytes(&links[0]).await;
        assert_eq!(response.status, StatusCode::OK, "{who}");
        assert_eq!(bytes, PDF);
        assert_eq!(response.header("content-type"), Some("application/pdf"));
        assert_eq!(
            response.header("content-disposition"),
            Some("attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf")
        );
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(
            response.header("content-security-policy"),
            Some("default-src 'none'; sandbox")
        );
        assert_eq!(response.header("cache-control"), Some("private, no-store"));

        let (response, bytes) = desk.app.get_bytes(&links[1]).await;
        assert_eq!(response.status, StatusCode::OK, "{who}");
        assert_eq!(bytes, notes);
        assert_eq!(response.header("content-type"), Some("text/plain"));
    }

    // What the database keeps: the name, the sniffed type, the size, the hash.
    let mut tx = desk.app.db.tenant_tx(desk.acme.id).await.unwrap();
    let (name, content_type, size, sha): (String, String, i64, Vec<u8>) = sqlx::query_as(
        "select filename, content_type, size_bytes, sha256 from attachments where reply_id is null",
    )
    .fetch_one(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        (name.as_str(), content_type.as_str()),
        ("report.pdf", "application/pdf")
    );
    assert_eq!(size, PDF.len() as i64);
    assert_eq!(sha, Sha256::digest(PDF).to_vec());
}

#[tokio::test]
async fn other_customers_other_tenants_and_anonymous_cannot_download() {
    let mut desk = desk().await;
    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    let number = desk.create_with(&[("report.pdf", PDF)]).await;
    let link = desk.links(number).await.remove(0);

    // Another customer of the same tenant.
    tessera::auth::service::create_user(
        &desk.app.db,
        desk.acme.id,
        tessera::auth::model::NewUser::new(
            "other@acme.test",
            Some("Other"),
            tessera::auth::model::Role::Customer,
            Some(PASSWORD.to_owned()),
        )
        .unwrap(),
    )
    .await
    .unwrap();
    desk.sign_in_as("acme", "other@acme.test").await;
    let (response, bytes) = desk.app.get_bytes(&link).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(!bytes.starts_with(b"%PDF"));

    // An agent of another tenant: anonymous in acme, and nothing in their own.
    desk.sign_in_as("globex", "agent@globex.test").await;
    let (response, _) = desk.app.get_bytes(&link).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(
        response
            .location()
            .unwrap_or_default()
            .starts_with("/acme/login")
    );
    let id = link.rsplit('/').next().unwrap();
    for path in [
        format!("/globex/tickets/{number}/attachments/{id}"),
        format!("/globex/tickets/1/attachments/{id}"),
    ] {
        let (response, _) = desk.app.get_bytes(&path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
    }

    desk.app.clear_cookies();
    let (response, _) = desk.app.get_bytes(&link).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);

    // Ids that are not there, or not ids.
    desk.sign_in_as("acme", &customer).await;
    for path in [
        format!(
            "/acme/tickets/{number}/attachments/{}",
            uuid::Uuid::now_v7()
        ),
        format!("/acme/tickets/{number}/attachments/nope"),
        format!("/acme/tickets/{}/attachments/{id}", number + 1),
    ] {
        let (response, _) = desk.app.get_bytes(&path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn a_file_on_an_internal_note_is_for_staff_only() {
    let mut desk = desk().await;
    let (customer, agent) = (desk.customer.email.clone(), desk.agent.email.clone());
    desk.sign_in_as("acme", &customer).await;
    let number = desk.create_with(&[]).await;

    desk.sign_in_as("acme", &agent).await;
    desk.app.get(&format!("/acme/tickets/{number}")).await;
    let note = desk
        .app
        .post_multipart(
            &format!("/acme/tickets/{number}/replies"),
            &[
                ("body", "Vendor quote, internal."),
                ("internal", "1"),
                ("action", "send"),
            ],
            &[("quote-internal.pdf", PDF)],
        )
        .await;
    assert_eq!(note.status, StatusCode::SEE_OTHER, "{}", note.body);
    let links = desk.links(number).await;
    assert_eq!(links.len(), 1);
    let (response, _) = desk.app.get_bytes(&links[0]).await;
    assert_eq!(response.status, StatusCode::OK);

    let activity = desk
        .app
        .get(&format!("/acme/tickets/{number}/activity"))
        .await;
    assert!(activity.body.contains("attached quote-internal.pdf ("));

    desk.sign_in_as("acme", &customer).await;
    let page = desk.app.get(&format!("/acme/tickets/{number}")).await;
    assert!(!page.body.contains("quote-internal.pdf"));
    let activity = desk
        .app
        .get(&format!("/acme/tickets/{number}/activity"))
        .await;
    assert_eq!(activity.status, StatusCode::OK);
    assert!(!activity.body.contains("quote-internal.pdf"));
    let (response, bytes) = desk.app.get_bytes(&links[0]).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(!bytes.starts_with(b"%PDF"));
}

#[tokio::test]
async fn programs_and_scripts_are_refused_at_the_field_by_name_and_by_content() {
    let mut desk = desk().await;
    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "setup.exe",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00",
            "program or script (.exe)",
        ),
        (
            "report.pdf",
            b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00",
            "a Linux program (ELF)",
        ),
        ("notes.txt", b"#!/bin/sh\nrm -rf /\n", "a script"),
        (
            "invoice.pdf",
            b"MZ\x90\x00this is no pdf",
            "a Windows program",
        ),
    ];
    for (name, bytes, why) in cases {
        desk.app.get("/acme/tickets/new").await;
        let response = desk
            .app
            .post_multipart(
                "/acme/tickets",
                &[("subject", "With a program"), ("description", "x")],
                &[("fine.txt", b"harmless text\n"), (name, bytes)],
            )
            .await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(response.body.contains("id=\"attachments-error\""), "{name}");
        assert!(
            response.body.contains(name) && response.body.contains(why),
            "{name}: {}",
            response.body
        );
        assert!(
            response.body.contains("With a program"),
            "the form keeps the subject"
        );
        desk.assert_nothing_saved().await;
    }
    let tickets = {
        let mut tx = desk.app.db.tenant_tx(desk.acme.id).await.unwrap();
        let n: i64 = sqlx::query_scalar("select count(*) from tickets")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        n
    };
    assert_eq!(tickets, 0, "no ticket either");

    // And on a reply.
    let number = desk.create_with(&[]).await;
    desk.app.get(&format!("/acme/tickets/{number}")).await;
    let response = desk
        .app
        .post_multipart(
            &format!("/acme/tickets/{number}/replies"),
            &[("body", "Here is the tool."), ("action", "send")],
            &[("tool.sh", b"echo hi\n")],
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        response
            .body
            .contains("“tool.sh” is a program or script (.sh)")
    );
    assert!(
        response.body.contains("Here is the tool."),
        "the reply box keeps the text"
    );
    desk.assert_nothing_saved().await;
}

#[tokio::test]
async fn eleven_files_are_refused_and_nothing_is_kept() {
    let mut desk = desk().await;
    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    let names: Vec<String> = (1..=11).map(|i| format!("file-{i}.txt")).collect();
    let files: Vec<(&str, &[u8])> = names
        .iter()
        .map(|n| (n.as_str(), b"some text\n".as_slice()))
        .collect();
    desk.app.get("/acme/tickets/new").await;
    let response = desk
        .app
        .post_multipart(
            "/acme/tickets",
            &[("subject", "Many files"), ("description", "x")],
            &files,
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Attach at most 10 files at a time."));
    desk.assert_nothing_saved().await;

    // Ten are fine.
    let number = desk.create_with(&files[..10]).await;
    assert_eq!(desk.links(number).await.len(), 10);
}

#[tokio::test]
async fn a_file_over_the_limit_answers_413_naming_the_file_and_the_limit() {
    let mut desk = desk_with(Some(1024)).await;
    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    desk.app.get("/acme/tickets/new").await;
    let just_fits = vec![b'a'; 1024];
    let too_big = vec![b'a'; 1025];
    let response = desk
        .app
        .post_multipart(
            "/acme/tickets",
            &[("subject", "Big file"), ("description", "x")],
            &[("small.txt", &just_fits), ("big-log.txt", &too_big)],
        )
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        response
            .body
            .contains("“big-log.txt” is larger than the 1 KB limit for a file."),
        "{}",
        response.body
    );
    desk.assert_nothing_saved().await;

    let number = desk.create_with(&[("small.txt", &just_fits)]).await;
    assert_eq!(desk.links(number).await.len(), 1);
}

#[tokio::test]
async fn file_names_lose_path_parts_and_control_characters() {
    let mut desk = desk().await;
    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    let number = desk
        .create_with(&[
            ("../../etc/pass\u{85}wd\u{202e}.txt", b"root:x:0:0\n"),
            ("C:\\Users\\me\\Desktop\\notes.txt", b"notes\n"),
        ])
        .await;
    let page = desk.app.get(&format!("/acme/tickets/{number}")).await;
    assert!(page.body.contains(">passwd.txt</a>"), "{}", page.body);
    assert!(page.body.contains(">notes.txt</a>"));
    let links = desk.links(number).await;
    let (response, _) = desk.app.get_bytes(&links[0]).await;
    assert_eq!(
        response.header("content-disposition"),
        Some("attachment; filename=\"passwd.txt\"; filename*=UTF-8''passwd.txt")
    );
    // Stored under random names, never the uploaded ones.
    for file in desk.stored_files() {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.len() == 32 && name.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_form_with_files_without_a_valid_token_is_refused_with_403() {
    let mut desk = desk().await;
    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    desk.app.get("/acme/tickets/new").await;
    let token = desk.app.csrf_token().unwrap().to_owned();
    let fields = [("subject", "Forged"), ("description", "x")];
    let files: [(&str, &[u8]); 1] = [("report.pdf", PDF)];

    let missing = desk
        .app
        .post_multipart_without_token("/acme/tickets", &fields, &files)
        .await;
    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    let wrong = desk
        .app
        .post_multipart_without_token(
            "/acme/tickets",
            &[("csrf_token", "forged-token"), ("subject", "Forged")],
            &files,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    // The token must be the first field.
    let late = desk
        .app
        .post_multipart_without_token(
            "/acme/tickets",
            &[("subject", "Forged"), ("csrf_token", &token)],
            &files,
        )
        .await;
    assert_eq!(late.status, StatusCode::FORBIDDEN);
    desk.assert_nothing_saved().await;
}

#[tokio::test]
async fn a_failing_form_keeps_no_file_and_asks_for_the_files_again() {
    let mut desk = desk().await;
    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    desk.app.get("/acme/tickets/new").await;
    let response = desk
        .app
        .post_multipart(
            "/acme/tickets",
            &[("subject", ""), ("description", "No subject.")],
            &[("report.pdf", PDF)],
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("please choose your files again"));
    desk.assert_nothing_saved().await;
}

const SAVED: &str = "/acme/admin/general?notice=saved";

impl Desk {
    /// Saves the attachment settings block of the general page as the admin.
    /// Answers the status and the page, or the redirect target as the page.
    async fn set_attachment_settings(&mut self, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let admin = self.admin.email.clone();
        self.sign_in_as("acme", &admin).await;
        let page = self.app.get("/acme/admin/general").await;
        assert_eq!(page.status, StatusCode::OK);
        let response = self
            .app
            .post_form("/acme/admin/general/attachments", fields)
            .await;
        match response.location() {
            Some(to) => (response.status, to.to_owned()),
            None => (response.status, response.body),
        }
    }
}

#[tokio::test]
async fn the_admin_limit_per_file_is_shown_and_enforced_with_413() {
    let mut desk = desk().await;
    let page = {
        desk.sign_in_as("acme", "admin@acme.test").await;
        desk.app.get("/acme/admin/general").await
    };
    assert!(page.body.contains("Maximum size per file (MB)"));
    assert!(page.body.contains("value=\"25\""), "the default is 25 MB");

    // Over the operator's limit (25 MB by default): refused at the field.
    let (status, body) = desk.set_attachment_settings(&[("max_file_mb", "26")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("id=\"max_file_mb-error\""));
    assert!(
        body.contains("Enter a whole number of MB from 1 to 25"),
        "{body}"
    );

    let saved = desk.set_attachment_settings(&[("max_file_mb", "1")]).await;
    assert_eq!(saved, (StatusCode::SEE_OTHER, SAVED.to_owned()));
    let page = desk.app.get("/acme/admin/general").await;
    assert!(page.body.contains("value=\"1\""));

    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    let page = desk.app.get("/acme/tickets/new").await;
    assert!(
        page.body.contains("Up to 10 files, max 1 MB each."),
        "{}",
        page.body
    );
    let just_fits = vec![b'a'; 1024 * 1024];
    let too_big = vec![b'a'; 1024 * 1024 + 1];
    let response = desk
        .app
        .post_multipart(
            "/acme/tickets",
            &[("subject", "Big file"), ("description", "x")],
            &[("small.txt", &just_fits), ("big-log.txt", &too_big)],
        )
        .await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        response
            .body
            .contains("“big-log.txt” is larger than the 1 MB limit for a file."),
        "{}",
        response.body
    );
    desk.assert_nothing_saved().await;
    let number = desk.create_with(&[("small.txt", &just_fits)]).await;
    assert_eq!(desk.links(number).await.len(), 1);
}

#[tokio::test]
async fn the_admin_allow_list_is_shown_and_checks_extension_and_content() {
    let mut desk = desk().await;
    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    let page = desk.app.get("/acme/tickets/new").await;
    assert!(!page.body.contains("Supported formats"), "off by default");
    assert!(!page.body.contains("accept=\""));
    let number = desk
        .create_with(&[("movie.mkv", b"\x1aE\xdf\xa3 matroska")])
        .await;
    assert_eq!(desk.links(number).await.len(), 1);

    // On, with no format chosen: refused.
    let (status, body) = desk
        .set_attachment_settings(&[("max_file_mb", "25"), ("allow_list", "1")])
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("Choose at least one format"));

    // The preset is what the page offers checked.
    let page = desk.app.get("/acme/admin/general").await;
    for name in ["JPG", "PNG", "GIF", "PDF", "DOC", "DOCX", "TXT", "ZIP"] {
        assert!(
            page.body.contains(&format!("value=\"{name}\" checked")),
            "{name} is preset"
        );
    }
    assert!(!page.body.contains("value=\"CSV\" checked"));
    let preset = ["JPG", "PNG", "GIF", "PDF", "DOC", "DOCX", "TXT", "ZIP"];
    let mut fields = vec![("max_file_mb", "25"), ("allow_list", "1")];
    fields.extend(preset.iter().map(|f| ("formats", *f)));
    let saved = desk.set_attachment_settings(&fields).await;
    assert_eq!(saved, (StatusCode::SEE_OTHER, SAVED.to_owned()));

    desk.sign_in_as("acme", &customer).await;
    let page = desk.app.get("/acme/tickets/new").await;
    assert!(
        page.body
            .contains("Supported formats: JPG, PNG, GIF, PDF, DOC, DOCX, TXT, ZIP, max 25 MB"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("accept=\".jpg,.jpeg,.png,.gif,.pdf,.doc,.docx,.txt,.log,.zip\"")
    );
    let before = desk.stored_files().len();
    let refused: [(&str, &[u8], &str); 3] = [
        (
            "movie.mkv",
            b"\x1aE\xdf\xa3 matroska",
            "“movie.mkv” is not a supported format.",
        ),
        (
            "photo.png",
            PDF,
            "“photo.png” does not contain what its name says",
        ),
        (
            "notes.txt",
            b"\x00\x01\x02\x03binary",
            "“notes.txt” does not contain what its name says",
        ),
    ];
    for (name, bytes, message) in refused {
        desk.app.get("/acme/tickets/new").await;
        let response = desk
            .app
            .post_multipart(
                "/acme/tickets",
                &[("subject", "Listed formats"), ("description", "x")],
                &[(name, bytes)],
            )
            .await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(response.body.contains(message), "{name}: {}", response.body);
        assert_eq!(desk.stored_files().len(), before, "{name}: no file kept");
    }
    let number = desk
        .create_with(&[("report.pdf", PDF), ("notes.TXT", b"plain words\n")])
        .await;
    assert_eq!(desk.links(number).await.len(), 2);
}

/// Sets a stored file's modification time to `at`.
fn set_mtime(path: &Path, at: time::OffsetDateTime) {
    let file = std::fs::File::options()
        .write(true)
        .open(path)
        .expect("opening a stored file");
    file.set_modified(at.into()).expect("setting its mtime");
}

#[tokio::test]
async fn the_sweep_removes_an_old_file_without_a_row_and_keeps_live_and_fresh_ones() {
    use tessera::attachments::storage::{self, Storage as _};
    let mut desk = desk().await;
    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    let number = desk.create_with(&[("report.pdf", PDF)]).await;
    let live = desk.stored_files();
    assert_eq!(live.len(), 1);

    let store = storage::from_config(&desk.app.state.config);
    let tenant = desk.acme.id;
    let orphan = |bytes: &'static [u8]| {
        let store = store.clone();
        async move {
            let mut writer = store.create(tenant).await.unwrap();
            store.write(&mut writer, bytes).await.unwrap();
            store.commit(writer).await.unwrap()
        }
    };
    let old = orphan(b"crashed before its row\n").await;
    let fresh = orphan(b"its row is about to commit\n").await;
    let now = desk.app.clock.now();
    set_mtime(&live[0], now - time::Duration::hours(2));
    set_mtime(&desk.dir.join(old.as_str()), now - time::Duration::hours(2));
    set_mtime(
        &desk.dir.join(fresh.as_str()),
        now - time::Duration::minutes(50),
    );
    assert_eq!(desk.stored_files().len(), 3);
    // An upload a crash cut off, long ago: its temporary file goes too.
    let unfinished = desk.dir.join(".tmp/0190b5c2d4e6f8a0b2c4d6e8f0a2b4c6.part");
    std::fs::write(&unfinished, b"half an upload").unwrap();
    set_mtime(&unfinished, now - time::Duration::hours(3));
    // One still being written (as far as anyone can tell) stays.
    let writing = desk.dir.join(".tmp/0190b5c2d4e6f8a0b2c4d6e8f0a2b4c7.part");
    std::fs::write(&writing, b"a quarter of an upload").unwrap();
    set_mtime(&writing, now - time::Duration::minutes(55));

    let deleted = tessera::jobs::orphan_sweep::run_once(&desk.app.db, &store, &desk.app.clock)
        .await
        .unwrap();
    assert_eq!(deleted, 2, "the old orphan and the unfinished upload");
    assert!(!unfinished.exists());
    let mut left = desk.stored_files();
    left.sort();
    let mut expected = vec![
        live[0].clone(),
        desk.dir.join(fresh.as_str()),
        writing.clone(),
    ];
    expected.sort();
    assert_eq!(
        left, expected,
        "the live file, the fresh orphan and the fresh upload stay"
    );

    // Once past the hour the fresh ones are old, and go; the live one never does.
    desk.app.clock.advance(time::Duration::minutes(11));
    let deleted = tessera::jobs::orphan_sweep::run_once(&desk.app.db, &store, &desk.app.clock)
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert_eq!(desk.stored_files(), live);
    let links = desk.links(number).await;
    let (response, bytes) = desk.app.get_bytes(&links[0]).await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(bytes, PDF);
}

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>\n";

#[tokio::test]
async fn images_show_as_inline_thumbnails_but_never_svg() {
    let mut desk = desk().await;
    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    let number = desk
        .create_with(&[("photo.png", PNG), ("drawing.svg", SVG), ("fake.png", SVG)])
        .await;
    let page = desk.app.get(&format!("/acme/tickets/{number}")).await;
    let prefix = format!("/acme/tickets/{number}/attachments/");
    let id_of = |name: &str| {
        let at = page.body.find(&format!(">{name}</a>")).expect(name);
        let start = page.body[..at].rfind(&prefix).expect("its link") + prefix.len();
        page.body[start..start + 36].to_owned()
    };
    let (photo, drawing, fake) = (id_of("photo.png"), id_of("drawing.svg"), id_of("fake.png"));
    assert!(
        page.body.contains(&format!(
            "<img src=\"{prefix}{photo}?inline=1\" alt=\"photo.png\" class=\"attachment-thumb\""
        )),
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("<img").count(), 1, "only the real PNG");

    let (response, bytes) = desk
        .app
        .get_bytes(&format!("{prefix}{photo}?inline=1"))
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(bytes, PNG);
    assert_eq!(response.header("content-type"), Some("image/png"));
    assert_eq!(
        response.header("content-disposition"),
        Some("inline; filename=\"photo.png\"; filename*=UTF-8''photo.png")
    );
    assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        response.header("content-security-policy"),
        Some("default-src 'none'; sandbox")
    );
    assert_eq!(response.header("cache-control"), Some("private, no-store"));

    // SVG, by name or by content, is only ever a download.
    for id in [drawing, fake] {
        let (response, _) = desk.app.get_bytes(&format!("{prefix}{id}?inline=1")).await;
        assert_eq!(response.status, StatusCode::OK);
        assert!(
            response
                .header("content-disposition")
                .unwrap_or_default()
                .starts_with("attachment; "),
            "{:?}",
            response.header("content-disposition")
        );
        assert_ne!(response.header("content-type"), Some("image/svg+xml"));
        assert_eq!(
            response.header("content-security-policy"),
            Some("default-src 'none'; sandbox")
        );
        assert_eq!(response.header("cache-control"), Some("private, no-store"));
    }

    // Inline is still only for those who may see the ticket.
    desk.app.clear_cookies();
    let (response, _) = desk
        .app
        .get_bytes(&format!("{prefix}{photo}?inline=1"))
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn downloads_answer_single_byte_ranges_with_206_and_416() {
    use axum::http::Method;
    let mut desk = desk().await;
    let customer = desk.customer.email.clone();
    desk.sign_in_as("acme", &customer).await;
    let number = desk.create_with(&[("digits.txt", b"0123456789")]).await;
    let link = desk.links(number).await.remove(0);

    let whole = desk.app.request(Method::GET, &link, None, &[]).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(whole.body, "0123456789");

    let cases = [
        ("bytes=2-5", "2345", "bytes 2-5/10"),
        ("bytes=7-", "789", "bytes 7-9/10"),
        ("bytes=-3", "789", "bytes 7-9/10"),
        ("bytes=8-100", "89", "bytes 8-9/10"),
    ];
    for (range, body, content_range) in cases {
        let response = desk
            .app
            .request(Method::GET, &link, None, &[("range", range)])
            .await;
        assert_eq!(response.status, StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(response.body, body, "{range}");
        assert_eq!(response.header("content-range"), Some(content_range));
        assert_eq!(
            response.header("content-length"),
            Some(body.len().to_string().as_str())
        );
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert!(
            response
                .header("content-disposition")
                .unwrap_or_default()
                .starts_with("attachment; ")
        );
    }

    let response = desk
        .app
        .request(Method::GET, &link, None, &[("range", "bytes=10-")])
        .await;
    assert_eq!(response.status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(response.header("content-range"), Some("bytes */10"));
    assert!(!response.body.contains("0123456789"));

    // Several ranges: the whole file (allowed by RFC 9110).
    let response = desk
        .app
        .request(Method::GET, &link, None, &[("range", "bytes=0-1,4-5")])
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, "0123456789");

    // A range is no way around the access check.
    desk.sign_in_as("globex", "agent@globex.test").await;
    let id = link.rsplit('/').next().unwrap();
    let response = desk
        .app
        .request(
            Method::GET,
            &format!("/globex/tickets/{number}/attachments/{id}"),
            None,
            &[("range", "bytes=0-3")],
        )
        .await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
}
