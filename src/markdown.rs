//! User Markdown to HTML: the only way user text becomes markup in Tessera.
//!
//! Templates print [`SafeHtml`] unescaped (`{{ body|safe }}`), and [`render`] is the
//! only thing that makes one, so these invariants are what keeps user text from
//! running script in an agent's browser:
//!
//! - raw HTML in the source is shown escaped, as text, never rendered: `<b>x</b>`
//!   displays as `<b>x</b>`;
//! - the output holds only allow-listed elements (paragraphs, emphasis, lists, code,
//!   quotes, headings, tables, links) and attributes (`a`: `href`, `title`; `ol`:
//!   `start`): no `style`, no `class`, no `on*` handlers, no images;
//! - links point only to `http`, `https` or `mailto` URLs (relative ones are
//!   dropped), and carry `rel="nofollow noopener noreferrer"`;
//! - the output is idempotent: sanitizing it again with the same rules changes
//!   nothing.
//!
//! The Markdown renderer escapes raw HTML; the sanitizer behind it is a second line
//! of defence with its own explicit allow-list, so a bug in either alone is not
//! enough to inject markup.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::{LazyLock, Mutex};

use ammonia::{Builder, UrlRelative};
use pulldown_cmark::{Alignment, Event, Options, Parser, Tag, TagEnd};

/// HTML known to be safe to print unescaped; only [`render`] makes one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SafeHtml(String);

impl SafeHtml {
    /// No content at all (safe by construction).
    pub fn empty() -> Self {
        Self(String::new())
    }

    /// The sanitized HTML.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether there is no HTML to print.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for SafeHtml {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Renders user Markdown (CommonMark with tables and strikethrough) to sanitized HTML.
/// Rendering is a function of the text alone, so results are kept in [`RENDERED`].
pub fn render(source: &str) -> SafeHtml {
    if source.len() > RENDERED_MAX_SOURCE {
        return render_uncached(source);
    }
    if let Some(html) = RENDERED.lock().ok().and_then(|cache| cache.get(source)) {
        return html;
    }
    let html = render_uncached(source);
    if let Ok(mut cache) = RENDERED.lock() {
        cache.insert(source, &html);
    }
    html
}

/// Texts rendered lately, so a ticket's thread is not parsed and sanitized
/// again on every view (sanitizing is most of a rendering, and a ticket page
/// renders every reply). Keyed by the whole text, never by a hash of it: two
/// texts must never share an entry. When its texts and HTML reach
/// [`RENDERED_BUDGET`] bytes it starts over, which keeps it simple and bounded
/// and still serves the tickets people are working on.
static RENDERED: LazyLock<Mutex<RenderCache>> = LazyLock::new(Mutex::default);
const RENDERED_BUDGET: usize = 4 << 20;
const RENDERED_MAX_SOURCE: usize = 16 << 10;

#[derive(Default)]
struct RenderCache {
    html: HashMap<String, SafeHtml>,
    bytes: usize,
}

impl RenderCache {
    fn get(&self, source: &str) -> Option<SafeHtml> {
        self.html.get(source).cloned()
    }

    fn insert(&mut self, source: &str, html: &SafeHtml) {
        let size = source.len() + html.0.len();
        if self.bytes + size > RENDERED_BUDGET {
            self.html.clear();
            self.bytes = 0;
        }
        if self.html.insert(source.to_owned(), html.clone()).is_none() {
            self.bytes += size;
        }
    }
}

fn render_uncached(source: &str) -> SafeHtml {
    let events = Parser::new_ext(source, options()).filter_map(neutralize);
    let mut html = String::with_capacity(source.len() + source.len() / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    SafeHtml(sanitize(&html))
}

/// Passes `html` through the allow-list [`render`] ends with. Sanitizing what
/// [`render`] made again changes nothing (the property tests hold it to that).
pub fn sanitize(html: &str) -> String {
    sanitizer().clean(html).to_string()
}

/// Plain text of the start of `source`, for list previews and email subjects.
///
/// Markdown markup is dropped (raw HTML is kept as the literal text it displays as),
/// whitespace is collapsed to single spaces, and when the text is longer than
/// `max_chars` characters it is cut, preferably at a word break, and ends in `…`; the
/// result never exceeds `max_chars` characters. It is text, not HTML: print it escaped.
pub fn render_plain_excerpt(source: &str, max_chars: usize) -> String {
    let mut text = String::new();
    for event in Parser::new_ext(source, options()) {
        match event {
            Event::Text(s) | Event::Code(s) | Event::Html(s) | Event::InlineHtml(s) => {
                text.push_str(&s);
            }
            // Inline markup ends inside a word (`**bo**ld`); anything else ends a block,
            // which, like a line break, separates words that would otherwise run together.
            Event::End(
                TagEnd::Emphasis
                | TagEnd::Strong
                | TagEnd::Strikethrough
                | TagEnd::Superscript
                | TagEnd::Subscript
                | TagEnd::Link
                | TagEnd::Image,
            ) => {}
            Event::SoftBreak | Event::HardBreak | Event::Rule | Event::End(_) => {
                text.push(' ');
            }
            _ => {}
        }
    }
    truncate_chars(&collapse_whitespace(&text), max_chars)
}

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

/// Rewrites the events that could carry markup or things we do not render.
fn neutralize(event: Event<'_>) -> Option<Event<'_>> {
    match event {
        // Raw HTML is shown as the text the user typed.
        Event::Html(s) | Event::InlineHtml(s) => Some(Event::Text(s)),
        // An HTML block becomes a paragraph of that text.
        Event::Start(Tag::HtmlBlock) => Some(Event::Start(Tag::Paragraph)),
        Event::End(TagEnd::HtmlBlock) => Some(Event::End(TagEnd::Paragraph)),
        // No images: their alt text (the events in between) stays visible as text.
        Event::Start(Tag::Image { .. }) | Event::End(TagEnd::Image) => None,
        // Alignment would come out as a `style` attribute, which we never allow.
        Event::Start(Tag::Table(alignments)) => Some(Event::Start(Tag::Table(vec![
            Alignment::None;
            alignments
                .len()
        ]))),
        other => Some(other),
    }
}

/// The allow-list every rendered document passes through, built from nothing so a
/// change in ammonia's defaults cannot widen it.
fn sanitizer() -> Builder<'static> {
    let tags: HashSet<&str> = [
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
    ]
    .into();
    let tag_attributes: HashMap<&str, HashSet<&str>> =
        [("a", ["href", "title"].into()), ("ol", ["start"].into())].into();

    let mut builder = Builder::empty();
    builder
        .tags(tags)
        .clean_content_tags(["script", "style"].into())
        .tag_attributes(tag_attributes)
        .tag_attribute_values(HashMap::new())
        .set_tag_attribute_values(HashMap::new())
        .generic_attributes(HashSet::new())
        .generic_attribute_prefixes(HashSet::new())
        .allowed_classes(HashMap::new())
        .url_schemes(["http", "https", "mailto"].into())
        .url_relative(UrlRelative::Deny)
        .link_rel(Some("nofollow noopener noreferrer"))
        .strip_comments(true)
        .id_prefix(None);
    builder
}

fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts `text` to at most `max_chars` characters (counting the `…` it adds).
fn truncate_chars(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let Some(keep) = max_chars.checked_sub(1) else {
        return String::new();
    };
    let end = text.char_indices().nth(keep).map_or(text.len(), |(i, _)| i);
    let mut cut = &text[..end];
    // Prefer ending at a word break when one is in the second half of the excerpt.
    if !text[end..].starts_with(' ')
        && let Some(space) = cut.rfind(' ')
        && space >= cut.len() / 2
    {
        cut = &cut[..space];
    }
    let mut excerpt = cut.trim_end().to_owned();
    excerpt.push('…');
    excerpt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_renderings_match_fresh_ones_and_stay_within_their_budget() {
        for source in ["a *b*", "a *c*", "a *b*", "<b>x</b>", "a *c*"] {
            assert_eq!(render(source), render_uncached(source), "{source}");
        }
        let mut cache = RenderCache::default();
        let text = "x".repeat(RENDERED_MAX_SOURCE);
        for i in 0..300 {
            let source = format!("{i} {text}");
            cache.insert(&source, &render_uncached(&source));
            assert!(cache.bytes <= RENDERED_BUDGET);
            assert_eq!(cache.get(&source), Some(render_uncached(&source)));
        }
        assert!(cache.html.len() > 10, "{}", cache.html.len());
    }

    /// A collection of hostile inputs, in Markdown and raw HTML.
    const NASTY: &[&str] = &[
        "<script>alert(1)</script>",
        "<SCRIPT SRC=https://x.test/xss.js></SCRIPT>",
        "<img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "<svg><script>alert(1)</script></svg>",
        "\"><img src=x onerror=alert(1)>",
        "'><script>alert(1)</script>",
        "<a href=\"javascript:alert(1)\">x</a>",
        "<iframe src=\"javascript:alert(1)\"></iframe>",
        "<body onload=alert(1)>",
        "<div style=\"background:url(javascript:alert(1))\">x</div>",
        "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
        "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
        "<!--><img src=x onerror=alert(1)>-->",
        "<details open ontoggle=alert(1)>",
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[x](vbscript:msgbox(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](java&#x09;script:alert(1))",
        "[x](  javascript:alert(1)  )",
        "[x](<javascript:alert(1)>)",
        "[x](//evil.test/path)",
        "[x](/relative)",
        "[a](https://x.test \"title\\\" onmouseover=\\\"alert(1)\")",
        "[a](https://x.test 'a\" onclick=\"alert(1)')",
        "[x][r]\n\n[r]: javascript:alert(1)",
        "![x](https://x.test/a.png\" onerror=\"alert(1))",
        "![<img src=x onerror=alert(1)>](javascript:alert(1))",
        "<javascript:alert(1)>",
        "<https://x.test/\"onmouseover=\"alert(1)>",
        "`<script>alert(1)</script>`",
        "```html\n<script>alert(1)</script>\n```",
        "| a | b |\n|:--|--:|\n| <b onclick=x>1</b> | [y](javascript:z) |",
        "*<em onmouseover=alert(1)>x</em>*",
        "> <blockquote style=\"x\">q</blockquote>",
        "<style>body{display:none}</style>",
        "<a href=\"https://x.test\" onclick=\"alert(1)\">x</a>",
    ];

    /// Tags (name, attributes) in sanitized HTML, read the way html5ever writes it:
    /// every literal `<` opens a tag and values are double quoted with `"` escaped.
    fn tags(html: &str) -> Vec<(String, Vec<(String, String)>)> {
        let mut found = Vec::new();
        let mut rest = html;
        while let Some(open) = rest.find('<') {
            rest = rest[open + 1..].trim_start_matches('/');
            let name_end = rest
                .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
                .unwrap_or(rest.len());
            let name = rest[..name_end]
                .trim_start_matches('/')
                .to_ascii_lowercase();
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
                    .unwrap_or(rest.len());
                let attr = rest[..attr_end].to_ascii_lowercase();
                rest = &rest[attr_end..];
                let mut value = String::new();
                if let Some(after) = rest.strip_prefix("=\"") {
                    let close = after.find('"').unwrap_or(after.len());
                    value = after[..close].to_owned();
                    rest = &after[(close + 1).min(after.len())..];
                }
                assert!(!attr.is_empty(), "unparseable tag in {html:?}");
                attributes.push((attr, value));
            }
            found.push((name, attributes));
        }
        found
    }

    fn hrefs(html: &str) -> Vec<String> {
        tags(html)
            .into_iter()
            .flat_map(|(_, attributes)| attributes)
            .filter(|(name, _)| name == "href")
            .map(|(_, value)| value)
            .collect()
    }

    #[test]
    fn emphasis_strikethrough_and_inline_code_render() {
        let html = render("*a* **b** ~~c~~ `d`");
        assert_eq!(
            html.as_str(),
            "<p><em>a</em> <strong>b</strong> <del>c</del> <code>d</code></p>\n"
        );
    }

    #[test]
    fn lists_quotes_headings_and_code_blocks_render() {
        let html =
            render("# T\n\n3. x\n4. y\n\n- a\n- b\n\n> q\n\n```rust\nfn f() {}\n```\n\n---\n");
        let html = html.as_str();
        assert!(html.contains("<h1>T</h1>"), "{html}");
        assert!(html.contains("<ol start=\"3\">\n<li>x</li>"), "{html}");
        assert!(
            html.contains("<ul>\n<li>a</li>\n<li>b</li>\n</ul>"),
            "{html}"
        );
        assert!(
            html.contains("<blockquote>\n<p>q</p>\n</blockquote>"),
            "{html}"
        );
        assert!(
            html.contains("<pre><code>fn f() {}\n</code></pre>"),
            "{html}"
        );
        assert!(html.contains("<hr>"), "{html}");
    }

    #[test]
    fn tables_render_without_alignment_styles() {
        let html = render("| a | b |\n|:--|--:|\n| 1 | 2 |\n");
        assert_eq!(
            html.as_str(),
            "<table><thead><tr><th>a</th><th>b</th></tr></thead><tbody>\n\
             <tr><td>1</td><td>2</td></tr>\n</tbody></table>\n"
        );
    }

    #[test]
    fn raw_html_is_shown_as_escaped_text() {
        let html = render("<b>x</b> and <script>alert(1)</script>");
        assert!(html.as_str().contains("&lt;b&gt;x&lt;/b&gt;"), "{html}");
        assert!(
            html.as_str()
                .contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
        assert!(!html.as_str().contains("<script"), "{html}");
        assert!(!html.as_str().contains("<b>"), "{html}");
    }

    #[test]
    fn a_script_block_is_shown_as_escaped_text() {
        let html = render("<script>alert(1)</script>\n");
        assert_eq!(
            html.as_str(),
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;\n</p>\n"
        );
    }

    #[test]
    fn an_img_tag_with_an_onerror_handler_is_escaped() {
        let html = render("<img src=x onerror=alert(1)>");
        assert!(
            html.as_str().contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
        assert!(tags(html.as_str()).iter().all(|(name, _)| name == "p"));
    }

    #[test]
    fn script_data_and_vbscript_links_lose_their_href() {
        for source in [
            "[x](javascript:alert(1))",
            "[x](JaVaScRiPt:alert(1))",
            "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
            "[x](vbscript:msgbox(1))",
            "[x](&#106;avascript:alert(1))",
            "[x](java&#x09;script:alert(1))",
        ] {
            let html = render(source);
            assert!(hrefs(html.as_str()).is_empty(), "{source} -> {html}");
            assert!(html.as_str().contains(">x</a>"), "{source} -> {html}");
        }
    }

    #[test]
    fn relative_links_lose_their_href() {
        for source in ["[x](/relative)", "[x](//evil.test/p)", "[x](page.html)"] {
            let html = render(source);
            assert!(hrefs(html.as_str()).is_empty(), "{source} -> {html}");
        }
    }

    #[test]
    fn autolinks_become_nofollow_noopener_links() {
        let html = render("<https://example.test>");
        assert_eq!(
            html.as_str(),
            "<p><a href=\"https://example.test\" rel=\"nofollow noopener noreferrer\">\
             https://example.test</a></p>\n"
        );
    }

    #[test]
    fn links_keep_their_title() {
        let html = render("[a](https://x.test \"T\")");
        assert_eq!(
            html.as_str(),
            "<p><a href=\"https://x.test\" title=\"T\" rel=\"nofollow noopener noreferrer\">\
             a</a></p>\n"
        );
    }

    #[test]
    fn mailto_links_survive() {
        let html = render("[mail us](mailto:help@example.test) or <help@example.test>");
        assert_eq!(
            hrefs(html.as_str()),
            ["mailto:help@example.test", "mailto:help@example.test"]
        );
    }

    #[test]
    fn images_render_as_their_alt_text() {
        let html = render("![a *cat*](https://x.test/cat.png)");
        assert_eq!(html.as_str(), "<p>a <em>cat</em></p>\n");
    }

    #[test]
    fn nasty_inputs_yield_only_allow_listed_tags_attributes_and_urls() {
        let allowed_tags = sanitizer().clone_tags();
        for source in NASTY {
            let html = render(source);
            for (name, attributes) in tags(html.as_str()) {
                assert!(allowed_tags.contains(name.as_str()), "<{name}> in {html}");
                for (attribute, value) in attributes {
                    let allowed = matches!(
                        (name.as_str(), attribute.as_str()),
                        ("a", "href" | "title" | "rel") | ("ol", "start")
                    );
                    assert!(allowed, "{attribute} on <{name}> in {html}");
                    assert!(!attribute.starts_with("on"), "{html}");
                    assert_ne!(attribute, "style", "{html}");
                    if attribute == "href" {
                        let scheme_ok = ["http:", "https:", "mailto:"]
                            .iter()
                            .any(|s| value.to_ascii_lowercase().starts_with(s));
                        assert!(scheme_ok, "href {value:?} from {source:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn sanitizing_the_output_again_changes_nothing() {
        let extra = [
            "*a* **b** ~~c~~ `d`\n\n# h\n\n1. x\n2. y\n\n> q\n",
            "| a | b |\n|:--|--:|\n| 1 | 2 |\n",
            "[a](https://x.test \"t\") <mailto:x@y.test> & \"quotes\" < >",
            "line  \nbreak\n\n---\n\n```\ncode <b>\n```\n",
        ];
        for source in NASTY.iter().chain(extra.iter()) {
            let once = render(source);
            let twice = sanitizer().clean(once.as_str()).to_string();
            assert_eq!(once.as_str(), twice, "not idempotent for {source:?}");
        }
    }

    #[test]
    fn the_plain_excerpt_strips_markup_and_collapses_whitespace() {
        let excerpt = render_plain_excerpt(
            "# Title\n\n**bo**ld\n\nSome **bold**   and `code`\nand [a link](https://x.test).\n\n- one\n- two",
            200,
        );
        assert_eq!(excerpt, "Title bold Some bold and code and a link. one two");
    }

    #[test]
    fn the_plain_excerpt_keeps_raw_html_as_its_literal_text() {
        assert_eq!(render_plain_excerpt("<b>x</b>", 50), "<b>x</b>");
    }

    #[test]
    fn the_plain_excerpt_is_cut_at_a_char_boundary_with_an_ellipsis() {
        let excerpt = render_plain_excerpt("ééééé ñññññ 日本語日本語", 9);
        assert_eq!(excerpt, "ééééé…");
        let excerpt = render_plain_excerpt("日本語日本語日本語", 4);
        assert_eq!(excerpt, "日本語…");
        assert_eq!(excerpt.chars().count(), 4);
    }

    #[test]
    fn the_plain_excerpt_is_whole_when_it_fits() {
        assert_eq!(render_plain_excerpt("short *text*", 10), "short text");
        assert_eq!(render_plain_excerpt("anything", 0), "");
        assert_eq!(render_plain_excerpt("ab", 1), "…");
    }
}
