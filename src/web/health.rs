//! Liveness and readiness for load balancers and orchestrators.

use crate::state::AppState;
use axum::{extract::State, http::StatusCode};

/// The process is up and serving.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can do useful work: the database answers.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready"),
        Err(error) => {
            tracing::warn!(%error, "readiness check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
        }
    }
}
