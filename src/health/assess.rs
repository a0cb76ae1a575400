//! The judgement: facts in, problems out. Pure, so every rule is a row in `assess_tests.rs`.

use std::collections::HashMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::problem::{rank, CampaignRef, Condition, Problem, Rate};
use super::HealthRules;
use crate::domain::PlatformKind;
use crate::storage::health::{CampaignFacts, Facts, OutboxFacts, PostbackTrouble};

/// The problems the facts show, the most urgent first.
pub fn assess(facts: &Facts, rules: &HealthRules, now: DateTime<Utc>) -> Vec<Problem> {
    let campaigns: HashMap<i64, &CampaignFacts> =
        facts.campaigns.iter().map(|c| (c.id, c)).collect();
    let named = |id: i64| {
        campaigns.get(&id).map(|c| CampaignRef {
            key: c.key.clone(),
            name: c.name.clone(),
        })
    };
    let mut out = Vec::new();
    for o in &facts.outbox {
        let Some(campaign) = named(o.campaign_id) else {
            continue;
        };
        outbox_problems(o, &campaign, rules, now, &mut out);
    }
    for p in &facts.postbacks {
        if p.count < rules.postback_pileup {
            continue;
        }
        let campaign = p.campaign_id.and_then(named);
        out.push(Problem {
            tracker: campaign.is_none().then(|| p.tracker.clone()),
            campaign,
            platform: None,
            condition: match p.trouble {
                PostbackTrouble::Refused => Condition::PostbacksRefused,
                PostbackTrouble::Unmatched => Condition::PostbacksUnmatched,
            },
            since: p.since,
            waiting: p.count,
            error_code: None,
            rate: None,
        });
    }
    if let Some(silence) = rules.silence {
        let cutoff = now - TimeDelta::from_std(silence).unwrap_or(TimeDelta::MAX);
        for c in &facts.campaigns {
            let Some(first_click) = c.first_click_in_window else {
                continue;
            };
            if !c.enabled || c.last_postback_at.is_some_and(|t| t >= cutoff) {
                continue;
            }
            out.push(Problem {
                campaign: named(c.id),
                tracker: None,
                platform: None,
                condition: Condition::Silent,
                since: c.last_postback_at.unwrap_or(first_click),
                waiting: 0,
                error_code: None,
                rate: None,
            });
        }
    }
    out.sort_by(|a, b| {
        (rank(a.condition), a.subject(), a.platform).cmp(&(
            rank(b.condition),
            b.subject(),
            b.platform,
        ))
    });
    out
}

fn outbox_problems(
    o: &OutboxFacts,
    campaign: &CampaignRef,
    rules: &HealthRules,
    now: DateTime<Utc>,
    out: &mut Vec<Problem>,
) {
    let problem = |condition, since, waiting| Problem {
        campaign: Some(campaign.clone()),
        tracker: None,
        platform: Some(o.platform),
        condition,
        since,
        waiting,
        error_code: None,
        rate: None,
    };
    let mut refused = false;
    if o.parked > 0 {
        let since = o.parked_since.unwrap_or(now);
        out.push(match o.refusal {
            Some(r) => {
                refused = true;
                Problem {
                    error_code: r.error_code,
                    ..problem(
                        refusal_condition(o.platform, r.error_code, r.error_subcode),
                        r.since,
                        o.parked,
                    )
                }
            }
            None => problem(Condition::TokenUnreadable, since, o.parked),
        });
    }
    // A refused token fails every attempt: the refusal says it better than a rate.
    let rate_passed = o.attempted >= rules.min_events.max(1)
        && o.failing as f64 / o.attempted as f64 > rules.failure_rate;
    if rate_passed && !refused {
        out.push(Problem {
            rate: Some(Rate {
                failing: o.failing,
                attempted: o.attempted,
                window: rules.failure_window,
            }),
            ..problem(
                Condition::Failing,
                o.first_failure_at.unwrap_or(now),
                o.failing,
            )
        });
    }
    let stuck_before = now - TimeDelta::from_std(rules.outbox_age).unwrap_or(TimeDelta::MAX);
    if let Some(oldest) = o.oldest_pending.filter(|t| *t < stuck_before) {
        out.push(problem(Condition::OutboxStuck, oldest, o.pending));
    }
}

/// Which setting a platform's token-or-permission refusal points at. Meta names a missing or
/// inaccessible pixel with code 100 and subcode 33; its other such codes (190 for the token,
/// 10 and 200-299 for the token's permissions) and every TikTok one are the token's.
pub fn refusal_condition(
    platform: PlatformKind,
    code: Option<i32>,
    subcode: Option<i32>,
) -> Condition {
    match (platform, code, subcode) {
        (PlatformKind::Meta, Some(100), Some(33)) => Condition::PixelRefused,
        _ => Condition::TokenRefused,
    }
}
