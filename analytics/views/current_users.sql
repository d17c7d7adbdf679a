-- Users as they are now, for analysts: deleted accounts and users who opted out of analytics
-- (opted_out_users) are left out (dim_users keeps them flagged, so the facts' history stays whole).
CREATE OR REPLACE TEMPORARY VIEW current_users AS
SELECT du.user_key, du.user_id, du.registration_date, du.user_type, du.creator_tier, du.region,
       du.follower_count, du.following_count
FROM dim_users du
LEFT ANTI JOIN opted_out_users opted_out ON du.user_key = opted_out.user_key
WHERE NOT du.is_deleted
