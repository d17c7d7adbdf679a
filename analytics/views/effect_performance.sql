-- Effect (filter) performance, and the videos that use none, for feature adoption and impact. A
-- ranking of what is popular, so it counts only videos a trending list may show
-- (trending_eligible_content: not removed, not taken down, the creator has not opted out).
-- Groups users: an effect used by the videos of fewer than k distinct viewers (users with a visible
-- engagement on them: group_users) is left out, and counted in effect_performance_suppressed
-- (jobs/common/views.py create_view; k = analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW effect_performance AS
WITH video_effects AS (
    SELECT dc.content_key, COALESCE(effect, '(no effect)') AS effect
    FROM trending_eligible_content dc
    LATERAL VIEW OUTER EXPLODE(dc.effects_used) effects AS effect
),
viewers AS (
    SELECT ve.effect, COUNT(DISTINCT fce.user_key) AS group_users
    FROM visible_engagements fce
    JOIN video_effects ve ON fce.content_key = ve.content_key
    GROUP BY ve.effect
)
SELECT ve.effect,
       COUNT(DISTINCT fcp.content_key) AS videos,
       SUM(fcp.total_views) AS qualifying_views,
       SUM(fcp.engagement_score) AS engagement_score,
       ROUND(SUM(fcp.engagement_score) / COUNT(*), 2) AS score_per_video_day,
       AVG(fcp.completion_rate) AS avg_completion_rate,
       COALESCE(FIRST(v.group_users), 0) AS group_users
FROM fact_content_performance fcp
JOIN video_effects ve ON fcp.content_key = ve.content_key
LEFT JOIN viewers v ON v.effect = ve.effect
GROUP BY ve.effect
