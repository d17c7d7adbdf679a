-- Videos a trending list may show: visible ones (the creator has not opted out) that moderation has
-- not removed and that were not taken down (metrics.md; daily's trending_content_ids applies the
-- same rule, with the statuses of its daily.hidden_from_trending setting).
CREATE OR REPLACE TEMPORARY VIEW trending_eligible_content AS
SELECT *
FROM visible_content
WHERE NOT is_deleted AND NOT (moderation_status <=> 'removed')
