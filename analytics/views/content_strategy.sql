-- Content strategy: by content_type, duration bucket (<15 s, 15-60 s, >60 s; duration_from, the
-- bucket's first second, orders them) and upload hour (UTC, 0..23), the videos, their mean
-- viral_score over their video-days (fact_content_performance, days with a score) and their
-- completion rate (the daily completion rates weighted by each day's qualifying views, as
-- completion_rate_by_category). Videos without a duration or upload time are left out, and so are
-- videos whose creator opted out (visible_content); removed and taken-down videos stay (history).
-- Groups users: a group whose videos had fewer than k distinct viewers (users with a visible
-- engagement on them: group_users) is left out, and counted in content_strategy_suppressed
-- (jobs/common/views.py create_view; k = analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW content_strategy AS
WITH videos AS (
    SELECT dc.content_key, dc.content_type,
           CASE WHEN dc.duration_seconds < 15 THEN 0 WHEN dc.duration_seconds <= 60 THEN 15 ELSE 61 END
               AS duration_from,
           -- the UTC hour whatever the session's time zone
           CAST(PMOD(DIV(UNIX_SECONDS(dc.upload_timestamp), 3600), 24) AS INT) AS upload_hour
    FROM visible_content dc
    WHERE dc.duration_seconds IS NOT NULL AND dc.upload_timestamp IS NOT NULL
),
viewers AS (
    SELECT v.content_type, v.duration_from, v.upload_hour, COUNT(DISTINCT fce.user_key) AS group_users
    FROM visible_engagements fce
    JOIN videos v ON fce.content_key = v.content_key
    GROUP BY v.content_type, v.duration_from, v.upload_hour
),
performance AS (
    SELECT v.content_type, v.duration_from, v.upload_hour,
           COUNT(DISTINCT v.content_key) AS videos,
           AVG(fcp.viral_score) AS avg_viral_score,
           SUM(fcp.completion_rate * fcp.total_views)
               / NULLIF(SUM(IF(fcp.completion_rate IS NOT NULL, fcp.total_views, NULL)), 0) AS completion_rate
    FROM videos v
    LEFT JOIN fact_content_performance fcp ON fcp.content_key = v.content_key
    GROUP BY v.content_type, v.duration_from, v.upload_hour
)
SELECT p.content_type,
       CASE p.duration_from WHEN 0 THEN '<15s' WHEN 15 THEN '15-60s' ELSE '>60s' END AS duration_bucket,
       p.duration_from, p.upload_hour, p.videos, p.avg_viral_score, p.completion_rate,
       COALESCE(vw.group_users, 0) AS group_users
FROM performance p
LEFT JOIN viewers vw
  ON p.content_type <=> vw.content_type AND p.duration_from = vw.duration_from AND p.upload_hour = vw.upload_hour
