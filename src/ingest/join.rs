//! Which registered click a conversion joins. Click ids are unique per campaign, not globally:
//! a postback naming its campaign (`campaign=`) joins that campaign's click only; one naming
//! none joins the click id's only click, or, when several campaigns hold it, the most recently
//! registered, and the conversion is marked ambiguous.

use crate::domain::Click;

/// The click a conversion joins.
#[derive(Debug, Clone, Copy)]
pub struct Joined<'a> {
    pub click: &'a Click,
    /// Several campaigns held the click id and the postback named none.
    pub ambiguous: bool,
}

/// `clicks`: every campaign's click with the conversion's click id; `hint`: the campaign key
/// the postback named.
pub fn join<'a>(hint: Option<&str>, clicks: &'a [Click]) -> Option<Joined<'a>> {
    if let Some(key) = hint {
        let click = clicks.iter().find(|c| c.campaign_key == key)?;
        return Some(Joined {
            click,
            ambiguous: false,
        });
    }
    let click = clicks.iter().max_by_key(|c| (c.first_seen_at, c.id))?;
    Some(Joined {
        click,
        ambiguous: clicks.len() > 1,
    })
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::domain::fixtures::bare_click;

    fn on(id: i64, key: &str, registered_s: i64) -> Click {
        Click {
            id,
            campaign_key: key.to_owned(),
            first_seen_at: Utc.timestamp_opt(1_800_000_000 + registered_s, 0).unwrap(),
            ..bare_click()
        }
    }

    #[test]
    fn a_conversion_joins_by_the_campaign_it_names_else_the_latest_click() {
        let a = on(1, "a", 0);
        let b = on(2, "b", 10);
        let b_same_time = on(3, "c", 10);
        // (hint, clicks, the joined click's row and whether ambiguous)
        type Case<'a> = (Option<&'a str>, Vec<Click>, Option<(i64, bool)>);
        let cases: Vec<Case> = vec![
            (None, vec![], None),
            (Some("a"), vec![], None),
            (None, vec![a.clone()], Some((1, false))),
            (Some("a"), vec![a.clone()], Some((1, false))),
            // Named campaign without a click of its own: not another campaign's click.
            (Some("b"), vec![a.clone()], None),
            (Some("a"), vec![a.clone(), b.clone()], Some((1, false))),
            (Some("b"), vec![a.clone(), b.clone()], Some((2, false))),
            (None, vec![a.clone(), b.clone()], Some((2, true))),
            (None, vec![b.clone(), a.clone()], Some((2, true))),
            // Registered in the same instant: the later row.
            (None, vec![b_same_time.clone(), b.clone()], Some((3, true))),
        ];
        for (hint, clicks, want) in cases {
            let got = join(hint, &clicks).map(|j| (j.click.id, j.ambiguous));
            assert_eq!(
                got,
                want,
                "{hint:?} on {:?}",
                clicks.iter().map(|c| c.id).collect::<Vec<_>>()
            );
        }
    }
}
