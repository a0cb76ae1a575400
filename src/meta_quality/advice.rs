//! Advice joined from both sides: Meta's figures for an event beside what we sent for it. Each
//! rule is a pure function of the figures and says which figures fired it.

use serde::Serialize;

/// One event's figures: Meta's (percentages 0-100) and ours (shares 0-1 of the sent events,
/// from the match-quality report). `None`: not known.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Figures {
    pub meta_fbc_percent: Option<f64>,
    pub meta_em_percent: Option<f64>,
    pub browser_dedupe_percent: Option<f64>,
    pub event_coverage_percent: Option<f64>,
    pub acr_percent: Option<f64>,
    /// Share of our sent events carrying `fbc`.
    pub our_fbc_share: Option<f64>,
    /// Share of our sent events carrying `em`.
    pub our_em_share: Option<f64>,
}

/// A rule that fired: its name, what to do, and the figures it read.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MetaAdvice)]
pub struct Advice {
    /// `fbclid_dropped`, `pixel_without_event_id`, `pixel_already_sees_them` or `email_missing`.
    pub rule: &'static str,
    pub advice: &'static str,
    pub because: String,
}

/// Below this share of events a key counts as mostly missing.
const LOW_PERCENT: f64 = 50.0;

/// Meta sees little `fbc` and our clicks mostly arrive without one: the click id is lost
/// before the landing page (the ad URL, or a redirect that drops `fbclid`).
pub fn fbclid_dropped(f: &Figures) -> Option<Advice> {
    let (meta, ours) = (f.meta_fbc_percent?, f.our_fbc_share?);
    (meta < LOW_PERCENT && ours * 100.0 < LOW_PERCENT).then(|| Advice {
        rule: "fbclid_dropped",
        advice: "Most clicks reach the landing page without fbclid: check the ad's URL and any \
                 redirect before the landing page (a tracker or shortener dropping the query).",
        because: format!(
            "Meta's fbc coverage {meta:.0}%, our events with fbc {:.0}%",
            ours * 100.0
        ),
    })
}

/// Browser events mostly lack the dedup key: the pixel is not given the tag's eventID.
pub fn pixel_without_event_id(f: &Figures) -> Option<Advice> {
    let browser = f.browser_dedupe_percent?;
    (browser < LOW_PERCENT).then(|| Advice {
        rule: "pixel_without_event_id",
        advice: "The pixel's events mostly carry no event_id: pass the tag's eventID to \
                 fbq('track', ..., {eventID}) so Meta can deduplicate them with ours.",
        because: format!("browser events with event_id {browser:.0}%"),
    })
}

/// Additional conversions near zero while coverage is high: the pixel already sees these
/// conversions, so the server adds little (not a fault).
pub fn pixel_already_sees_them(f: &Figures) -> Option<Advice> {
    let (acr, coverage) = (f.acr_percent?, f.event_coverage_percent?);
    (acr < 1.0 && coverage >= 75.0).then(|| Advice {
        rule: "pixel_already_sees_them",
        advice: "The pixel already sees almost every one of these conversions: the server \
                 events add little here, which is expected where the pixel runs reliably.",
        because: format!("ACR {acr:.1}%, event coverage {coverage:.0}%"),
    })
}

/// Few events carry an email: the form's address is not passed to the tag.
pub fn email_missing(f: &Figures) -> Option<Advice> {
    let meta = f.meta_em_percent?;
    (meta < LOW_PERCENT).then(|| Advice {
        rule: "email_missing",
        advice: "Few events carry an email: call identify() with the form's email on submit \
                 (or send em in the postback).",
        because: match f.our_em_share {
            Some(ours) => format!(
                "Meta's em coverage {meta:.0}%, our events with em {:.0}%",
                ours * 100.0
            ),
            None => format!("Meta's em coverage {meta:.0}%"),
        },
    })
}

/// Every rule that fires for `f`, in a fixed order.
pub fn advise(f: &Figures) -> Vec<Advice> {
    [
        fbclid_dropped,
        pixel_without_event_id,
        pixel_already_sees_them,
        email_missing,
    ]
    .iter()
    .filter_map(|rule| rule(f))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rule = fn(&Figures) -> Option<Advice>;

    fn fired(rule: Rule, f: Figures) -> bool {
        rule(&f).is_some()
    }

    #[test]
    fn fbclid_dropped_needs_both_sides_low() {
        let f = |meta, ours| Figures {
            meta_fbc_percent: meta,
            our_fbc_share: ours,
            ..Figures::default()
        };
        let cases = [
            (f(Some(20.0), Some(0.1)), true),
            (f(Some(20.0), Some(0.9)), false),
            (f(Some(80.0), Some(0.1)), false),
            (f(None, Some(0.1)), false),
            (f(Some(20.0), None), false),
        ];
        for (figures, want) in cases {
            assert_eq!(fired(fbclid_dropped, figures), want, "{figures:?}");
        }
        let advice = fbclid_dropped(&f(Some(20.0), Some(0.1))).unwrap();
        assert_eq!(
            advice.because,
            "Meta's fbc coverage 20%, our events with fbc 10%"
        );
    }

    #[test]
    fn the_other_rules_fire_on_their_figures_only() {
        let cases: [(Rule, Figures, bool); 8] = [
            (
                pixel_without_event_id,
                Figures {
                    browser_dedupe_percent: Some(10.0),
                    ..Default::default()
                },
                true,
            ),
            (
                pixel_without_event_id,
                Figures {
                    browser_dedupe_percent: Some(90.0),
                    ..Default::default()
                },
                false,
            ),
            (
                pixel_already_sees_them,
                Figures {
                    acr_percent: Some(0.2),
                    event_coverage_percent: Some(90.0),
                    ..Default::default()
                },
                true,
            ),
            (
                pixel_already_sees_them,
                Figures {
                    acr_percent: Some(0.2),
                    event_coverage_percent: Some(30.0),
                    ..Default::default()
                },
                false,
            ),
            (
                pixel_already_sees_them,
                Figures {
                    acr_percent: Some(20.0),
                    event_coverage_percent: Some(90.0),
                    ..Default::default()
                },
                false,
            ),
            (
                email_missing,
                Figures {
                    meta_em_percent: Some(12.0),
                    ..Default::default()
                },
                true,
            ),
            (
                email_missing,
                Figures {
                    meta_em_percent: Some(80.0),
                    ..Default::default()
                },
                false,
            ),
            (email_missing, Figures::default(), false),
        ];
        for (rule, figures, want) in cases {
            assert_eq!(fired(rule, figures), want, "{figures:?}");
        }
    }

    #[test]
    fn advise_lists_every_rule_that_fired() {
        let f = Figures {
            meta_fbc_percent: Some(10.0),
            our_fbc_share: Some(0.05),
            browser_dedupe_percent: Some(95.0),
            meta_em_percent: Some(5.0),
            our_em_share: Some(0.0),
            ..Figures::default()
        };
        let rules: Vec<&str> = advise(&f).iter().map(|a| a.rule).collect();
        assert_eq!(rules, vec!["fbclid_dropped", "email_missing"]);
        assert!(advise(&Figures::default()).is_empty());
    }
}
