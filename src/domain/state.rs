//! The states a conversion, an outbound event and a delivery attempt go through. Stored as
//! `TEXT` (the migrations' CHECK constraints list the same words) and read back through sqlx, so
//! a misspelt state does not compile.

use serde::Serialize;

/// What became of a postback's conversion (`conversions.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ConversionState {
    /// The click is not registered (yet); joined when it arrives.
    Unmatched,
    /// The status maps to no event (e.g. rejected): recorded, never sent.
    Skipped,
    /// The campaign requires consent the click did not give.
    Suppressed,
    /// An outbound event exists; its own state is the delivery state.
    Queued,
    /// It cannot become a valid event (the reason is stored with it).
    Failed,
}

/// Where an outbound event is in the outbox (`events.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    /// Waiting for its first attempt or for its next retry.
    Pending,
    /// The platform accepted it.
    Sent,
    /// Given up on, with a [`FailureClass`]; a manual retry puts it back.
    Failed,
    /// Older than the platform accepts; never retried.
    Expired,
}

/// Why a failed event failed (`events.failure_class`); decides what puts it back in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// Token or permission refused: parked until the campaign's token or pixel changes.
    Auth,
    /// The platform refused the event itself.
    Invalid,
    /// Its personal data was erased on request; it will never be sent.
    Erased,
}

/// What one request to the platform came to, as recorded for each event it carried
/// (`delivery_attempts.outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    Sent,
    TransientError,
    AuthError,
    Invalid,
    Expired,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words stored in the database and shown by the API must not drift from the
    /// migrations' CHECK constraints and the existing rows.
    #[test]
    fn states_serialise_as_the_words_stored() {
        let words = |v: serde_json::Value| v.as_str().unwrap().to_owned();
        let conv = [
            (ConversionState::Unmatched, "unmatched"),
            (ConversionState::Skipped, "skipped"),
            (ConversionState::Suppressed, "suppressed"),
            (ConversionState::Queued, "queued"),
            (ConversionState::Failed, "failed"),
        ];
        for (state, word) in conv {
            assert_eq!(words(serde_json::to_value(state).unwrap()), word);
        }
        let ev = [
            (EventState::Pending, "pending"),
            (EventState::Sent, "sent"),
            (EventState::Failed, "failed"),
            (EventState::Expired, "expired"),
        ];
        for (state, word) in ev {
            assert_eq!(words(serde_json::to_value(state).unwrap()), word);
        }
        let outcomes = [
            (AttemptOutcome::Sent, "sent"),
            (AttemptOutcome::TransientError, "transient_error"),
            (AttemptOutcome::AuthError, "auth_error"),
            (AttemptOutcome::Invalid, "invalid"),
            (AttemptOutcome::Expired, "expired"),
        ];
        for (outcome, word) in outcomes {
            assert_eq!(words(serde_json::to_value(outcome).unwrap()), word);
        }
        let classes = [
            (FailureClass::Auth, "auth"),
            (FailureClass::Invalid, "invalid"),
            (FailureClass::Erased, "erased"),
        ];
        for (class, word) in classes {
            assert_eq!(words(serde_json::to_value(class).unwrap()), word);
        }
    }
}
