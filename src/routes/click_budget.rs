//! The click route's share of the disk budgets (src/http/click_budget.rs): a public
//! registration reserves its bytes (and a click id, when new) before it is written, and gets
//! back what the write did not use. A caller with the postback key is not limited.

use std::net::IpAddr;

use crate::http::click_budget::{Cost, Reservation, Stored};
use crate::http::ApiError;
use crate::state::AppState;
use crate::storage::clicks::{self, NewClick, Upserted, Written};

/// `None` for a server-side caller; 429 when the address or the campaign has no room.
pub(super) async fn admit(
    state: &AppState,
    peer: Option<IpAddr>,
    server_side: bool,
    click: &NewClick,
) -> Result<Option<Reservation>, ApiError> {
    if server_side {
        return Ok(None);
    }
    let budget = &state.click_budget;
    let new = Cost::New {
        row: click.row_bytes(),
        payload: click.payload_bytes(),
    };
    let mut refused = match budget.reserve(peer, click.campaign_id, new) {
        Ok(r) => return Ok(Some(r)),
        Err(refused) => refused,
    };
    // No room for a new click. A re-registration of one the campaign holds is no new click: it
    // passes when what it adds fits (nothing, for a consent answer). Only with the click's
    // update token: without it nothing would be stored, and passing would tell a stranger that
    // the click id is known (see clicks::owned).
    let stored = clicks::owned(&state.pool, click).await?;
    if let Some(stored) = stored {
        let payload = click.merge_bytes(&stored);
        match budget.reserve(peer, click.campaign_id, Cost::Merge { payload }) {
            Ok(r) => return Ok(Some(r)),
            Err(again) => refused = again,
        }
    }
    state.metrics.click_refused(refused.why.label());
    Err(ApiError::TooManyRequests {
        retry_after_secs: refused.retry_after_secs,
    })
}

/// Gives back what the write did not store.
pub(super) fn settle<E>(
    state: &AppState,
    reservation: Option<Reservation>,
    written: &Result<Upserted, E>,
) {
    let Some(reservation) = reservation else {
        return;
    };
    let stored = match written {
        Ok(u) if u.written == Written::Inserted => Stored::New,
        Ok(u) if u.written == Written::Merged => Stored::Merged,
        Ok(_) | Err(_) => Stored::Nothing,
    };
    state.click_budget.settle(reservation, stored);
}
