//! What an upload may hold: how many files, how large, which kinds, and what
//! its file names may look like. Pure functions, tested here.

/// At most this many files in one upload.
pub const MAX_FILES_PER_UPLOAD: usize = 10;
/// Longest file name kept, in characters (the extension is kept when cut).
pub const MAX_FILENAME_CHARS: usize = 200;
/// How much of a file's start is sniffed for its type.
pub const SNIFF_BYTES: usize = 8192;

/// Extensions of programs and scripts, refused whatever the content.
const BLOCKED_EXTENSIONS: &[&str] = &[
    "app", "apk", "bash", "bat", "bin", "cmd", "com", "command", "cpl", "csh", "dll", "dmg", "drv",
    "dylib", "elf", "exe", "gadget", "hta", "inf", "ins", "isp", "jar", "jse", "ksh", "lnk", "msc",
    "msi", "msix", "msp", "ocx", "pif", "ps1", "ps1xml", "ps2", "psc1", "psd1", "psm1", "reg",
    "run", "scf", "scpt", "scr", "sct", "sh", "so", "sys", "vb", "vbe", "vbs", "ws", "wsc", "wsf",
    "wsh", "zsh",
];

/// Content types served as themselves; everything else is served as
/// `application/octet-stream` (never HTML, SVG or anything a browser runs).
const SAFE_TO_SERVE: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
];

/// Images a page may show inline (thumbnails), by sniffed type: never SVG,
/// which is a document that can carry scripts.
pub const INLINE_IMAGES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

pub fn is_inline_image(stored: &str) -> bool {
    INLINE_IMAGES.contains(&stored)
}

/// The content type downloads are served with.
pub fn served_content_type(stored: &str) -> &'static str {
    SAFE_TO_SERVE
        .iter()
        .find(|safe| **safe == stored)
        .copied()
        .unwrap_or("application/octet-stream")
}

/// A file name as shown and stored: the last path segment only (`/` and `\`),
/// without control or bidirectional-override characters, trimmed, at most
/// [`MAX_FILENAME_CHARS`] long; "attachment" when nothing usable is left.
pub fn normalise_filename(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_bidi_control(*c))
        .collect();
    let trimmed = cleaned.trim().trim_end_matches(['.', ' ']);
    if trimmed.chars().all(|c| c == '.') {
        return "attachment".to_owned();
    }
    if trimmed.chars().count() <= MAX_FILENAME_CHARS {
        return trimmed.to_owned();
    }
    match trimmed.rsplit_once('.') {
        Some((stem, extension)) if (1..=20).contains(&extension.chars().count()) => {
            let keep = MAX_FILENAME_CHARS - extension.chars().count() - 1;
            let stem: String = stem.chars().take(keep).collect();
            format!("{}.{extension}", stem.trim_end())
        }
        _ => trimmed.chars().take(MAX_FILENAME_CHARS).collect(),
    }
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Why a file name is refused, if it is: an executable or script extension.
pub fn blocked_by_name(filename: &str) -> Option<String> {
    let (_, extension) = filename.rsplit_once('.')?;
    let extension = extension.to_ascii_lowercase();
    BLOCKED_EXTENSIONS.contains(&extension.as_str()).then(|| {
        format!("“{filename}” is a program or script (.{extension}), which cannot be attached.")
    })
}

/// What the start of a file says it is: `Err` with a description when it is a
/// program or script, else the content type to store.
pub fn sniff(head: &[u8]) -> Result<&'static str, &'static str> {
    const MACH_O: [[u8; 4]; 6] = [
        [0xfe, 0xed, 0xfa, 0xce],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xcf, 0xfa, 0xed, 0xfe],
        [0xca, 0xfe, 0xba, 0xbe],
        [0xbe, 0xba, 0xfe, 0xca],
    ];
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    if head.starts_with(b"MZ") {
        return Err("a Windows program");
    }
    if head.starts_with(b"\x7fELF") {
        return Err("a Linux program (ELF)");
    }
    if MACH_O.iter().any(|magic| head.starts_with(magic)) {
        return Err("a macOS program (Mach-O)");
    }
    if text.starts_with(b"#!") {
        return Err("a script (it starts with #!)");
    }
    if let Some(kind) = infer::get(head) {
        if kind.matcher_type() == infer::MatcherType::App && kind.extension() != "der" {
            return Err("a program");
        }
        return Ok(kind.mime_type());
    }
    Ok(if looks_like_text(head) {
        "text/plain"
    } else {
        "application/octet-stream"
    })
}

/// UTF-8 without NULs or odd control characters (the last character may be
/// cut off by the sniffing window).
fn looks_like_text(head: &[u8]) -> bool {
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(error) if error.error_len().is_none() => {
            std::str::from_utf8(&head[..error.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    !head.is_empty()
        && valid
            .chars()
            .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\u{c}'))
}

/// A size for people: "812 bytes", "1.2 KB", "25 MB" (powers of 1024).
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return if bytes == 1 {
            "1 byte".to_owned()
        } else {
            format!("{bytes} bytes")
        };
    }
    #[expect(clippy::cast_precision_loss, reason = "a rounded size for display")]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    if value >= 100.0 || (value.fract() < 0.05 || value.fract() > 0.95) {
        format!("{value:.0} {unit}")
    } else {
        format!("{value:.1} {unit}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_lose_paths_and_control_characters() {
        let cases = [
            ("report.pdf", "report.pdf"),
            ("../../etc/passwd", "passwd"),
            ("C:\\Users\\me\\x.txt", "x.txt"),
            ("a\0b\nc\r.txt", "abc.txt"),
            ("invoice\u{202e}fdp.exe", "invoicefdp.exe"),
            ("  spaced.txt  ", "spaced.txt"),
            ("trailing.exe. . ", "trailing.exe"),
            ("..", "attachment"),
            ("", "attachment"),
            ("dir/", "attachment"),
            ("Ünïcödé 文件.txt", "Ünïcödé 文件.txt"),
        ];
        for (raw, expected) in cases {
            assert_eq!(normalise_filename(raw), expected, "{raw:?}");
        }
        let long = format!("{}.pdf", "x".repeat(500));
        let cut = normalise_filename(&long);
        assert_eq!(cut.chars().count(), MAX_FILENAME_CHARS);
        assert!(cut.ends_with(".pdf"));
    }

    #[test]
    fn programs_and_scripts_are_refused_by_extension() {
        for name in [
            "setup.exe",
            "run.BAT",
            "x.cmd",
            "a.sh",
            "b.ps1",
            "c.vbs",
            "d.dll",
            "e.so",
            "f.dylib",
        ] {
            assert!(blocked_by_name(name).is_some(), "{name}");
        }
        for name in [
            "report.pdf",
            "photo.JPG",
            "notes",
            "archive.tar.gz",
            "shell.txt",
        ] {
            assert!(blocked_by_name(name).is_none(), "{name}");
        }
    }

    #[test]
    fn programs_and_scripts_are_refused_by_content() {
        let refused: [&[u8]; 7] = [
            b"MZ\x90\x00\x03\x00\x00\x00",
            b"\x7fELF\x02\x01\x01\x00",
            b"\xcf\xfa\xed\xfe\x07\x00\x00\x01",
            b"\xca\xfe\xba\xbe\x00\x00\x00\x02",
            b"#!/bin/sh\necho hi\n",
            b"\xef\xbb\xbf#!/usr/bin/env python\n",
            b"\x00asm\x01\x00\x00\x00",
        ];
        for head in refused {
            assert!(sniff(head).is_err(), "{head:?}");
        }
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), Ok("image/png"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Ok("application/pdf"));
        assert_eq!(sniff("Hello, wörld\n".as_bytes()), Ok("text/plain"));
        assert_eq!(sniff(b"\x00\x01\x02\x03"), Ok("application/octet-stream"));
    }

    #[test]
    fn only_harmless_types_are_served_as_themselves() {
        assert_eq!(served_content_type("image/png"), "image/png");
        assert_eq!(served_content_type("text/html"), "application/octet-stream");
        assert_eq!(
            served_content_type("image/svg+xml"),
            "application/octet-stream"
        );
    }

    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(format_size(1), "1 byte");
        assert_eq!(format_size(812), "812 bytes");
        assert_eq!(format_size(1234), "1.2 KB");
        assert_eq!(format_size(25 * 1024 * 1024), "25 MB");
        assert_eq!(format_size(1_288_490_189), "1.2 GB");
    }
}
