//! Property tests of the Markdown renderer (issue 10, the "nothing executes"
//! battery): on arbitrary text and on adversarial text assembled from the
//! pieces XSS payloads are made of, `tessera::markdown::render` emits only
//! allow-listed elements and attributes, no `on*` handler, links only to
//! http, https and mailto URLs, and output that sanitizing again leaves as it
//! is. The invariants live in `security_markdown_check.rs`, which the fuzz
//! target (`fuzz/`) shares.

#[path = "security_markdown_check.rs"]
mod check;

use proptest::prelude::*;
use tessera::markdown::{render, sanitize};

/// Renders `source` and fails with every broken invariant.
fn assert_holds(source: &str) -> Result<(), TestCaseError> {
    let html = render(source);
    let problems = check::violations(source, html.as_str());
    prop_assert!(problems.is_empty(), "{}", problems.join("\n"));
    let again = sanitize(html.as_str());
    prop_assert_eq!(
        html.as_str(),
        again.as_str(),
        "not idempotent for {:?}",
        source
    );
    Ok(())
}

/// Pieces of Markdown, HTML and URL syntax that payloads are built from.
const PIECES: &[&str] = &[
    "<script>alert(1)</script>",
    "<script",
    "</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><style><img src=x onerror=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<iframe srcdoc=\"<script>alert(1)</script>\">",
    "<a href=\"javascript:alert(1)\">",
    "</a>",
    "<form><button formaction=javascript:alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<base href=//evil.test/>",
    "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "<?xml",
    "<",
    ">",
    "\"",
    "'",
    "`",
    "``",
    "```",
    "~~~",
    "&",
    "&#",
    "&#106;",
    "&#x6A;",
    "&#x09;",
    "&Tab;",
    "&colon;",
    "&lt;",
    "&gt;",
    "&quot;",
    "javascript:",
    "JaVaScRiPt:",
    "java\tscript:",
    "java\nscript:",
    " javascript:",
    "vbscript:",
    "data:text/html,",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "alert(1)",
    "https://x.test/",
    "http://x.test/a?b=c&d=e",
    "mailto:a@x.test",
    "//evil.test/",
    "/relative",
    "#frag",
    "?q=1",
    "[",
    "]",
    "(",
    ")",
    "](",
    "![",
    "[x]: ",
    "[x]",
    "[x][x]",
    "<https://x.test/\"onmouseover=\"alert(1)>",
    "<javascript:alert(1)>",
    "<a@x.test>",
    " \"title\" ",
    " 'title' ",
    " onmouseover=alert(1) ",
    " style=\"x\" ",
    "*",
    "**",
    "_",
    "~~",
    "\\",
    "|",
    "| a | b |\n|:-|-:|\n",
    "---",
    "===",
    "# ",
    "> ",
    "- ",
    "1. ",
    "2) ",
    "    ",
    "\t",
    " ",
    "\n",
    "\n\n",
    "\r\n",
    "\0",
    "\u{202e}",
    "\u{200b}",
    "\u{feff}",
    "é",
    "{{constructor.constructor('alert(1)')()}}",
    "${alert(1)}",
    "%0a",
    "%3Cscript%3E",
];

fn adversarial() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(PIECES), 0..48).prop_map(|pieces| pieces.concat())
}

/// A link, image, autolink or reference whose URL is a variant of a scheme.
fn links() -> impl Strategy<Value = String> {
    let scheme = prop::sample::select(
        &[
            "javascript",
            "JAVASCRIPT",
            "jav&#x61;script",
            "java&#x09;script",
            "java\\tscript",
            "vbscript",
            "data",
            "DaTa",
            "file",
            "http",
            "https",
            "mailto",
            "HTTPS",
            "ftp",
            "&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;",
            "%6A%61%76%61%73%63%72%69%70%74",
            "javascript&colon;",
            "\u{0}javascript",
        ][..],
    );
    let separator =
        prop::sample::select(&[":", "&colon;", "&#58;", "&#x3a;", "%3A", ":\t", " :"][..]);
    let payload = prop::sample::select(
        &[
            "alert(1)",
            "//x.test/",
            "text/html,<script>alert(1)</script>",
            "a@x.test",
            "//%0aalert(1)",
            "x.test/\"onmouseover=\"alert(1)",
        ][..],
    );
    let shape = 0..6u8;
    let padding = prop::sample::select(&["", " ", "\t", "\n", "\u{1}", "\u{a0}"][..]);
    (scheme, separator, payload, shape, padding.clone(), padding).prop_map(
        |(scheme, separator, payload, shape, before, after)| {
            let url = format!("{before}{scheme}{separator}{payload}{after}");
            match shape {
                0 => format!("[click]({url})"),
                1 => format!("[click](<{url}> \"t\")"),
                2 => format!("![alt]({url})"),
                3 => format!("<{scheme}{separator}{payload}>"),
                4 => format!("[click][r]\n\n[r]: {url}\n"),
                _ => format!("[![img]({url})]({url})"),
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_renders_only_allow_listed_markup(source in any::<String>()) {
        assert_holds(&source)?;
    }

    #[test]
    fn markdown_looking_text_renders_only_allow_listed_markup(
        source in "([*_`~#>|\\[\\]()!<>&;:/\"'= \\n\\t-]|[a-z]{1,8}|[0-9]\\.){0,60}"
    ) {
        assert_holds(&source)?;
    }

    #[test]
    fn adversarial_text_renders_only_allow_listed_markup(source in adversarial()) {
        assert_holds(&source)?;
    }

    #[test]
    fn link_variants_keep_only_http_https_and_mailto(
        source in links(),
        prefix in adversarial(),
    ) {
        assert_holds(&source)?;
        assert_holds(&format!("{prefix}{source}"))?;
    }
}

/// The checker itself catches what it must: a test that could not fail
/// would prove nothing.
#[test]
fn the_checker_flags_handlers_foreign_tags_and_bad_urls() {
    let bad = [
        "<p onclick=\"x\">a</p>",
        "<img src=\"x\">",
        "<a href=\"javascript:alert(1)\" rel=\"nofollow noopener noreferrer\">x</a>",
        "<a href=\"/relative\" rel=\"nofollow noopener noreferrer\">x</a>",
        "<a href=\"https://x.test\">no rel</a>",
        "<p style=\"x\">a</p>",
        "<svg><script>alert(1)</script></svg>",
    ];
    for html in bad {
        assert!(!check::violations("", html).is_empty(), "{html}");
    }
    let good = render("[a](https://x.test \"t\") *b* <c@x.test>\n\n1. x\n");
    assert_eq!(check::violations("", good.as_str()), Vec::<String>::new());
}
