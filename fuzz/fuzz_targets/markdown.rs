//! Fuzzes `tessera::markdown::render`: whatever the input, the output holds
//! only allow-listed elements and attributes, no `on*` handler, links only to
//! http, https and mailto URLs, and sanitizing it again changes nothing. The
//! invariants are the property tests' (`tests/it/security_markdown_check.rs`).
#![no_main]

#[path = "../../src/markdown.rs"]
#[allow(dead_code)]
mod markdown;

#[path = "../../tests/it/security_markdown_check.rs"]
#[allow(dead_code)]
mod check;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let html = markdown::render(source);
    let problems = check::violations(source, html.as_str());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        markdown::sanitize(html.as_str()),
        html.as_str(),
        "not idempotent for {source:?}"
    );
});
