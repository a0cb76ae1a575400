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
    /// Not sent: its pixel twin fired more than 48 hours earlier and the campaign's
    /// `late_pixel_twin` is `skip` (Meta would count the conversion twice).
    LatePixelTwin,
    /// Cancelled: its platform was removed from the campaign before it was sent.
    PlatformRemoved,
}

/// An ad platform a campaign's events go to (`events.platform`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    sqlx::Type,
    utoipa::ToSchema,
)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PlatformKind {
    Meta,
    // snake_case would make it "tik_tok"; the word everywhere is "tiktok".
    #[sqlx(rename = "tiktok")]
    #[serde(rename = "tiktok")]
    TikTok,
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

/// `as_str` and `ALL` for a state enum: the same words serde and sqlx use, for metrics labels,
/// messages and SQL parameters.
macro_rules! words {
    ($ty:ident { $($variant:ident => $word:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $word),+
                }
            }

            pub fn parse(word: &str) -> Option<$ty> {
                Self::ALL.iter().copied().find(|s| s.as_str() == word)
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// The alert words (`alert.rs`) are stored and shown the same way.
pub(super) use words;

words!(ConversionState {
    Unmatched => "unmatched",
    Skipped => "skipped",
    Suppressed => "suppressed",
    Queued => "queued",
    Failed => "failed",
});
words!(PlatformKind {
    Meta => "meta",
    TikTok => "tiktok",
});
impl EventState {
    /// How far delivery got: a conversion's delivery state is the least advanced of its
    /// events' (pending < failed < expired < sent). The SQL aggregate `least_advanced_state`
    /// (migration 14) ranks alike; the table test below pins both orders to these words.
    const fn progress(self) -> u8 {
        match self {
            EventState::Pending => 0,
            EventState::Failed => 1,
            EventState::Expired => 2,
            EventState::Sent => 3,
        }
    }

    /// The least advanced of `states`; `None` for none (a conversion without events).
    pub fn least_advanced(states: impl IntoIterator<Item = EventState>) -> Option<EventState> {
        states.into_iter().min_by_key(|s| s.progress())
    }
}

words!(EventState {
    Pending => "pending",
    Sent => "sent",
    Failed => "failed",
    Expired => "expired",
});
impl PlatformKind {
    /// The platform's name as people write it.
    pub const fn name(self) -> &'static str {
        match self {
            PlatformKind::Meta => "Meta",
            PlatformKind::TikTok => "TikTok",
        }
    }
}

words!(FailureClass {
    Auth => "auth",
    Invalid => "invalid",
    Erased => "erased",
    LatePixelTwin => "late_pixel_twin",
    PlatformRemoved => "platform_removed",
});
words!(AttemptOutcome {
    Sent => "sent",
    TransientError => "transient_error",
    AuthError => "auth_error",
    Invalid => "invalid",
    Expired => "expired",
});
words!(DeliveryStatus {
    Pending => "pending",
    Sent => "sent",
    Failed => "failed",
    Expired => "expired",
    Skipped => "skipped",
    Suppressed => "suppressed",
    Unmatched => "unmatched",
});

/// A conversion's state as the admin API and the metrics show it: its event's state once it
/// has an event (`COALESCE(events.state, conversions.state)`), else its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, sqlx::Type)]
#[sqlx(type_name = "text", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    Failed,
    Expired,
    Skipped,
    Suppressed,
    Unmatched,
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
            (FailureClass::LatePixelTwin, "late_pixel_twin"),
            (FailureClass::PlatformRemoved, "platform_removed"),
        ];
        for (class, word) in classes {
            assert_eq!(words(serde_json::to_value(class).unwrap()), word);
        }
        for (kind, word) in [
            (PlatformKind::Meta, "meta"),
            (PlatformKind::TikTok, "tiktok"),
        ] {
            assert_eq!(words(serde_json::to_value(kind).unwrap()), word);
            assert_eq!(kind.as_str(), word);
            assert_eq!(PlatformKind::parse(word), Some(kind));
        }
        let shown = [
            DeliveryStatus::Pending,
            DeliveryStatus::Sent,
            DeliveryStatus::Failed,
            DeliveryStatus::Expired,
            DeliveryStatus::Skipped,
            DeliveryStatus::Suppressed,
            DeliveryStatus::Unmatched,
        ];
        assert_eq!(DeliveryStatus::ALL, shown);
        for s in shown {
            let word = words(serde_json::to_value(s).unwrap());
            assert_eq!(s.as_str(), word);
            assert_eq!(DeliveryStatus::parse(&word), Some(s));
        }
    }

    #[test]
    fn a_conversion_is_as_far_as_its_least_advanced_event() {
        use EventState::*;
        let cases: &[(&[EventState], Option<EventState>)] = &[
            (&[], None),
            (&[Sent], Some(Sent)),
            (&[Sent, Pending], Some(Pending)),
            (&[Failed, Sent], Some(Failed)),
            (&[Sent, Expired], Some(Expired)),
            (&[Expired, Failed], Some(Failed)),
            (&[Failed, Pending], Some(Pending)),
            (&[Sent, Sent], Some(Sent)),
        ];
        for (states, want) in cases {
            assert_eq!(
                EventState::least_advanced(states.iter().copied()),
                *want,
                "{states:?}"
            );
        }
    }

    /// `as_str` (SQL parameters, metrics labels) says what serde says.
    #[test]
    fn as_str_is_the_serialised_word() {
        fn same<T: Serialize + Copy>(all: &[T], as_str: fn(T) -> &'static str) {
            for &v in all {
                assert_eq!(serde_json::to_value(v).unwrap(), as_str(v));
            }
        }
        same(ConversionState::ALL, ConversionState::as_str);
        same(EventState::ALL, EventState::as_str);
        same(FailureClass::ALL, FailureClass::as_str);
        same(AttemptOutcome::ALL, AttemptOutcome::as_str);
        assert_eq!(ConversionState::ALL.len(), 5);
        assert_eq!(EventState::ALL.len(), 4);
        assert_eq!(DeliveryStatus::parse("queued"), None);
    }
}
