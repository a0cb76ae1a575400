//! The fields a click or a conversion had dropped, as the admin API lists them: shown where the
//! user looks at the record, so a tracker's or a page's bug is seen without reading logs.

use maud::{html, Markup};

use crate::domain::Dropped;

/// A card listing `dropped`; nothing when the list is empty.
pub(super) fn dropped_card(dropped: &[Dropped]) -> Markup {
    html! {
        @if !dropped.is_empty() {
            section.card #dropped {
                h2 { "Fields dropped" }
                p.muted {
                    "These values arrived but could not be used; the rest was recorded. "
                    "Fix them where they are made (the tracker's URL, the page's form)."
                }
                table {
                    thead { tr { th { "Field" } th { "Why" } } }
                    tbody {
                        @for d in dropped {
                            tr { td { code { (d.field) } } td { (d.reason) } }
                        }
                    }
                }
            }
        }
    }
}
