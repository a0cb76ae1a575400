/// Maps the words networks use onto the four statuses of the default event map. Words it does
/// not know are kept (lowercased), so a campaign's `event_map` can still name them.
pub fn normalise_status(raw: &str) -> String {
    let lower = raw.trim().to_lowercase();
    let mapped = match lower.as_str() {
        "lead" | "new" | "hold" | "pending" | "signup" | "sign_up" | "registration" | "reg" => {
            "lead"
        }
        "sale" | "approve" | "approved" | "confirm" | "confirmed" | "accept" | "accepted"
        | "paid" | "purchase" | "conversion" | "complete" | "completed" | "deposit" | "ftd"
        | "first_deposit" => "sale",
        "rejected" | "reject" | "decline" | "declined" | "deny" | "denied" | "trash" | "fraud"
        | "chargeback" | "charge" | "refund" | "refunded" | "cancel" | "cancelled" | "canceled"
        | "invalid" => "rejected",
        "rebill" | "recurring" | "renewal" => "rebill",
        _ => return lower,
    };
    mapped.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_words_map_to_statuses() {
        assert_eq!(normalise_status("Approved"), "sale");
        assert_eq!(normalise_status("approve"), "sale");
        assert_eq!(normalise_status("confirm"), "sale");
        assert_eq!(normalise_status("new"), "lead");
        assert_eq!(normalise_status("HOLD"), "lead");
        assert_eq!(normalise_status("declined"), "rejected");
        assert_eq!(normalise_status("chargeback"), "rejected");
        assert_eq!(normalise_status("trash"), "rejected");
        assert_eq!(normalise_status("rebill"), "rebill");
        // Orbitra (Keitaro-compatible) reports a first deposit as `deposit`.
        assert_eq!(normalise_status("deposit"), "sale");
        assert_eq!(normalise_status(" FTD "), "sale");
        assert_eq!(normalise_status("first_deposit"), "sale");
        assert_eq!(normalise_status("deposit_2"), "deposit_2");
    }
}
