//! Delivery to Meta: the worker that drains the outbox (`worker`), what it sends (`plan`), what
//! Meta's answer does (`outcome`), the retry schedule and the Graph API client.

pub mod graph;
pub mod outcome;
pub mod plan;
pub mod retry;
pub mod worker;

pub use graph::GraphClient;
pub use retry::{RetryPolicy, Verdict};
pub use worker::{DeliveryWorker, TickReport};
