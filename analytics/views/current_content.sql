-- Videos as they are now: taken-down videos (op = delete) are left out (dim_content keeps them
-- flagged so past performance rows still join), and so are the videos whose creator opted out of
-- analytics (visible_content). Removed videos stay, with their moderation_status.
CREATE OR REPLACE TEMPORARY VIEW current_content AS
SELECT content_key, content_id, creator_user_key, creator_id, content_type, category, duration_seconds,
       music_id, hashtags, effects_used, upload_timestamp, moderation_status
FROM visible_content
WHERE NOT is_deleted
