//! Background jobs: plain tokio tasks on an interval.
//!
//! Invariants: every job is safe to run on every instance at once (work is
//! claimed with `for update skip locked`, so each item is done once), takes its
//! time from the application's [`Clock`], logs and retries on database errors
//! instead of panicking, and stops between runs when the server shuts down.

pub mod auto_close;
pub mod index_upkeep;
pub mod orphan_sweep;

use crate::{clock::Clock, db::Db};
use std::time::Duration;
use tokio::{sync::watch, task::JoinHandle};

/// Tells running jobs to stop after their current run.
#[derive(Clone)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// A stop signal and the handle that fires it.
    pub fn new() -> (watch::Sender<bool>, Self) {
        let (tx, rx) = watch::channel(false);
        (tx, Self(rx))
    }

    async fn requested(&mut self) {
        // An error means the sender is gone: nobody can ask any more, so stop.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

/// Runs `job` every `every` until shutdown. A failed run is logged and the job
/// tries again at the next tick.
pub fn every<F, Fut>(
    name: &'static str,
    every: Duration,
    mut shutdown: Shutdown,
    job: F,
) -> JoinHandle<()>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = anyhow::Result<u64>> + Send,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = shutdown.requested() => break,
                _ = ticks.tick() => {}
            }
            match job().await {
                Ok(0) => {}
                Ok(done) => tracing::info!(job = name, done, "job run"),
                Err(error) => tracing::warn!(
                    job = name,
                    error = format!("{error:#}"),
                    "job run failed; retrying at the next tick"
                ),
            }
        }
        tracing::info!(job = name, "job stopped");
    })
}

/// Starts every job Tessera runs.
pub fn spawn_all(
    db: Db,
    clock: Clock,
    auto_close_every: Duration,
    shutdown: Shutdown,
) -> Vec<JoinHandle<()>> {
    let upkeep_db = db.clone();
    vec![
        every(
            "auto_close",
            auto_close_every,
            shutdown.clone(),
            move || {
                let (db, clock) = (db.clone(), clock.clone());
                async move { auto_close::run_once(&db, &clock).await }
            },
        ),
        every("index_upkeep", index_upkeep::EVERY, shutdown, move || {
            let db = upkeep_db.clone();
            async move {
                let merged = index_upkeep::run_once(&db).await?;
                tracing::debug!(merged, "GIN pending lists merged");
                // Counted in pages, every second: not worth an info line.
                Ok(0)
            }
        }),
    ]
}
