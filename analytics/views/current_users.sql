-- Users as they are now, for analysts: deleted accounts and users who opted out of analytics are
-- left out (dim_users keeps them flagged, so the facts' history stays whole).
CREATE OR REPLACE TEMPORARY VIEW current_users AS
SELECT user_key, user_id, registration_date, user_type, creator_tier, region, follower_count, following_count
FROM dim_users
WHERE NOT is_deleted AND analytics_consent
