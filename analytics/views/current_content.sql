-- Videos as they are now: taken-down videos (op = delete) are left out; dim_content keeps them
-- flagged so past performance rows still join.
CREATE OR REPLACE TEMPORARY VIEW current_content AS
SELECT content_key, content_id, creator_user_key, creator_id, content_type, category, duration_seconds,
       music_id, hashtags, effects_used, upload_timestamp, moderation_status
FROM dim_content
WHERE NOT is_deleted
