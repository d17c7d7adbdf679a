-- Effect (filter) performance, and the videos that use none, for feature adoption and impact. A
-- ranking of what is popular, so it counts only videos a trending list may show
-- (trending_eligible_content: not removed, not taken down, the creator has not opted out).
CREATE OR REPLACE TEMPORARY VIEW effect_performance AS
SELECT COALESCE(effect, '(no effect)') AS effect,
       COUNT(DISTINCT fcp.content_key) AS videos,
       SUM(fcp.total_views) AS qualifying_views,
       SUM(fcp.engagement_score) AS engagement_score,
       ROUND(SUM(fcp.engagement_score) / COUNT(*), 2) AS score_per_video_day,
       AVG(fcp.completion_rate) AS avg_completion_rate
FROM fact_content_performance fcp
JOIN trending_eligible_content dc ON fcp.content_key = dc.content_key
LATERAL VIEW OUTER EXPLODE(dc.effects_used) effects AS effect
GROUP BY COALESCE(effect, '(no effect)')
