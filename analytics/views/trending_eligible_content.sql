-- Videos a trending list may show: visible ones (the creator has not opted out) that moderation has
-- not removed and that were not taken down (metrics.md): the statuses of the session variable
-- hidden_from_trending (daily.hidden_from_trending, which daily's trending_content_ids reads too).
CREATE OR REPLACE TEMPORARY VIEW trending_eligible_content AS
SELECT *
FROM visible_content
WHERE NOT is_deleted AND NOT COALESCE(ARRAY_CONTAINS(hidden_from_trending, moderation_status), false)
