//! The invariants of rendered Markdown (`tessera::markdown::render`), as one
//! checker shared by the property tests (`security_markdown.rs`) and the fuzz
//! target (`fuzz/fuzz_targets/markdown.rs`, which includes this file by path):
//! std only.
//!
//! It reads HTML the way html5ever serializes it: text never holds a literal
//! `<` (it is `&lt;`), attribute values are double-quoted with `"` as
//! `&quot;`, so every `<` opens a tag.

/// Elements the renderer may emit. Written out here rather than taken from
/// `src/markdown.rs` on purpose: this list is the test's specification, so a
/// change that widens the renderer's allow-list fails the test.
pub const ALLOWED_TAGS: &[&str] = &[
    "p",
    "br",
    "hr",
    "em",
    "strong",
    "del",
    "a",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
];

/// URL schemes a link may have.
pub const ALLOWED_SCHEMES: &[&str] = &["http:", "https:", "mailto:"];

pub struct Tag {
    pub name: String,
    pub closing: bool,
    pub attributes: Vec<(String, String)>,
}

/// The tags of `html`, or why it cannot be read as serializer output.
pub fn tags(html: &str) -> Result<Vec<Tag>, String> {
    let mut found = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let closing = rest.starts_with('/');
        rest = rest.trim_start_matches('/');
        let name_end = rest
            .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
            .ok_or_else(|| format!("an unterminated tag in {html:?}"))?;
        let name = rest[..name_end].to_owned();
        if name.is_empty() {
            return Err(format!("a bare `<` in {html:?}"));
        }
        rest = &rest[name_end..];
        let mut attributes = Vec::new();
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('>') {
                rest = after;
                break;
            }
            if let Some(after) = rest.strip_prefix('/') {
                rest = after;
                continue;
            }
            let attr_end = rest
                .find(|c: char| c == '=' || c == '>' || c.is_whitespace())
                .ok_or_else(|| format!("an unterminated attribute in {html:?}"))?;
            let attribute = rest[..attr_end].to_owned();
            if attribute.is_empty() {
                return Err(format!("an empty attribute name in {html:?}"));
            }
            rest = &rest[attr_end..];
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix("=\"") {
                let close = after
                    .find('"')
                    .ok_or_else(|| format!("an unterminated value in {html:?}"))?;
                value = decode_entities(&after[..close]);
                rest = &after[close + 1..];
            } else if rest.starts_with('=') {
                return Err(format!("an unquoted value in {html:?}"));
            }
            attributes.push((attribute, value));
        }
        found.push(Tag {
            name,
            closing,
            attributes,
        });
    }
    Ok(found)
}

/// The entities html5ever writes in attribute values.
fn decode_entities(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&")
}

/// Every way `html` (rendered from `source`) breaks the invariants: only
/// allow-listed elements and attributes, no `on*` handler, links only to
/// http, https and mailto URLs with `rel="nofollow noopener noreferrer"`.
pub fn violations(source: &str, html: &str) -> Vec<String> {
    let tags = match tags(html) {
        Ok(tags) => tags,
        Err(why) => return vec![why],
    };
    let mut found = Vec::new();
    for tag in tags {
        let name = tag.name.as_str();
        if !ALLOWED_TAGS.contains(&name) {
            found.push(format!("<{name}> from {source:?}: {html}"));
        }
        if tag.closing {
            if !tag.attributes.is_empty() {
                found.push(format!("attributes on </{name}>: {html}"));
            }
            continue;
        }
        for (attribute, value) in &tag.attributes {
            let lower = attribute.to_ascii_lowercase();
            if lower.starts_with("on") {
                found.push(format!("handler {attribute} from {source:?}: {html}"));
            }
            let allowed = matches!(
                (name, lower.as_str()),
                ("a", "href" | "title" | "rel") | ("ol", "start")
            );
            if !allowed {
                found.push(format!(
                    "attribute {attribute} on <{name}> from {source:?}: {html}"
                ));
            }
            if lower == "href" {
                let url = value.to_ascii_lowercase();
                if !ALLOWED_SCHEMES.iter().any(|scheme| url.starts_with(scheme))
                    || value.chars().any(|c| c.is_control() || c.is_whitespace())
                {
                    found.push(format!("href {value:?} from {source:?}: {html}"));
                }
            }
            if lower == "rel" && value != "nofollow noopener noreferrer" {
                found.push(format!("rel {value:?} from {source:?}"));
            }
            if lower == "start" && !value.chars().all(|c| c.is_ascii_digit()) {
                found.push(format!("start {value:?} from {source:?}"));
            }
        }
        let has = |wanted: &str| tag.attributes.iter().any(|(a, _)| a == wanted);
        if name == "a" && has("href") && !has("rel") {
            found.push(format!("a link without rel from {source:?}: {html}"));
        }
    }
    found
}
