-- Diversity: per user and ISO week (week_start: its Monday; iso_week: e.g. 2026-W10), the user's
-- qualifying views (a view of at least qualifying_view_seconds seconds, the session variable of
-- daily.qualifying_view_seconds), how many categories they span, the Shannon entropy (bits) of
-- their categories, and the top category with its share (ties: the first by name). Views of videos
-- the lake has no dim_content row for, and of videos without a category, are left out (no category
-- to count). Users who opted out, and videos whose creator did, are left out (visible_engagements,
-- visible_content).
-- A row is one user, not a group: nothing is suppressed (echo_chamber_by_week groups them).
CREATE OR REPLACE TEMPORARY VIEW diversity_by_user_week AS
WITH views AS (
    SELECT fce.user_key, DATE_SUB(fce.event_date, WEEKDAY(fce.event_date)) AS week_start, dc.category
    FROM visible_engagements fce
    JOIN dim_engagement_type et ON fce.engagement_key = et.engagement_key AND et.counts_as_view
    JOIN visible_content dc ON fce.content_key = dc.content_key
    WHERE fce.watch_duration_seconds >= qualifying_view_seconds AND dc.category IS NOT NULL
),
per_category AS (
    SELECT user_key, week_start, category, COUNT(*) AS views
    FROM views
    GROUP BY user_key, week_start, category
),
shares AS (
    SELECT pc.*, pc.views / SUM(pc.views) OVER (PARTITION BY pc.user_key, pc.week_start) AS share
    FROM per_category pc
)
SELECT user_key, week_start,
       CONCAT(EXTRACT(YEAROFWEEK FROM week_start), '-W', LPAD(CAST(WEEKOFYEAR(week_start) AS STRING), 2, '0'))
           AS iso_week,
       SUM(views) AS qualifying_views,
       COUNT(*) AS categories,
       -SUM(share * LOG2(share)) AS entropy_bits,
       MIN_BY(category, STRUCT(-views, category)) AS top_category,
       MAX(share) AS top_category_share
FROM shares
GROUP BY user_key, week_start
