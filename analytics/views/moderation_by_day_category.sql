-- Moderation and safety: per removal day (UTC) and category, the videos moderation removed, the
-- mean hours from upload to removal, and the qualifying views (a view of at least
-- qualifying_view_seconds seconds: the session variable of daily.qualifying_view_seconds) the
-- removed videos received before it. A video counts if it is removed now
-- (dim_content.moderation_status); its removal is the earliest cdc_content change sending
-- moderation_status 'removed' after the last change that sent another status (a change that leaves
-- the status out keeps it: it is no change of status). Videos whose creator opted out, and the
-- views of users who opted out, are left out (visible_content, visible_engagements).
-- Groups users: a day and category whose removed videos had fewer than k distinct viewers before
-- their removal (users with a visible engagement on them: group_users) is left out, and counted in
-- moderation_by_day_category_suppressed (jobs/common/views.py create_view; k = analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW moderation_by_day_category AS
WITH statuses AS (
    SELECT content_key, updated_at, moderation_status
    FROM cdc_content
    WHERE op = 'upsert' AND moderation_status IS NOT NULL
),
last_other AS (
    SELECT content_key, MAX(updated_at) AS updated_at
    FROM statuses
    WHERE moderation_status <> 'removed'
    GROUP BY content_key
),
removals AS (
    SELECT s.content_key, MIN(s.updated_at) AS removed_at
    FROM statuses s
    LEFT JOIN last_other o ON s.content_key = o.content_key
    WHERE s.moderation_status = 'removed' AND (o.updated_at IS NULL OR s.updated_at > o.updated_at)
    GROUP BY s.content_key
),
removed AS (
    SELECT dc.content_key, dc.category, dc.upload_timestamp, r.removed_at,
           -- the UTC date whatever the session's time zone
           DATE_FROM_UNIX_DATE(CAST(FLOOR(UNIX_SECONDS(r.removed_at) / 86400) AS INT)) AS removal_date
    FROM visible_content dc
    JOIN removals r ON dc.content_key = r.content_key
    WHERE dc.moderation_status = 'removed'
),
before_removal AS (
    SELECT rm.removal_date, rm.category, fce.user_key,
           et.counts_as_view AND fce.watch_duration_seconds >= qualifying_view_seconds AS qualifying
    FROM removed rm
    JOIN visible_engagements fce ON fce.content_key = rm.content_key AND fce.engagement_timestamp < rm.removed_at
    JOIN dim_engagement_type et ON fce.engagement_key = et.engagement_key
),
viewers AS (
    SELECT removal_date, category, COUNT_IF(qualifying) AS views, COUNT(DISTINCT user_key) AS group_users
    FROM before_removal
    GROUP BY removal_date, category
)
SELECT rm.removal_date, rm.category,
       COUNT(*) AS removed_videos,
       AVG((UNIX_SECONDS(rm.removed_at) - UNIX_SECONDS(rm.upload_timestamp)) / 3600) AS avg_hours_to_removal,
       COALESCE(FIRST(v.views), 0) AS qualifying_views_before_removal,
       COALESCE(FIRST(v.group_users), 0) AS group_users
FROM removed rm
LEFT JOIN viewers v ON rm.removal_date = v.removal_date AND rm.category <=> v.category
GROUP BY rm.removal_date, rm.category
