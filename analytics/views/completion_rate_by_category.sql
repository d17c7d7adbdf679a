-- Completion-rate trends by content category: per day and category, how much of a video viewers
-- watch (the daily completion rates weighted by each video's qualifying views). Videos whose creator
-- opted out are left out (visible_content); removed and taken-down videos stay (history).
-- Groups users: a day and category with fewer than k distinct viewers (users with a visible
-- engagement on its videos that day: group_users) is left out, and counted in
-- completion_rate_by_category_suppressed (jobs/common/views.py create_view; k = analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW completion_rate_by_category AS
WITH viewers AS (
    SELECT fce.event_date, dc.category, COUNT(DISTINCT fce.user_key) AS group_users
    FROM visible_engagements fce
    JOIN visible_content dc ON fce.content_key = dc.content_key
    GROUP BY fce.event_date, dc.category
)
SELECT fcp.event_date,
       dc.category,
       COUNT(*) AS videos,
       SUM(fcp.total_views) AS qualifying_views,
       SUM(fcp.completion_rate * fcp.total_views) / NULLIF(SUM(CASE WHEN fcp.completion_rate IS NOT NULL
                                                               THEN fcp.total_views END), 0) AS completion_rate,
       SUM(fcp.avg_watch_duration * fcp.total_views) / NULLIF(SUM(fcp.total_views), 0) AS avg_watch_seconds,
       COALESCE(FIRST(v.group_users), 0) AS group_users
FROM fact_content_performance fcp
JOIN visible_content dc ON fcp.content_key = dc.content_key
LEFT JOIN viewers v ON v.event_date = fcp.event_date AND v.category <=> dc.category
GROUP BY fcp.event_date, dc.category
