# Tessera container image.
#
# Configuration comes from the environment (figment: config/default.toml,
# then config/{profile}.toml, then TESSERA__SECTION__KEY variables).
# TESSERA__DATABASE__URL is REQUIRED in the container: without it the app
# would try "local mode" (a private PostgreSQL cluster via initdb/pg_ctl),
# and this runtime image does not carry the PostgreSQL binaries.
#
#   docker build -t tessera .
#   docker run -p 8080:8080 \
#     -e TESSERA__DATABASE__URL=postgres://tessera:secret@db:5432/tessera tessera

# ---------------------------------------------------------------- builder --
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /build

# Dependency download layer: only re-run when Cargo.toml / Cargo.lock change.
# Dummy sources make the manifest valid; they are removed right after.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo fetch --locked \
 && rm -rf src

# Askama templates, static files (rust-embed) and migrations (sqlx::migrate!)
# are embedded at compile time, so they must be present for the build.
# No database is needed at build time; SQLX_OFFLINE makes sure sqlx never
# tries to reach one.
COPY src/ src/
COPY templates/ templates/
COPY static/ static/
COPY migrations/ migrations/
COPY config/ config/
ENV SQLX_OFFLINE=true
# Offline: every crate was fetched in the layer above.
RUN cargo build --release --locked --offline \
 && cp target/release/tessera /usr/local/bin/tessera

# ---------------------------------------------------------------- runtime --
FROM debian:bookworm-slim

RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates tini tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group \
      --home-dir /var/lib/tessera --create-home \
      --shell /usr/sbin/nologin tessera

COPY --from=builder /usr/local/bin/tessera /usr/local/bin/tessera
# The app reads config/ relative to its working directory, so the config
# lives in /etc/tessera/config and the working directory is /etc/tessera
# (config/default.toml then resolves to /etc/tessera/config/default.toml).
COPY config/ /etc/tessera/config/
WORKDIR /etc/tessera

ENV TESSERA__SERVER__BIND=0.0.0.0:8080 \
    TESSERA__SERVER__DATA_DIR=/var/lib/tessera

EXPOSE 8080

# Health: GET /healthz is liveness (the process serves HTTP), GET /readyz is
# readiness (the database is reachable). The image has no curl/wget, so there
# is deliberately no HEALTHCHECK instruction; let the orchestrator probe
# http://<container>:8080/healthz and /readyz (e.g. Kubernetes httpGet probes).

USER tessera
ENTRYPOINT ["tini", "--", "tessera"]
CMD ["serve"]
