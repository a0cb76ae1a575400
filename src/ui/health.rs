//! The red banners of the health problems (`crate::health`), the same on the overview, the
//! campaigns list and a campaign's page: what is wrong, since when, how much waits, the fix.

use maud::{html, Markup};

use crate::health::{Condition, Problem};

/// One banner per problem; nothing when all is well.
pub fn banners(problems: &[Problem]) -> Markup {
    html! {
        @for p in problems {
            @let fix = p.fix();
            div.banner.bad role="alert" data-condition=(p.condition.as_str()) {
                p {
                    strong { (p.sentence()) } ": " a href=(fix.link) { (fix.text) }
                }
                p.hint { "since " (p.since.format("%Y-%m-%d %H:%M UTC")) " · " (waiting(p)) }
            }
        }
    }
}

/// "4 events wait", "5 postbacks", "no postback".
fn waiting(p: &Problem) -> String {
    let n = p.waiting;
    let plural = |one: &str, many: &str| {
        if n == 1 {
            one.to_owned()
        } else {
            many.to_owned()
        }
    };
    match p.condition {
        Condition::PostbacksRefused | Condition::PostbacksUnmatched => {
            format!("{n} {}", plural("postback", "postbacks"))
        }
        Condition::Silent => "no postback".to_owned(),
        _ => format!("{n} {} waiting", plural("event", "events")),
    }
}
