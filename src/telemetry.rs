//! Logging. One `init` for the whole process; request spans are made in `web`.

use crate::config::{LogConfig, LogFormat};
use tracing_subscriber::{EnvFilter, fmt, prelude::*};

/// Installs the global subscriber. `RUST_LOG`, when set, overrides the configured filter.
pub fn init(config: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    // A second init (tests, or a CLI command after a failed start) is harmless.
    let _ = match config.format {
        LogFormat::Json => registry
            .with(fmt::layer().json().with_current_span(true))
            .try_init(),
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
    };
}
