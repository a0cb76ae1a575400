//! Delivery to Meta: the Graph API client, the retry policy, and the worker that drains the
//! outbox.

pub mod graph;
pub mod retry;
pub mod worker;

pub use graph::GraphClient;
pub use retry::{RetryPolicy, Verdict};
pub use worker::{DeliveryWorker, TickReport};
