//! Logging. One `init` for the whole process; request spans are made in `web`.

use crate::config::{LogConfig, LogFormat};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Targets whose most verbose events print whole request URIs, which may hold
/// access-link tokens: they never log below `debug`, whatever the filter says.
const URI_LOGGING_TARGETS: &[&str] = &["tower_http::csrf"];

/// The filter for `directives` (a `RUST_LOG`-style string), with the caps of
/// [`URI_LOGGING_TARGETS`]; an invalid string falls back to `info`.
pub fn filter(directives: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    for target in URI_LOGGING_TARGETS {
        if let Ok(cap) = format!("{target}=debug").parse() {
            filter = filter.add_directive(cap);
        }
    }
    filter
}

/// Installs the global subscriber. `RUST_LOG`, when set, overrides the configured filter.
pub fn init(config: &LogConfig) {
    let directives =
        std::env::var(EnvFilter::DEFAULT_ENV).unwrap_or_else(|_| config.filter.clone());
    let filter = filter(&directives);
    let registry = tracing_subscriber::registry().with(filter);
    // A second init (tests, or a CLI command after a failed start) is harmless.
    let _ = match config.format {
        LogFormat::Json => registry
            .with(fmt::layer().json().with_current_span(true))
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
    };
}
