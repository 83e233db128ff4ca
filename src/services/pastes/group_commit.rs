//! Group commit for creates: concurrent creates that arrive while a commit is in flight are
//! inserted together, in one transaction, and acknowledged together once the synchronous
//! standby has applied it — one standby round trip for many pastes instead of one each.
//!
//! The window adapts by itself: a create waits only for a free committer (at most
//! [`IN_FLIGHT`] batches commit at once), so under light load a batch is one paste and adds no
//! delay; under load, batches grow to what arrived meanwhile, up to [`MAX_BATCH`]. Each paste
//! keeps its own outcome: a paste whose id or idempotency key is taken is skipped, not the batch
//! (`INSERT … ON CONFLICT DO NOTHING`); if the batch fails for another reason, every paste of it
//! is tried again alone, so a bad one fails alone. A batch whose commit had no answer is resolved
//! paste by paste by the caller, as a single create's is.

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

use crate::services::db::pastes::{self as q, BatchInsert, NewPasteWrite};
use crate::services::db::{Db, DbFailure};

/// Most pastes in one transaction.
const MAX_BATCH: usize = 128;
/// Batches committing at once.
const IN_FLIGHT: usize = 2;

type Reply = oneshot::Sender<Result<BatchInsert, DbFailure>>;

/// The queue creates hand their rows to.
#[derive(Clone)]
pub(super) struct GroupCommit {
    queue: mpsc::UnboundedSender<(Arc<NewPasteWrite>, Reply)>,
}

impl GroupCommit {
    pub(super) fn start(db: Db) -> Self {
        let (queue, mut incoming) = mpsc::unbounded_channel::<(Arc<NewPasteWrite>, Reply)>();
        tokio::spawn(async move {
            let permits = Arc::new(Semaphore::new(IN_FLIGHT));
            while let Some(first) = incoming.recv().await {
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                    break;
                };
                // Whatever arrived while the committers were busy joins this batch.
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH
                    && let Ok(next) = incoming.try_recv()
                {
                    batch.push(next);
                }
                let db = db.clone();
                tokio::spawn(async move {
                    commit(&db, batch).await;
                    drop(permit);
                });
            }
        });
        Self { queue }
    }

    /// Inserts one paste (with its revision and files) in the next batch; answers after the
    /// batch's commit.
    pub(super) async fn insert(&self, write: NewPasteWrite) -> Result<BatchInsert, DbFailure> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((Arc::new(write), reply))
            .map_err(|_| DbFailure::NoConnection)?;
        answer.await.map_err(|_| DbFailure::NoConnection)?
    }
}

async fn commit(db: &Db, batch: Vec<(Arc<NewPasteWrite>, Reply)>) {
    metrics::histogram!("pastebin_create_batch_size").record(batch.len() as f64);
    let writes: Vec<&NewPasteWrite> = batch.iter().map(|(w, _)| w.as_ref()).collect();
    let result = db.write(async |c| q::insert_batch(c, &writes).await).await;
    match result {
        Ok(outcomes) => {
            for ((_, reply), outcome) in batch.into_iter().zip(outcomes) {
                let _ = reply.send(Ok(outcome));
            }
        }
        // The batch itself failed (not a collision): each paste alone, so a bad one fails
        // alone. A batch of one has had its answer.
        Err(DbFailure::Query(e)) if batch.len() > 1 => {
            tracing::warn!(error = %e, pastes = batch.len(), "batch insert failed; inserting one by one");
            for (write, reply) in batch {
                let one = [write.as_ref()];
                let result = db
                    .write(async |c| q::insert_batch(c, &one).await)
                    .await
                    .map(|mut o| o.remove(0));
                let _ = reply.send(result);
            }
        }
        // No answer from the server, no connection, read-only: every paste shares the fate.
        Err(failure) => {
            for (_, reply) in batch {
                let _ = reply.send(Err(failure.duplicate()));
            }
        }
    }
}
