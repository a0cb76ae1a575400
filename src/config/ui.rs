//! How the dashboard shows times: the display zone.

use chrono_tz::Tz;

#[derive(Debug, Clone, clap::Args)]
pub struct UiDisplay {
    /// The time zone the dashboard shows times in and counts calendar days in (the date
    /// presets, the day filters, the daily totals and the chart): an IANA name such as
    /// Europe/Berlin or America/New_York.
    #[arg(
        long,
        env = "UI_TIME_ZONE",
        value_name = "UI_TIME_ZONE",
        default_value = "UTC",
        value_parser = parse_time_zone,
        global = true
    )]
    pub ui_time_zone: Tz,
}

fn parse_time_zone(value: &str) -> Result<Tz, String> {
    value.trim().parse::<Tz>().map_err(|_| {
        format!(
            "{value:?} is not an IANA time zone name (such as UTC, Europe/Berlin or \
             America/New_York; names are case-sensitive)"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zone_names_are_checked() {
        assert_eq!(parse_time_zone("Asia/Tokyo"), Ok(Tz::Asia__Tokyo));
        assert_eq!(parse_time_zone(" UTC "), Ok(Tz::UTC));
        for bad in ["", "Mars/Olympus", "CEST+1", "europe/berlin"] {
            let err = parse_time_zone(bad).unwrap_err();
            assert!(err.contains("not an IANA time zone name"), "{bad}: {err}");
        }
    }
}
