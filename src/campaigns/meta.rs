//! A campaign update's Meta part: a new pixel or token, and whether that changed Meta's
//! credentials (the events parked on a token error are then re-queued).

use super::{CampaignError, CampaignService, Changes};
use crate::domain::{Campaign, CampaignFields, MetaSettings, PlatformKind};

impl CampaignService<'_> {
    /// Applies a new Meta pixel or token; both are needed to add Meta to a TikTok-only
    /// campaign. Returns whether Meta's credentials changed (parked events are re-queued).
    pub(super) fn change_meta(
        &self,
        current: &Campaign,
        changes: &mut Changes,
        f: &mut CampaignFields,
    ) -> Result<bool, CampaignError> {
        let pixel = changes.pixel_id.take();
        let token = changes.access_token.take();
        let Some(meta) = &current.meta else {
            return match (pixel, token) {
                (None, None) => Ok(false),
                (None, Some(_)) => Err(CampaignError::Missing("pixel_id")),
                (Some(_), None) => Err(CampaignError::Missing("access_token")),
                (Some(pixel_id), Some(token)) => {
                    let access_token = self.seal(&current.key, PlatformKind::Meta, &token);
                    f.meta = Some(MetaSettings {
                        pixel_id,
                        access_token,
                        send_when: None,
                    });
                    Ok(true)
                }
            };
        };
        let mut next = meta.clone();
        let mut changed = false;
        if let Some(new) = token {
            // An unreadable stored token counts as changed: the new one replaces it.
            let stored = meta.access_token.expose();
            let old = self
                .cipher
                .open_token(current.key.as_str(), PlatformKind::Meta, stored)
                .ok();
            changed = old.as_deref() != Some(new.expose());
            next.access_token = self.seal(&current.key, PlatformKind::Meta, &new);
        }
        if let Some(pixel_id) = pixel {
            changed |= pixel_id != meta.pixel_id;
            next.pixel_id = pixel_id;
        }
        f.meta = Some(next);
        Ok(changed)
    }
}
