//! Helpers of the TikTok capture tests: known identifiers and digests, and what the\ndatabase stored of them.

use crate::helpers::*;
use serde_json::Value;

pub const TTCLID: &str = "E.C.P.CqgBx9Z3eWc-Ab_1";
pub const TTP: &str = "2Nf3kJ8qL0xYzAbCdEfGhIjKlMn";
/// sha256("16505551212"): Meta's published vector for "+1 (650) 555-1212".
pub const META_PH: &str = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176";
/// sha256("+16505551212"): TikTok's E.164 with the '+'.
pub const TIKTOK_PH: &str = "1e231c66011e7a2d867a9cfae267a6aff103cf4913640b6e71a99850fc0ffbc8";
/// sha256("CRM-8431"): TikTok's digest of the id as given; Meta's is sha256("crm-8431").
pub const TIKTOK_EXT: &str = "7b31a8e7e5d846cf08bec4222412ad95bf0064ca0284c7333759741acf6f552f";

pub async fn column(app: &TestApp, table: &str, click_id: &str, column: &str) -> Option<String> {
    sqlx::query_scalar(&format!(
        "SELECT {column}::text FROM {table} WHERE click_id = $1"
    ))
    .bind(click_id)
    .fetch_one(&app.pool)
    .await
    .unwrap_or_else(|e| panic!("{table} {click_id}: {e}"))
}

pub async fn clicks_stored(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM clicks")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

pub async fn postback_with_ttclid(app: &TestApp, click_id: &str) -> Value {
    let resp = app
        .postback(
            "keitaro",
            &format!(
                "subid={click_id}&status=lead&tid=T1&ttclid={}&ph={}&external_id=CRM-8431\
                 &sub_id_3=kept",
                urlencode(TTCLID),
                urlencode("+1 (650) 555-1212")
            ),
        )
        .await;
    assert_eq!(resp.status(), 200);
    resp.json().await.unwrap()
}

/// A conversion's TikTok values: ttclid, phone digest, external_id digest.
pub type TikTokValues = (Option<String>, Option<String>, Option<String>);

pub async fn conversion_tiktok(app: &TestApp, click_id: &str) -> TikTokValues {
    (
        column(app, "conversions", click_id, "ttclid").await,
        column(app, "conversions", click_id, "tiktok_ph").await,
        column(app, "conversions", click_id, "tiktok_external_id").await,
    )
}

pub fn all_tiktok_values() -> TikTokValues {
    (
        Some(TTCLID.into()),
        Some(TIKTOK_PH.into()),
        Some(TIKTOK_EXT.into()),
    )
}
