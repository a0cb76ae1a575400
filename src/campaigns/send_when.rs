//! The campaign's `send_when` rules as the admin API and the dashboard set them: Meta's at the
//! top level (`meta_send_when`, like Meta's other fields), TikTok's in the `tiktok` object.

use super::CampaignError;
use crate::domain::{CampaignFields, ParseError, SendWhen};

/// Sets Meta's rule (`Some(None)`: back to the default). Naming one for a campaign without
/// Meta is refused: it would be silently lost.
pub(super) fn set_meta(
    f: &mut CampaignFields,
    rule: Option<Option<SendWhen>>,
) -> Result<(), CampaignError> {
    let Some(rule) = rule else {
        return Ok(());
    };
    match (&mut f.meta, rule) {
        (Some(meta), rule) => meta.send_when = rule,
        (None, None) => {}
        (None, Some(_)) => {
            return Err(CampaignError::Invalid {
                field: "meta_send_when",
                error: ParseError::new("needs Meta (pixel_id and access_token) on the campaign"),
            })
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::fixtures::campaign;

    #[test]
    fn meta_rule_is_set_cleared_or_refused_without_meta() {
        let mut f = campaign().fields();
        set_meta(&mut f, Some(Some(SendWhen::Always))).unwrap();
        assert_eq!(f.meta.as_ref().unwrap().send_when, Some(SendWhen::Always));
        set_meta(&mut f, None).unwrap();
        assert_eq!(f.meta.as_ref().unwrap().send_when, Some(SendWhen::Always));
        set_meta(&mut f, Some(None)).unwrap();
        assert_eq!(f.meta.as_ref().unwrap().send_when, None);
        f.meta = None;
        set_meta(&mut f, Some(None)).unwrap();
        let err = set_meta(&mut f, Some(Some(SendWhen::PlatformClick))).unwrap_err();
        assert!(
            matches!(
                err,
                CampaignError::Invalid {
                    field: "meta_send_when",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}
