//! Background jobs on apalis. Every apalis call lives in this module. Jobs are part of the
//! service layer and use the stores directly (through [`App`]'s fields), unlike transports.
//!
//! Each schedule is an apalis-cron worker in every worker process. On a tick, the process that
//! wins a Redis claim for that tick (`SET NX` on `{prefix}once:jobs:{job}:{tick}`) enqueues the
//! job into one apalis-redis queue; any worker process takes it from there (apalis' heartbeats re-enqueue
//! the job of a worker that died). So several worker processes run each tick once, and every
//! job is idempotent anyway (a doubled run does no harm).
//!
//! Without Redis (single node) a tick runs its job directly. In read-only mode, or while no
//! primary answers, ticks do nothing and jobs fail without retrying: the next tick tries
//! again, so workers wait instead of spinning.
//!
//! Why Redis for job storage: it is already the shared state every instance has; the jobs are
//! a few small messages a minute; and the hand-off they perform must keep working while the
//! Postgres primary is away (the analytics job writes to its own database).

pub mod expire;
pub mod handoff;
pub mod orphans;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::{BackendExt, BoxDynError, Data, Monitor, TaskSink, WorkerBuilder};
use apalis_cron::{CronScheduler, Tick};
use apalis_redis::{ConnectionManager, RedisStorage};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::App;
use super::cache::locks;
use crate::error::AppResult;

/// The jobs. Registered in [`schedules`], one file each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Job {
    Expire,
    Analytics,
    Orphans,
}

impl Job {
    pub fn name(self) -> &'static str {
        match self {
            Self::Expire => "expire",
            Self::Analytics => "analytics",
            Self::Orphans => "orphans",
        }
    }

    /// Runs the job once, here and now.
    pub async fn run(self, app: &App) -> AppResult<()> {
        match self {
            Self::Expire => expire::sweep(app).await.map(drop),
            Self::Analytics => handoff::run(app).await.map(drop),
            Self::Orphans => orphans::sweep(app).await.map(drop),
        }
    }
}

/// Every job and its cron schedule (with seconds).
fn schedules(app: &App) -> [(Job, String); 3] {
    let c = &app.config.jobs;
    [
        (Job::Expire, c.expiry_schedule.clone()),
        (Job::Analytics, c.analytics_schedule.clone()),
        (Job::Orphans, c.orphan_schedule.clone()),
    ]
}

type Queue = RedisStorage<Job, ConnectionManager>;

/// Runs the schedules and the queue worker until `shutdown`.
pub async fn run(app: Arc<App>, shutdown: CancellationToken) -> anyhow::Result<()> {
    let redis = &app.stores.redis;
    let queue: Option<Queue> = if redis.is_configured() {
        let conn = redis.connection_manager().await?;
        let mut config = apalis_redis::Config::default().queue(redis.key("jobs"));
        config.persist_results = false;
        Some(RedisStorage::new(conn).with_config(config))
    } else {
        None
    };
    let mut monitor = Monitor::new();
    for (job, spec) in schedules(&app) {
        let schedule = cron::Schedule::from_str(&spec).map_err(|e| {
            anyhow::anyhow!("invalid schedule {spec:?} for the {} job: {e}", job.name())
        })?;
        let (app, queue) = (Arc::clone(&app), queue.clone());
        monitor = monitor.register(move |_| {
            WorkerBuilder::new(format!("{}-schedule", job.name()))
                .backend(CronScheduler::new(schedule.clone()))
                .data(Arc::clone(&app))
                .data(queue.clone())
                .data(job)
                .build(on_tick)
        });
    }
    if let Some(queue) = queue {
        let app = Arc::clone(&app);
        // apalis-redis tracks workers by name: each process needs its own.
        let name = format!("jobs-{}", uuid::Uuid::new_v4().simple());
        monitor = monitor.register(move |_| {
            // apalis-redis files every push as scheduled "now" and wakes idle workers only for
            // immediate ones: poll, so queued jobs start within a second.
            let backend = queue.clone().poll_with_interval(Duration::from_secs(1));
            WorkerBuilder::new(name.clone())
                .backend(backend)
                .data(Arc::clone(&app))
                .build(execute)
        });
    }
    tracing::info!("job workers started");
    monitor
        .run_with_signal(async move {
            shutdown.cancelled().await;
            Ok(())
        })
        .await?;
    tracing::info!("job workers stopped");
    Ok(())
}

/// A schedule fired: enqueue the job once for all processes (or run it, without Redis).
async fn on_tick(
    tick: Tick,
    app: Data<Arc<App>>,
    queue: Data<Option<Queue>>,
    job: Data<Job>,
) -> Result<(), BoxDynError> {
    if app.stores.db.read_only() {
        tracing::debug!(job = job.name(), "read-only mode: job skipped");
        metrics::counter!("pastebin_jobs_skipped_total", "job" => job.name(), "reason" => "read_only")
            .increment(1);
        return Ok(());
    }
    let claim = format!("jobs:{}:{}", job.name(), tick.get_timestamp());
    match (
        &*queue,
        locks::claim_once(&app.stores.redis, &claim, 3600).await,
    ) {
        (Some(queue), Ok(true)) => queue.clone().push(*job).await?,
        // Another process enqueued this tick.
        (Some(_), Ok(false)) => {}
        // No shared queue: run here. Jobs are idempotent, so a tick run twice does no harm.
        (None, _) | (Some(_), Err(_)) => run_logged(&app, *job).await?,
    }
    Ok(())
}

/// A job from the queue.
async fn execute(job: Job, app: Data<Arc<App>>) -> Result<(), BoxDynError> {
    if app.stores.db.read_only() {
        return Ok(());
    }
    run_logged(&app, job).await
}

async fn run_logged(app: &App, job: Job) -> Result<(), BoxDynError> {
    let started = std::time::Instant::now();
    let result = job.run(app).await;
    metrics::histogram!("pastebin_job_duration_seconds", "job" => job.name())
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(()) => Ok(()),
        Err(e) => {
            metrics::counter!("pastebin_job_failures_total", "job" => job.name()).increment(1);
            tracing::warn!(job = job.name(), error = %e, "job failed; the next tick retries");
            e.log();
            Err(e.public_message().into())
        }
    }
}
