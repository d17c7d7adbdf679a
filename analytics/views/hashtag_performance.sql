-- Hashtag performance: every video-day counted under each of its hashtags. A ranking of what is
-- popular, so it counts only videos a trending list may show (trending_eligible_content: not
-- removed, not taken down, the creator has not opted out).
CREATE OR REPLACE TEMPORARY VIEW hashtag_performance AS
SELECT hashtag,
       COUNT(DISTINCT fcp.content_key) AS videos,
       SUM(fcp.total_views) AS qualifying_views,
       SUM(fcp.engagement_score) AS engagement_score,
       ROUND(SUM(fcp.engagement_score) / COUNT(*), 2) AS score_per_video_day,
       AVG(fcp.completion_rate) AS avg_completion_rate,
       COUNT_IF(fcp.viral_score >= 500) AS trending_video_days
FROM fact_content_performance fcp
JOIN trending_eligible_content dc ON fcp.content_key = dc.content_key
LATERAL VIEW EXPLODE(dc.hashtags) tags AS hashtag
GROUP BY hashtag
