//! Group commit: concurrent requests are written together, many in one transaction, and each is
//! answered only after the transaction that holds its data has committed. Batches form by
//! themselves: while every writer is busy, new items queue up and the next free writer takes all
//! of them (up to `max_batch`). An idle server writes a lone item at once, so there is no added
//! wait at low load, and one commit (one WAL flush) serves a whole batch under load. The queue is
//! bounded: when it is full, requests are turned away (503) instead of growing memory.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, Semaphore};

use super::is_transient_db_error;

#[derive(Debug, Clone)]
pub struct GroupCommitSettings {
    /// Most items in one transaction.
    pub max_batch: usize,
    /// Items waiting for a writer before requests are turned away.
    pub queue: usize,
    /// Transactions in flight at once.
    pub writers: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the write queue is full")]
    Overloaded,
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("the write failed: {0}")]
    Failed(String),
}

impl From<sqlx::Error> for WriteError {
    fn from(e: sqlx::Error) -> Self {
        if is_transient_db_error(&e) {
            WriteError::Unavailable(e.to_string())
        } else {
            WriteError::Failed(e.to_string())
        }
    }
}

struct Job<T, R> {
    item: T,
    reply: oneshot::Sender<Result<R, WriteError>>,
    /// The submitting request's span: a write that fails for this item is logged in it, so the
    /// line carries that request's id although a shared writer task wrote it.
    span: tracing::Span,
}

/// A queue in front of a batch writer. `write` receives a batch and returns one answer per item,
/// in order.
pub struct GroupCommit<T, R> {
    queue: mpsc::Sender<Job<T, R>>,
    outage: Arc<Outage>,
}

impl<T, R> Clone for GroupCommit<T, R> {
    fn clone(&self) -> Self {
        GroupCommit {
            queue: self.queue.clone(),
            outage: Arc::clone(&self.outage),
        }
    }
}

/// Remembers that the database was just found unreachable. Without it, during an outage every
/// queued item would wait for a writer that itself waits out the pool's acquire timeout: the
/// answer times would add up. While it is set, items are answered 503 at once.
struct Outage {
    epoch: Instant,
    /// Milliseconds since `epoch` until which the database counts as down.
    until_ms: AtomicU64,
}

impl Outage {
    /// How long a failed batch marks the database down before the next attempt.
    const HOLD: Duration = Duration::from_millis(1000);

    fn is_down(&self) -> bool {
        (self.epoch.elapsed().as_millis() as u64) < self.until_ms.load(Ordering::Relaxed)
    }

    fn record(&self) {
        let until = (self.epoch.elapsed() + Self::HOLD).as_millis() as u64;
        self.until_ms.store(until, Ordering::Relaxed);
    }
}

fn unavailable() -> WriteError {
    WriteError::Unavailable("the database was unreachable a moment ago".into())
}

impl<T: Send + 'static, R: Send + 'static> GroupCommit<T, R> {
    /// Starts the collector task; it ends when the last handle is dropped.
    pub fn start<F, Fut>(settings: GroupCommitSettings, write: F) -> Self
    where
        F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Result<R, WriteError>>> + Send + 'static,
    {
        let (queue, rx) = mpsc::channel(settings.queue.max(1));
        let outage = Arc::new(Outage {
            epoch: Instant::now(),
            until_ms: AtomicU64::new(0),
        });
        tokio::spawn(collect(rx, settings, Arc::new(write), Arc::clone(&outage)));
        GroupCommit { queue, outage }
    }

    /// Queues `item` and waits until the transaction holding it has committed.
    pub async fn submit(&self, item: T) -> Result<R, WriteError> {
        if self.outage.is_down() {
            return Err(unavailable());
        }
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Job {
                item,
                reply,
                span: tracing::Span::current(),
            })
            .map_err(|_| WriteError::Overloaded)?;
        answer
            .await
            .unwrap_or_else(|_| Err(WriteError::Failed("the writer stopped".into())))
    }
}

async fn collect<T, R, F, Fut>(
    mut rx: mpsc::Receiver<Job<T, R>>,
    settings: GroupCommitSettings,
    write: Arc<F>,
    outage: Arc<Outage>,
) where
    T: Send + 'static,
    R: Send + 'static,
    F: Fn(Vec<T>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Vec<Result<R, WriteError>>> + Send + 'static,
{
    let writers = Arc::new(Semaphore::new(settings.writers.max(1)));
    while let Some(first) = rx.recv().await {
        let Ok(permit) = Arc::clone(&writers).acquire_owned().await else {
            return;
        };
        // Everything that queued while we waited for a writer goes in this batch.
        let mut batch = vec![first];
        while batch.len() < settings.max_batch {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if outage.is_down() {
            for job in batch {
                let _ = job.reply.send(Err(unavailable()));
            }
            continue;
        }
        let (write, outage) = (Arc::clone(&write), Arc::clone(&outage));
        tokio::spawn(async move {
            let (items, replies): (Vec<T>, Vec<_>) = batch
                .into_iter()
                .map(|j| (j.item, (j.reply, j.span)))
                .unzip();
            let n = replies.len();
            let answers = write(items).await;
            if answers
                .iter()
                .any(|a| matches!(a, Err(WriteError::Unavailable(_))))
            {
                outage.record();
            }
            let mut answers = answers.into_iter();
            for (reply, span) in replies {
                let answer = answers.next().unwrap_or_else(|| {
                    Err(WriteError::Failed(format!(
                        "the writer answered fewer than {n} items"
                    )))
                });
                if let Err(WriteError::Failed(e)) = &answer {
                    span.in_scope(|| tracing::error!(error = %e, "write failed"));
                }
                let _ = reply.send(answer);
            }
            drop(permit);
        });
    }
}

/// Writes a batch in one transaction, answering each item in order; a batch of one item is
/// how an item is written alone.
pub trait BatchWriter<T, R> {
    fn batch(&self, items: &[T]) -> impl Future<Output = Result<Vec<R>, sqlx::Error>> + Send;
}

/// Writes `items` in one transaction; if that fails for a reason other than an unreachable
/// database, writes every item alone, so one bad item does not fail its neighbours.
pub async fn write_with_fallback<T, R, W: BatchWriter<T, R>>(
    writer: &W,
    items: Vec<T>,
) -> Vec<Result<R, WriteError>> {
    match writer.batch(&items).await {
        Ok(answers) => answers.into_iter().map(Ok).collect(),
        Err(e) if is_transient_db_error(&e) || items.len() == 1 => {
            // A failure that is not transient is logged per item, in its request's span.
            let transient = is_transient_db_error(&e);
            let msg = e.to_string();
            items
                .iter()
                .map(|_| {
                    Err(if transient {
                        WriteError::Unavailable(msg.clone())
                    } else {
                        WriteError::Failed(msg.clone())
                    })
                })
                .collect()
        }
        Err(e) => {
            // Batch-level, so no single request's id: the items that fail alone are logged, each
            // in its own request's span.
            tracing::debug!(error = %e, batch = items.len(), "batch failed; writing its items one by one");
            let mut out = Vec::with_capacity(items.len());
            for item in &items {
                out.push(write_alone(writer, item).await);
            }
            out
        }
    }
}

/// `item` in a transaction of its own; a writer that answers nothing for it is a failed write,
/// not a panic.
async fn write_alone<T, R, W: BatchWriter<T, R>>(writer: &W, item: &T) -> Result<R, WriteError> {
    let mut answers = writer.batch(std::slice::from_ref(item)).await?;
    answers
        .pop()
        .ok_or_else(|| WriteError::Failed("the writer answered nothing for the item".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refuses every batch of more than one item; answers a lone item with itself, or with
    /// nothing when it is 0.
    struct Alone;

    impl BatchWriter<u8, u8> for Alone {
        async fn batch(&self, items: &[u8]) -> Result<Vec<u8>, sqlx::Error> {
            match items {
                [0] => Ok(Vec::new()),
                [item] => Ok(vec![*item]),
                _ => Err(sqlx::Error::RowNotFound),
            }
        }
    }

    #[tokio::test]
    async fn a_refused_batch_is_written_item_by_item_and_a_missing_answer_fails_its_item() {
        let answers = write_with_fallback(&Alone, vec![7, 0, 9]).await;
        assert!(
            matches!(answers[..], [Ok(7), Err(WriteError::Failed(_)), Ok(9)]),
            "{answers:?}"
        );
    }
}
