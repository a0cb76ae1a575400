//! Group commit for clicks: concurrent registrations are written together, many rows in one
//! statement and one transaction, and each request is answered only after the transaction that
//! holds its click has committed. Batches form by themselves: while every writer is busy, new
//! clicks queue up and the next free writer takes all of them (up to `max_batch`). An idle
//! server writes a lone click at once, so there is no added wait at low load.

use std::sync::Arc;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot, Semaphore};

use super::clicks::{self, NewClick, Upserted};
use crate::http::error::is_transient_db_error;

#[derive(Debug, Clone)]
pub struct GroupCommitSettings {
    /// Most clicks in one transaction.
    pub max_batch: usize,
    /// Clicks waiting for a writer before requests are turned away (503).
    pub queue: usize,
    /// Transactions in flight at once.
    pub writers: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the click queue is full")]
    Overloaded,
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("writing the click failed: {0}")]
    Failed(String),
}

type Reply = Result<Option<Upserted>, WriteError>;

struct Job {
    click: NewClick,
    reply: oneshot::Sender<Reply>,
}

#[derive(Clone)]
pub struct ClickWriter {
    queue: mpsc::Sender<Job>,
}

impl ClickWriter {
    /// Starts the collector task; it ends when the last `ClickWriter` is dropped.
    pub fn start(pool: PgPool, settings: GroupCommitSettings) -> Self {
        let (queue, rx) = mpsc::channel(settings.queue.max(1));
        tokio::spawn(collect(pool, rx, settings));
        ClickWriter { queue }
    }

    /// Stores or merges `click`; returns once it is committed. `Ok(None)`: the click id
    /// belongs to another campaign.
    pub async fn write(&self, click: NewClick) -> Reply {
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Job { click, reply })
            .map_err(|_| WriteError::Overloaded)?;
        answer
            .await
            .unwrap_or_else(|_| Err(WriteError::Failed("the writer stopped".into())))
    }
}

async fn collect(pool: PgPool, mut rx: mpsc::Receiver<Job>, settings: GroupCommitSettings) {
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
        let pool = pool.clone();
        tokio::spawn(async move {
            write_batch(&pool, batch).await;
            drop(permit);
        });
    }
}

async fn write_batch(pool: &PgPool, batch: Vec<Job>) {
    let (clicks, replies): (Vec<NewClick>, Vec<_>) =
        batch.into_iter().map(|j| (j.click, j.reply)).unzip();
    let result = async {
        let mut tx = pool.begin().await?;
        let answers = clicks::upsert_many(&mut tx, &clicks).await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(answers)
    }
    .await;
    match result {
        Ok(answers) => {
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(Ok(answer));
            }
        }
        Err(e) if is_transient_db_error(&e) => {
            for reply in replies {
                let _ = reply.send(Err(WriteError::Unavailable(e.to_string())));
            }
        }
        // One bad row must not fail its neighbours: write them one by one.
        Err(e) if clicks.len() > 1 => {
            tracing::warn!(error = %e, batch = clicks.len(), "click batch failed; writing its clicks one by one");
            for (reply, click) in replies.into_iter().zip(clicks) {
                let answer = clicks::upsert(pool, &click).await.map_err(|e| {
                    if is_transient_db_error(&e) {
                        WriteError::Unavailable(e.to_string())
                    } else {
                        WriteError::Failed(e.to_string())
                    }
                });
                let _ = reply.send(answer);
            }
        }
        Err(e) => {
            for reply in replies {
                let _ = reply.send(Err(WriteError::Failed(e.to_string())));
            }
        }
    }
}
