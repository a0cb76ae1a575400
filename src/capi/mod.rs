//! Meta Conversions API: the server event, its `event_id`, its `fbc`.

pub mod event;
pub mod event_id;
pub mod test_event;

pub use event::{build_event, EventInput, ServerEvent};
