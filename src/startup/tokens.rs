//! The stored access tokens at start-up: the storage half of `secrets`, which itself only seals
//! and opens, so `secrets` imports no `storage`.

use sqlx::PgPool;

use crate::secrets::{Settled, StartError, TokenCipher};
use crate::storage::{campaigns, events};

/// At start-up, in one transaction: refuses tokens sealed under an unknown key, re-seals
/// every access token (Meta's and TikTok's) not in the current form, and puts back in the
/// queue the events parked on a token that opens now.
pub async fn settle(cipher: &TokenCipher, pool: &PgPool) -> Result<Settled, StartError> {
    let mut tx = pool.begin().await?;
    let rows = campaigns::tokens_for_update(&mut tx).await?;
    cipher.refuse_unknown_keys(rows.iter().map(|r| r.access_token.as_str()))?;
    let mut settled = Settled::default();
    let mut readable = Vec::new();
    for row in rows {
        if cipher.is_stale(&row.access_token) {
            let token = cipher.open_token(&row.key, row.platform, &row.access_token)?;
            let sealed = cipher.seal_token(&row.key, row.platform, &token);
            campaigns::set_stored_token(&mut tx, row.id, row.platform, &sealed).await?;
            settled.resealed += 1;
        } else if cipher
            .open_token(&row.key, row.platform, &row.access_token)
            .is_err()
        {
            // Damaged or copied from another row: its events stay parked, saying so.
            continue;
        }
        readable.push((row.id, row.platform));
    }
    settled.requeued = events::requeue_unrefused(&mut tx, &readable).await?;
    tx.commit().await?;
    Ok(settled)
}
