//! Every SQL statement of the service lives below this module, one file per table, each with
//! integration tests over a real Postgres (`tests/api/storage.rs` and the route tests).

pub mod alerts;
pub mod campaign_cache;
pub mod campaign_stats;
pub mod campaigns;
pub mod click_history;
pub mod click_size;
pub mod clicks;
pub mod conversion_count;
pub mod conversion_dedup;
pub mod conversion_view;
pub mod conversions;
pub mod events;
pub mod group_commit;
pub mod health;
pub mod import_lines;
pub mod imports;
pub mod meta_quality;
pub mod money;
pub mod outbox_stats;
pub mod overview;
pub mod privacy;
pub mod quality;
pub mod refused;
pub mod refused_tokens;
pub mod server_settings;
pub mod ui_sessions;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Set on every connection of the service, whatever the server's defaults. Its statements are
/// short OLTP ones: JIT compiling costs tens of milliseconds per execution and never pays back,
/// and a misestimate (stale statistics) is enough to trigger it. No `statement_timeout`: imports,
/// retention passes and reports run long on purpose, and requests are bounded by their own
/// timeouts (docs/operations.md#postgresql-settings).
pub const SESSION_SETTINGS: [(&str, &str); 1] = [("jit", "off")];

/// A lazily connecting pool: the service starts (and answers /healthz, and 503 elsewhere) even
/// while Postgres is still coming up or briefly down.
pub fn pool(database_url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    let options: PgConnectOptions = database_url.parse()?;
    let options = options
        .application_name("capi-bridge")
        .options(SESSION_SETTINGS);
    Ok(PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(0)
        // Bounded: a request waits at most this long for a connection before answering 503.
        .acquire_timeout(Duration::from_secs(3))
        .connect_lazy_with(options))
}

/// Applies pending migrations. sqlx holds a Postgres advisory lock while migrating, so two
/// processes starting together apply each migration once.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Whether the database answers a trivial query (the readiness probe).
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query!("SELECT 1 AS one").fetch_one(pool).await?;
    Ok(())
}

/// A row id as a path or a page cursor gives it: a positive BIGINT. Any other text names no
/// row, so callers answer it as they answer an unknown id.
pub fn row_id(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|n| *n > 0)
}

/// Which database errors mean "try again shortly" rather than "bug".
pub fn is_transient_db_error(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => true,
        sqlx::Error::Tls(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| {
            // 08: connection exception, 53: insufficient resources, 57P: operator intervention
            // (shutdown), 40001/40P01: serialization failure / deadlock.
            c.starts_with("08")
                || c.starts_with("53")
                || c.starts_with("57P")
                || c == "40001"
                || c == "40P01"
        }),
        _ => false,
    }
}

/// The unique constraints a caller answers by name (a conflict, not a bug).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    /// `campaigns.key`: a campaign with this key exists.
    CampaignKey,
    /// A conversion's dedup key: it is recorded already.
    Conversion,
    /// Any other unique constraint.
    Other,
}

/// Which unique constraint `e` violated; `None` when it is no unique violation. The one place
/// that knows the constraints' names.
pub fn taken(e: &sqlx::Error) -> Option<Taken> {
    let sqlx::Error::Database(db) = e else {
        return None;
    };
    if !db.is_unique_violation() {
        return None;
    }
    Some(match db.constraint() {
        Some("campaigns_key_key") => Taken::CampaignKey,
        Some("conversions_dedup_key") => Taken::Conversion,
        _ => Taken::Other,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_row_id_is_a_positive_bigint() {
        let cases = [
            ("42", Some(42)),
            ("0", None),
            ("-3", None),
            ("4x", None),
            ("", None),
            ("9223372036854775808", None),
        ];
        for (raw, id) in cases {
            assert_eq!(super::row_id(raw), id, "{raw:?}");
        }
    }
}
