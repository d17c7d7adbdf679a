-- Discovery-source and feed-position effectiveness: impressions, click-through rate and time to
-- engagement by source and position band. The impressions of users who opted out of analytics, and
-- of videos whose creator did, are left out (visible_discovery_events, consent as it is now).
-- Groups users: a source and band of fewer than k distinct viewers (group_users) is left out,
-- and counted in discovery_effectiveness_suppressed (jobs/common/views.py create_view; k =
-- analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW discovery_effectiveness AS
SELECT fde.discovery_source,
       -- zero-padded, so the bands sort in feed order
       CASE WHEN fde.position_in_feed = 0 THEN '00'
            WHEN fde.position_in_feed <= 2 THEN '01-02'
            WHEN fde.position_in_feed <= 5 THEN '03-05'
            WHEN fde.position_in_feed <= 10 THEN '06-10'
            ELSE '11+' END AS position_band,
       COUNT(*) AS impressions,
       COUNT_IF(fde.clicked_through) AS click_throughs,
       ROUND(COUNT_IF(fde.clicked_through) / COUNT(*), 4) AS click_through_rate,
       PERCENTILE_APPROX(fde.time_to_engagement, 0.5) AS median_seconds_to_engagement,
       COUNT(DISTINCT fde.user_key) AS group_users
FROM visible_discovery_events fde
GROUP BY 1, 2
