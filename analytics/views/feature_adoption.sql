-- Feature adoption: per upload day (UTC date of upload_timestamp), the new videos and the shares of
-- them with at least one effect, with music (a music_id) and with at least one hashtag; and, of all
-- the qualifying views of that day (fact_content_performance.total_views, every visible video
-- whatever its upload day), the shares received by videos with an effect, with music and with a
-- hashtag (the reading of "the share of that day's qualifying views those videos received": the
-- videos that use the feature, all upload days). Those view shares are null when the day has no
-- qualifying views, or viewers of fewer than k distinct users (they would describe them). Videos
-- whose creator opted out are left out (visible_content); removed and taken-down ones stay.
-- Groups users: a day whose videos come from fewer than k distinct creators (group_users) is left
-- out, and counted in feature_adoption_suppressed (jobs/common/views.py create_view; k =
-- analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW feature_adoption AS
WITH videos AS (
    SELECT dc.content_key, dc.creator_user_key,
           -- the UTC date whatever the session's time zone
           DATE_FROM_UNIX_DATE(CAST(FLOOR(UNIX_SECONDS(dc.upload_timestamp) / 86400) AS INT)) AS upload_date,
           COALESCE(SIZE(dc.effects_used), 0) > 0 AS has_effect,
           COALESCE(dc.music_id, '') <> '' AS has_music,
           COALESCE(SIZE(dc.hashtags), 0) > 0 AS has_hashtag
    FROM visible_content dc
),
uploads AS (
    SELECT upload_date,
           COUNT(*) AS new_videos,
           COUNT_IF(has_effect) / COUNT(*) AS share_with_effect,
           COUNT_IF(has_music) / COUNT(*) AS share_with_music,
           COUNT_IF(has_hashtag) / COUNT(*) AS share_with_hashtag,
           COUNT(DISTINCT creator_user_key) AS group_users
    FROM videos
    WHERE upload_date IS NOT NULL
    GROUP BY upload_date
),
day_views AS (
    SELECT fcp.event_date,
           SUM(fcp.total_views) AS qualifying_views,
           SUM(IF(v.has_effect, fcp.total_views, 0)) AS effect_views,
           SUM(IF(v.has_music, fcp.total_views, 0)) AS music_views,
           SUM(IF(v.has_hashtag, fcp.total_views, 0)) AS hashtag_views
    FROM fact_content_performance fcp
    JOIN videos v ON fcp.content_key = v.content_key
    GROUP BY fcp.event_date
),
day_viewers AS (
    SELECT fce.event_date, COUNT(DISTINCT fce.user_key) AS viewers
    FROM visible_engagements fce
    GROUP BY fce.event_date
)
SELECT u.upload_date, u.new_videos, u.share_with_effect, u.share_with_music, u.share_with_hashtag,
       COALESCE(dv.qualifying_views, 0) AS qualifying_views,
       IF(vw.viewers >= k_anonymity, dv.effect_views / NULLIF(dv.qualifying_views, 0), NULL) AS views_share_with_effect,
       IF(vw.viewers >= k_anonymity, dv.music_views / NULLIF(dv.qualifying_views, 0), NULL) AS views_share_with_music,
       IF(vw.viewers >= k_anonymity, dv.hashtag_views / NULLIF(dv.qualifying_views, 0), NULL)
           AS views_share_with_hashtag,
       u.group_users
FROM uploads u
LEFT JOIN day_views dv ON u.upload_date = dv.event_date
LEFT JOIN day_viewers vw ON u.upload_date = vw.event_date
