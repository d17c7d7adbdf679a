-- Completion-rate trends by content category: per day and category, how much of a video viewers
-- watch (the daily completion rates weighted by each video's qualifying views). Videos whose creator
-- opted out are left out (visible_content); removed and taken-down videos stay (history).
CREATE OR REPLACE TEMPORARY VIEW completion_rate_by_category AS
SELECT fcp.event_date,
       dc.category,
       COUNT(*) AS videos,
       SUM(fcp.total_views) AS qualifying_views,
       SUM(fcp.completion_rate * fcp.total_views) / NULLIF(SUM(CASE WHEN fcp.completion_rate IS NOT NULL
                                                               THEN fcp.total_views END), 0) AS completion_rate,
       SUM(fcp.avg_watch_duration * fcp.total_views) / NULLIF(SUM(fcp.total_views), 0) AS avg_watch_seconds
FROM fact_content_performance fcp
JOIN visible_content dc ON fcp.content_key = dc.content_key
GROUP BY fcp.event_date, dc.category
