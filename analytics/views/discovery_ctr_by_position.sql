-- Feed position and discovery source: impressions, clicks and click-through rate by
-- discovery_source and position bucket (0, 1, 2, 3-5, 6-10, 11-20, 21+; position 0 = first slot);
-- position_from, the bucket's first position, orders the buckets. The impressions of users who
-- opted out and of videos whose creator did are left out (visible_discovery_events).
-- Groups users: a source and bucket of fewer than k distinct viewers (group_users) is left out, and
-- counted in discovery_ctr_by_position_suppressed (jobs/common/views.py create_view; k =
-- analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW discovery_ctr_by_position AS
WITH bucketed AS (
    SELECT fde.*,
           CASE WHEN fde.position_in_feed <= 2 THEN fde.position_in_feed
                WHEN fde.position_in_feed <= 5 THEN 3
                WHEN fde.position_in_feed <= 10 THEN 6
                WHEN fde.position_in_feed <= 20 THEN 11
                ELSE 21 END AS position_from
    FROM visible_discovery_events fde
)
SELECT discovery_source,
       CASE position_from WHEN 3 THEN '3-5' WHEN 6 THEN '6-10' WHEN 11 THEN '11-20' WHEN 21 THEN '21+'
            ELSE CAST(position_from AS STRING) END AS position_bucket,
       position_from,
       COUNT(*) AS impressions,
       COUNT_IF(clicked_through) AS clicks,
       COUNT_IF(clicked_through) / COUNT(*) AS ctr,
       COUNT(DISTINCT user_key) AS group_users
FROM bucketed
GROUP BY discovery_source, position_from
