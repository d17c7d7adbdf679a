-- Hashtag performance: every video-day counted under each of its hashtags. A ranking of what is
-- popular, so it counts only videos a trending list may show (trending_eligible_content: not
-- removed, not taken down, the creator has not opted out).
-- Groups users: a hashtag on the videos of fewer than k distinct viewers (users with a visible
-- engagement on them: group_users) is left out, and counted in hashtag_performance_suppressed
-- (jobs/common/views.py create_view; k = analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW hashtag_performance AS
WITH video_tags AS (
    SELECT dc.content_key, hashtag
    FROM trending_eligible_content dc
    LATERAL VIEW EXPLODE(dc.hashtags) tags AS hashtag
),
viewers AS (
    SELECT vt.hashtag, COUNT(DISTINCT fce.user_key) AS group_users
    FROM visible_engagements fce
    JOIN video_tags vt ON fce.content_key = vt.content_key
    GROUP BY vt.hashtag
)
SELECT vt.hashtag,
       COUNT(DISTINCT fcp.content_key) AS videos,
       SUM(fcp.total_views) AS qualifying_views,
       SUM(fcp.engagement_score) AS engagement_score,
       ROUND(SUM(fcp.engagement_score) / COUNT(*), 2) AS score_per_video_day,
       AVG(fcp.completion_rate) AS avg_completion_rate,
       COUNT_IF(fcp.viral_score >= 500) AS trending_video_days,
       COALESCE(FIRST(v.group_users), 0) AS group_users
FROM fact_content_performance fcp
JOIN video_tags vt ON fcp.content_key = vt.content_key
LEFT JOIN viewers v ON v.hashtag = vt.hashtag
GROUP BY vt.hashtag
