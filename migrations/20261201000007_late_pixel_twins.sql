-- When the landing tag fired the pixel for each event on a click (event name -> unix ms), so a
-- server event sent more than 48 hours later (past Meta's dedup window) is known as late.
ALTER TABLE clicks ADD COLUMN pixel_fired_at JSONB NOT NULL DEFAULT '{}';

-- What to do with such an event: send it anyway, or skip it (recorded as failed, class
-- 'late_pixel_twin').
ALTER TABLE campaigns ADD COLUMN late_pixel_twin TEXT NOT NULL DEFAULT 'send'
    CHECK (late_pixel_twin IN ('send', 'skip'));
