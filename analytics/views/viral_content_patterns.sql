-- Viral content identification and pattern analysis: per category and content_type, the videos
-- with daily performance rows, how many reached Trending (viral_score >= 500 on some day) and Viral
-- (>= 1000, 10x their creator's mean) at least once, those shares of the videos, and the mean of
-- each video's peak viral_score (metrics.md's thresholds). A ranking of what goes viral, so it
-- counts only videos a trending list may show (trending_eligible_content: not removed, not taken
-- down, the creator has not opted out).
-- Groups users: a group whose videos had fewer than k distinct viewers (users with a visible
-- engagement on them: group_users) is left out, and counted in viral_content_patterns_suppressed
-- (jobs/common/views.py create_view; k = analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW viral_content_patterns AS
WITH peaks AS (
    SELECT tec.content_key, tec.category, tec.content_type, MAX(fcp.viral_score) AS peak_viral_score
    FROM trending_eligible_content tec
    JOIN fact_content_performance fcp ON fcp.content_key = tec.content_key
    GROUP BY tec.content_key, tec.category, tec.content_type
),
viewers AS (
    SELECT p.category, p.content_type, COUNT(DISTINCT fce.user_key) AS group_users
    FROM visible_engagements fce
    JOIN peaks p ON fce.content_key = p.content_key
    GROUP BY p.category, p.content_type
)
SELECT p.category, p.content_type,
       COUNT(*) AS videos,
       COUNT_IF(p.peak_viral_score >= 500) AS trending_videos,
       COUNT_IF(p.peak_viral_score >= 1000) AS viral_videos,
       COUNT_IF(p.peak_viral_score >= 500) / COUNT(*) AS trending_share,
       COUNT_IF(p.peak_viral_score >= 1000) / COUNT(*) AS viral_share,
       AVG(p.peak_viral_score) AS avg_peak_viral_score,
       COALESCE(FIRST(v.group_users), 0) AS group_users
FROM peaks p
LEFT JOIN viewers v ON p.category <=> v.category AND p.content_type <=> v.content_type
GROUP BY p.category, p.content_type
