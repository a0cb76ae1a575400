//! Event ids make the pixel's browser event and our server event one conversion for Meta.

use crate::domain::{EventIdTemplate, EventIds};

/// The id of the first conversion of `event_name` on a click: the eventID the landing page gave
/// the pixel for that event, else the campaign's template.
pub fn base_event_id(
    registered: &EventIds,
    template: &EventIdTemplate,
    event_name: &str,
    click_id: &str,
    txid: &str,
    campaign: &str,
) -> String {
    match registered.get(event_name) {
        Some(id) => id.to_owned(),
        None => template.render(event_name, click_id, txid, campaign),
    }
}

/// A later conversion of the same event on the same click (a rebill) must not reuse the first
/// id, or Meta would drop it as a duplicate; it gets a stable suffix from what makes it distinct:
/// its transaction id, else its status word.
pub fn repeat_event_id(base: &str, txid: &str, status: &str) -> String {
    let suffix = if txid.is_empty() { status } else { txid };
    format!("{base}-{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_id_wins_over_template() {
        let ids = EventIds::parse([("Lead".into(), "pix-1".into())].into()).unwrap();
        let t = EventIdTemplate::default();
        assert_eq!(base_event_id(&ids, &t, "Lead", "c1", "", "k"), "pix-1");
        assert_eq!(
            base_event_id(&ids, &t, "Purchase", "c1", "", "k"),
            "Purchase-c1"
        );
    }

    #[test]
    fn repeats_get_distinct_stable_ids() {
        assert_eq!(
            repeat_event_id("Purchase-c1", "tx2", "rebill"),
            "Purchase-c1-tx2"
        );
        assert_eq!(
            repeat_event_id("Purchase-c1", "", "rebill"),
            "Purchase-c1-rebill"
        );
    }
}
