-- Personalization: per day (UTC), the click-through rate of the for_you feed against the following
-- feed, for new users (registered fewer than 7 days before the impression's day:
-- event_date - registration_date < 7) and established ones (the rest, users the lake has no
-- registration_date for included). The impressions of users who opted out and of videos whose
-- creator did are left out (visible_discovery_events).
-- Groups users: a day, feed and user group of fewer than k distinct users (group_users) is left out,
-- and counted in personalization_ctr_suppressed (jobs/common/views.py create_view; k =
-- analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW personalization_ctr AS
WITH constants AS (
    SELECT 7 AS new_user_days  -- metrics.md: new users registered < 7 days before
),
impressions AS (
    SELECT fde.event_date, fde.discovery_source, fde.user_key, fde.clicked_through,
           IF(DATEDIFF(fde.event_date, du.registration_date) < c.new_user_days, 'new', 'established')
               AS user_group
    FROM visible_discovery_events fde
    CROSS JOIN constants c
    LEFT JOIN dim_users du ON fde.user_key = du.user_key
    WHERE fde.discovery_source IN ('for_you', 'following')
)
SELECT event_date, discovery_source, user_group,
       COUNT(*) AS impressions,
       COUNT_IF(clicked_through) AS clicks,
       COUNT_IF(clicked_through) / COUNT(*) AS ctr,
       COUNT(DISTINCT user_key) AS group_users
FROM impressions
GROUP BY event_date, discovery_source, user_group
