//! Turning postbacks into conversions and conversions into outbound events. Everything for one
//! conversion happens in one transaction: the conversion row and its event row commit together
//! (the transactional outbox), and the caller answers only after that commit. Postbacks are
//! group-committed: many share one transaction (see [`crate::storage::group_commit`]).

pub mod decide;
pub mod event_id;
pub mod import;
pub mod join;
pub mod outcome;
pub mod retry;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use sqlx::{PgPool, Postgres, Transaction};
use tokio::sync::Notify;

use crate::domain::{ActionSource, Conversion, ConversionState, PlatformKind, PlatformSkip};
use crate::storage::campaign_cache::CampaignCache;
use crate::storage::conversions;
use crate::storage::group_commit::{
    write_with_fallback, BatchWriter, GroupCommit, GroupCommitSettings,
};
use crate::storage::{clicks, events};
use crate::trackers::Postback;
use decide::{decide, Decision};
use join::join;
pub use outcome::{Outcome, QueuedEvent};

/// The conversion a postback becomes, before it is decided and stored (`id` 0, unmatched).
pub fn conversion_of(p: &Postback, received_at: DateTime<Utc>) -> Conversion {
    Conversion {
        id: 0,
        click_id: p.click_id.as_str().to_owned(),
        click_row_id: None,
        click_ambiguous: false,
        campaign_id: None,
        campaign_hint: p.campaign.as_ref().map(|c| c.as_str().to_owned()),
        tracker: p.tracker.as_str().to_owned(),
        raw_status: p.raw_status.clone(),
        status: p.status.clone(),
        txid: p.txid.clone(),
        payout: p.payout,
        currency: p.currency.map(|c| c.as_str().to_owned()),
        received_at,
        event_time: p.event_time.unwrap_or(received_at),
        state: ConversionState::Unmatched,
        event_name: None,
        failure_reason: None,
        ip: p.ip.map(|ip| ip.to_string()),
        user_agent: p.user_agent.as_ref().map(|u| u.as_str().to_owned()),
        fbclid: p.fbclid.as_ref().map(|f| f.as_str().to_owned()),
        event_source_url: p.event_source_url.as_ref().map(|u| u.as_str().to_owned()),
        params: Some(p.params.clone()),
        customer: p.customer.clone(),
        ttclid: p.ttclid.as_ref().map(|t| t.as_str().to_owned()),
        dropped: p.dropped.clone(),
        skipped: Vec::new(),
        action_source: p.action_source,
        import_id: None,
    }
}

/// `capi_bridge_platform_skipped_total{platform, reason}`: conversions a platform's
/// `send_when` kept from it. Counted here, where every decision is answered; the metrics
/// registry registers this same counter.
pub static PLATFORM_SKIPPED: std::sync::LazyLock<
    prometheus_client::metrics::family::Family<
        Vec<(&'static str, String)>,
        prometheus_client::metrics::counter::Counter,
    >,
> = std::sync::LazyLock::new(Default::default);

fn count_skips(skipped: &[PlatformSkip]) {
    for s in skipped {
        PLATFORM_SKIPPED
            .get_or_create(&vec![
                ("platform", s.platform.as_str().to_owned()),
                ("reason", "no_platform_click".to_owned()),
            ])
            .inc();
    }
}

pub type PostbackWriter = GroupCommit<(Postback, DateTime<Utc>), Outcome>;

/// The group-commit writer for postbacks; wakes the delivery worker after a batch that queued
/// events.
pub fn start_writer(
    pool: PgPool,
    campaigns: Arc<CampaignCache>,
    settings: GroupCommitSettings,
    delivery_signal: Arc<Notify>,
) -> PostbackWriter {
    let writer = Arc::new(PostbackBatches { pool, campaigns });
    GroupCommit::start(settings, move |batch: Vec<(Postback, DateTime<Utc>)>| {
        let (writer, signal) = (Arc::clone(&writer), Arc::clone(&delivery_signal));
        async move {
            let answers = write_with_fallback(&*writer, batch).await;
            if answers
                .iter()
                .any(|a| matches!(a, Ok(Outcome::Accepted { .. })))
            {
                signal.notify_one();
            }
            answers
        }
    })
}

struct PostbackBatches {
    pool: PgPool,
    campaigns: Arc<CampaignCache>,
}

impl BatchWriter<(Postback, DateTime<Utc>), Outcome> for PostbackBatches {
    async fn batch(
        &self,
        items: &[(Postback, DateTime<Utc>)],
    ) -> Result<Vec<Outcome>, sqlx::Error> {
        record_batch(&self.pool, &self.campaigns, items).await
    }
}

/// Records postbacks in one transaction, answers in input order, in a handful of statements
/// for the whole batch: lock every click id (in sorted order, so two batches never wait on each
/// other in a cycle), read the clicks and their conversion history, decide each postback in
/// memory, insert all conversions, insert all events. Postbacks whose click is unknown, or whose
/// click has conversions still waiting for it, take the one-by-one path.
pub async fn record_batch(
    pool: &PgPool,
    campaigns: &CampaignCache,
    items: &[(Postback, DateTime<Utc>)],
) -> Result<Vec<Outcome>, sqlx::Error> {
    record_batch_with(pool, campaigns, items, BatchOptions::default()).await
}

/// What an import adds to recording postbacks.
#[derive(Debug, Clone, Copy, Default)]
pub struct BatchOptions {
    /// Stored on each conversion, so the import page can follow its rows.
    pub import_id: Option<i64>,
    /// Meta's action source for rows that name none and whose click is not registered.
    pub default_action_source: Option<ActionSource>,
    /// A row whose recorded twin failed for good replaces it (a corrected re-upload).
    pub replace_failed: bool,
}

/// [`record_batch`] with an import's options.
pub async fn record_batch_with(
    pool: &PgPool,
    campaigns: &CampaignCache,
    items: &[(Postback, DateTime<Utc>)],
    opts: BatchOptions,
) -> Result<Vec<Outcome>, sqlx::Error> {
    let click_of = |i: usize| items[i].0.click_id.as_str();
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| click_of(a).cmp(click_of(b)));
    let mut ids: Vec<&str> = order.iter().map(|&i| click_of(i)).collect();
    ids.dedup();

    let mut tx = pool.begin().await?;
    conversions::lock_click_ids(&mut tx, &ids).await?;
    if opts.replace_failed {
        // Under the click locks and before the histories are read, so the replacement is
        // decided as if the failed twin had never been recorded.
        let keys: Vec<_> = items
            .iter()
            .map(|(p, r)| conversions::DedupKey::of(&conversion_of(p, *r)))
            .collect();
        conversions::delete_failed_twins(&mut tx, &keys).await?;
    }
    let known = clicks::find_many(&mut tx, &ids).await?;
    let mut history = conversions::click_histories(&mut tx, &ids).await?;

    let mut answers: Vec<Option<Outcome>> = vec![None; items.len()];
    let mut seen = std::collections::HashSet::new();
    let mut rows = Vec::new();
    let mut decided = Vec::new();
    for i in order {
        let (postback, received_at) = &items[i];
        let click_id = postback.click_id.as_str();
        let hint = postback.campaign.as_ref().map(|c| c.as_str());
        let waiting = history.get(click_id).is_some_and(|h| h.has_unmatched);
        let joined = known
            .get(click_id)
            .and_then(|all| join(hint, all))
            .filter(|_| !waiting);
        let Some(joined) = joined else {
            answers[i] =
                Some(record_postback(&mut tx, campaigns, postback, *received_at, opts).await?);
            continue;
        };
        let click = joined.click;
        if !seen.insert((
            click_id,
            hint,
            postback.status.as_str(),
            postback.txid.as_str(),
        )) {
            answers[i] = Some(Outcome::Duplicate);
            continue;
        }
        let mut conv = conversion_of(postback, *received_at);
        conv.import_id = opts.import_id;
        let campaign = campaigns.get_by_id(click.campaign_id).await?;
        let used = history.entry(click_id.to_owned()).or_default();
        let decision = decide(
            campaign.as_deref(),
            Some(click),
            &conv,
            &used.used_events(Some(click.campaign_id)),
        );
        for e in &decision.events {
            used.add(click.campaign_id, e.platform, e.event_name.clone());
        }
        for u in &decision.unbuilt {
            used.add(click.campaign_id, u.platform, u.event_name.clone());
        }
        // As `click_history` reads it back: a conversion without events keeps its name for Meta.
        if let (Some(name), true, true) = (
            &decision.event_name,
            decision.events.is_empty(),
            decision.unbuilt.is_empty(),
        ) {
            used.add(click.campaign_id, PlatformKind::Meta, name.clone());
        }
        decision.apply_to(&mut conv, Some(joined));
        rows.push(conv);
        decided.push((i, decision));
    }

    let ids_by_key = if rows.is_empty() {
        Default::default()
    } else {
        conversions::insert_many(&mut tx, &rows).await?
    };
    let mut new_events = Vec::new();
    let mut outcomes = Vec::new();
    for (conv, (i, decision)) in rows.iter().zip(decided) {
        match ids_by_key.get(&conversions::DedupKey::of(conv)) {
            None => answers[i] = Some(Outcome::Duplicate),
            Some(&id) => outcomes.push((i, id, conv, decision)),
        }
    }
    for (_, id, conv, d) in &outcomes {
        new_events.extend(new_events_of(*id, conv, d));
    }
    events::insert_many(&mut tx, &new_events).await?;
    tx.commit().await?;
    drop(new_events);
    for (i, id, _, d) in outcomes {
        answers[i] = Some(Outcome::from_decision(id, d));
    }
    Ok(answers
        .into_iter()
        .map(|a| a.expect("every postback answered"))
        .collect())
}

/// Records one postback and, when its click is known, its event.
pub async fn record_postback(
    tx: &mut Transaction<'_, Postgres>,
    campaigns: &CampaignCache,
    postback: &Postback,
    received_at: DateTime<Utc>,
    opts: BatchOptions,
) -> Result<Outcome, sqlx::Error> {
    let click_id = postback.click_id.as_str();
    conversions::lock_click_id(tx, click_id).await?;
    let mut conv = conversion_of(postback, received_at);
    conv.import_id = opts.import_id;
    let known = clicks::find_all(&mut **tx, click_id).await?;
    let Some(joined) = join(conv.campaign_hint.as_deref(), &known) else {
        conv.action_source = conv.action_source.or(opts.default_action_source);
        return Ok(match conversions::insert(tx, &conv).await? {
            Some(conversion_id) => Outcome::Unmatched { conversion_id },
            None => Outcome::Duplicate,
        });
    };
    let click = joined.click;
    let mut history = conversions::click_history(tx, click_id, 0).await?;
    if history.has_unmatched {
        // Conversions that arrived before the click was registered are joined first, so event
        // ids follow arrival order (the first sale gets the pixel's eventID, a rebill the
        // suffixed one).
        for earlier in conversions::unmatched_before(tx, click_id, i64::MAX).await? {
            resolve(tx, campaigns, &earlier, false).await?;
        }
        history = conversions::click_history(tx, click_id, 0).await?;
    }
    let campaign = campaigns.get_by_id(click.campaign_id).await?;
    let decision = decide(
        campaign.as_deref(),
        Some(click),
        &conv,
        &history.used_events(Some(click.campaign_id)),
    );
    decision.apply_to(&mut conv, Some(joined));
    let Some(conversion_id) = conversions::insert(tx, &conv).await? else {
        return Ok(Outcome::Duplicate);
    };
    write_event(tx, conversion_id, &conv, &decision).await?;
    Ok(Outcome::from_decision(conversion_id, decision))
}

/// Joins unmatched conversions whose click has arrived since, and settles those whose grace
/// period is over. Returns how many were resolved.
pub async fn resolve_unmatched(
    pool: &PgPool,
    campaigns: &CampaignCache,
    grace: std::time::Duration,
    limit: i64,
) -> Result<usize, sqlx::Error> {
    let cutoff = Utc::now() - chrono::Duration::from_std(grace).unwrap_or_default();
    let ids = conversions::unmatched_due(pool, cutoff, limit).await?;
    let mut resolved = 0;
    for id in ids {
        let Some(conv) = conversions::find(pool, id).await? else {
            continue;
        };
        let mut tx = pool.begin().await?;
        conversions::lock_click_id(&mut tx, &conv.click_id).await?;
        // Another process may have resolved it between the two reads.
        let conv = conversions::find_for_update(&mut tx, id).await?;
        let Some(conv) = conv.filter(|c| c.state == ConversionState::Unmatched) else {
            continue;
        };
        let grace_over = conv.received_at < cutoff;
        let outcome = resolve(&mut tx, campaigns, &conv, grace_over).await?;
        tx.commit().await?;
        if !matches!(outcome, Outcome::Unmatched { .. }) {
            resolved += 1;
            tracing::info!(
                conversion_id = id,
                outcome = outcome.name(),
                "unmatched conversion resolved"
            );
        }
    }
    Ok(resolved)
}

/// Decides a stored, unmatched conversion. Without a click it keeps waiting unless
/// `grace_over`, when it goes out with what the postback carried.
async fn resolve(
    tx: &mut Transaction<'_, Postgres>,
    campaigns: &CampaignCache,
    conv: &Conversion,
    grace_over: bool,
) -> Result<Outcome, sqlx::Error> {
    let known = clicks::find_all(&mut **tx, &conv.click_id).await?;
    let joined = join(conv.campaign_hint.as_deref(), &known);
    let campaign = match (joined, &conv.campaign_hint) {
        (Some(j), _) => campaigns.get_by_id(j.click.campaign_id).await?,
        (None, _) if !grace_over => {
            return Ok(Outcome::Unmatched {
                conversion_id: conv.id,
            })
        }
        (None, Some(hint)) => campaigns.get(hint).await?,
        (None, None) => None,
    };
    let history = conversions::click_history(tx, &conv.click_id, conv.id).await?;
    let decision = decide(
        campaign.as_deref(),
        joined.map(|j| j.click),
        conv,
        &history.used_events(campaign.as_ref().map(|c| c.id)),
    );
    let mut decided = conv.clone();
    decision.apply_to(&mut decided, joined);
    conversions::set_decision(tx, &decided).await?;
    write_event(tx, conv.id, conv, &decision).await?;
    Ok(Outcome::from_decision(conv.id, decision))
}

async fn write_event(
    tx: &mut Transaction<'_, Postgres>,
    conversion_id: i64,
    conv: &Conversion,
    d: &Decision,
) -> Result<(), sqlx::Error> {
    let rows: Vec<_> = new_events_of(conversion_id, conv, d).collect();
    events::insert_many(tx, &rows).await
}

/// The outbox rows of a decision: one per platform it sends to, pending, and failed for a
/// platform whose event could not be built while another's could.
fn new_events_of<'a>(
    conversion_id: i64,
    conv: &'a Conversion,
    d: &'a Decision,
) -> impl Iterator<Item = events::NewEvent<'a>> + 'a {
    static NOT_BUILT: serde_json::Value = serde_json::Value::Null;
    d.campaign_id.into_iter().flat_map(move |campaign_id| {
        let row = move |platform, event_name, event_id, payload, unbuilt| events::NewEvent {
            conversion_id,
            campaign_id,
            platform,
            event_name,
            event_id,
            event_time: conv.event_time,
            payload,
            unbuilt,
        };
        let built = d
            .events
            .iter()
            .map(move |e| row(e.platform, &e.event_name, &e.event_id, &e.payload, None));
        let unbuilt = d.unbuilt.iter().map(move |u| {
            row(
                u.platform,
                &u.event_name,
                &u.event_id,
                &NOT_BUILT,
                Some(u.reason.as_str()),
            )
        });
        built.chain(unbuilt)
    })
}
