//! Building and running the server: database (configured or local mode),
//! migrations, router, graceful shutdown.

use crate::{
    clock::Clock, config::Config, db::Db, demo, email, jobs, local_pg::LocalPostgres,
    state::AppState, web,
};
use anyhow::Context as _;
use axum::{
    extract::{Request, State},
    http::{HeaderValue, header},
    middleware::{self, Next},
    response::Response,
};
use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};
use tokio::net::TcpListener;

/// The database Tessera talks to, and the private cluster behind it in local mode.
pub struct Database {
    pub db: Db,
    local: Option<LocalPostgres>,
}

impl Database {
    /// Connects to the configured server, or starts local mode when none is
    /// configured; then applies pending migrations.
    pub async fn open(config: &Config) -> anyhow::Result<Self> {
        let (url, local) = match &config.database.url {
            Some(url) => (url.clone(), None),
            None => {
                let data_dir = config.server.data_dir.clone();
                let local =
                    tokio::task::spawn_blocking(move || LocalPostgres::start(&data_dir)).await??;
                (local.url(), Some(local))
            }
        };
        let connected = Db::connect_with(
            &url,
            config.database.max_connections,
            Duration::from_secs(config.database.acquire_timeout_secs),
        )
        .await
        .context(if local.is_some() {
            "connecting to the local-mode PostgreSQL"
        } else {
            "connecting to the database at database.url (TESSERA__DATABASE__URL or DATABASE_URL)"
        });
        let db = match connected {
            Ok(db) => db,
            Err(error) => {
                if let Some(local) = local {
                    let _ = local.stop();
                }
                return Err(error);
            }
        };
        let database = Self { db, local };
        if let Err(error) = database.db.migrate().await {
            database.close().await;
            return Err(anyhow::Error::new(error).context("applying database migrations"));
        }
        Ok(database)
    }

    /// Closes the pool and stops a local-mode cluster.
    pub async fn close(self) {
        self.db.pool().close().await;
        if let Some(local) = self.local
            && let Err(error) = tokio::task::spawn_blocking(move || local.stop()).await
        {
            tracing::warn!(%error, "stopping the local PostgreSQL");
        }
    }
}

/// Runs the server until SIGINT or SIGTERM, finishing requests in flight.
pub async fn serve(config: Config, with_demo: bool) -> anyhow::Result<()> {
    let database = Database::open(&config).await?;
    let result = serve_with(&database, config, with_demo).await;
    database.close().await;
    result
}

async fn serve_with(database: &Database, config: Config, with_demo: bool) -> anyhow::Result<()> {
    let db = database.db.clone();
    if with_demo {
        demo::ensure(&db).await.context("creating the demo data")?;
    }
    let secret = config.session_secret()?;
    let bind = config.server.bind;
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("listening on {bind} (server.bind / --bind)"))?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let auto_close_every = Duration::from_secs(config.jobs.auto_close_interval_secs);
    let state = AppState::new(db.clone(), config, Clock::System, secret);
    let session_cleanup = tokio::spawn(delete_expired_sessions(db.clone()));
    let (stop_jobs, jobs_shutdown) = jobs::Shutdown::new();
    // Mail leaves through the outbox worker; it stops with the other jobs.
    let mail_worker = email::worker::Worker::from_config(
        db.clone(),
        &state.config,
        Clock::System,
        state.secret_bytes(),
    )?;
    let mail_worker = tokio::spawn(mail_worker.run(stop_jobs.subscribe()));
    let mut jobs = jobs::spawn_all(
        db.clone(),
        Clock::System,
        auto_close_every,
        jobs_shutdown.clone(),
    );
    let store = state.store.clone();
    let sweep = (
        Duration::from_secs(state.config.jobs.orphan_sweep_interval_secs),
        time::Duration::seconds(
            i64::try_from(state.config.jobs.orphan_grace_secs).unwrap_or(i64::MAX),
        ),
    );
    jobs.push(jobs::orphan_sweep::spawn(
        db,
        store,
        Clock::System,
        sweep,
        jobs_shutdown,
    ));

    if with_demo {
        println!("{}", demo::banner(&base_url));
    }
    println!("Tessera is listening on {base_url}  (Ctrl-C to stop)");
    tracing::info!(%bind, "listening");

    let draining = Draining::default();
    let router = web::router(state).layer(middleware::from_fn_with_state(
        draining.clone(),
        close_when_draining,
    ));
    let served = axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal(draining))
    .await;
    session_cleanup.abort();
    // Jobs finish the run they are in (each is one transaction per batch).
    let _ = stop_jobs.send(true);
    for job in jobs {
        let _ = job.await;
    }
    let _ = mail_worker.await;
    tracing::info!("stopped");
    served.context("serving HTTP")
}

/// Removes expired sessions hourly. Harmless on several instances at once.
async fn delete_expired_sessions(db: Db) {
    use tower_sessions::ExpiredDeletion as _;
    let store = tower_sessions_sqlx_store::PostgresStore::new(db.pool().clone());
    if let Err(error) = store
        .continuously_delete_expired(Duration::from_secs(3600))
        .await
    {
        tracing::warn!(%error, "session cleanup stopped");
    }
}

/// After the signal, how long Tessera goes on answering before it stops
/// taking requests. Every answer meanwhile closes its connection, so a client
/// on a keep-alive connection learns of the shutdown from a response. Closing
/// idle connections at once instead races the request a client may be sending
/// on one just then: it would be cut off unanswered (the fault harness saw 1
/// in 600 under load).
const DRAIN: Duration = Duration::from_millis(500);

/// Set once shutdown has begun: answers then close their connections.
#[derive(Clone, Default)]
struct Draining(Arc<AtomicBool>);

async fn close_when_draining(
    State(draining): State<Draining>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    if draining.0.load(Ordering::Relaxed) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// Resolves when the server should stop taking requests: [`DRAIN`] after
/// SIGINT or SIGTERM.
async fn shutdown_signal(draining: Draining) {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    draining.0.store(true, Ordering::Relaxed);
    tracing::info!("shutting down: answering for a moment more, then finishing requests in flight");
    tokio::time::sleep(DRAIN).await;
}
