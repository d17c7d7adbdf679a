-- Creator audience growth: per creator and ISO week (week_start: its Monday; iso_week: e.g.
-- 2026-W10), the follows and unfollows their videos received (fact_creator_analytics'
-- new_followers and follower_churn), net follower growth (follows - unfollows) and the churn rate
-- (unfollows / follows; null without follows). Creators who opted out are left out
-- (opted_out_users). A row is one creator, not a group of users: nothing is suppressed.
CREATE OR REPLACE TEMPORARY VIEW creator_audience_growth AS
WITH weeks AS (
    SELECT fca.user_key, DATE_SUB(fca.event_date, WEEKDAY(fca.event_date)) AS week_start,
           fca.new_followers, fca.follower_churn
    FROM fact_creator_analytics fca
    LEFT ANTI JOIN opted_out_users opted_out ON fca.user_key = opted_out.user_key
)
SELECT w.user_key AS creator_user_key,
       FIRST(du.user_id) AS creator_id,
       w.week_start,
       CONCAT(EXTRACT(YEAROFWEEK FROM w.week_start), '-W', LPAD(CAST(WEEKOFYEAR(w.week_start) AS STRING), 2, '0'))
           AS iso_week,
       SUM(w.new_followers) AS follows,
       SUM(w.follower_churn) AS unfollows,
       SUM(w.new_followers) - SUM(w.follower_churn) AS net_follower_growth,
       SUM(w.follower_churn) / NULLIF(SUM(w.new_followers), 0) AS churn_rate
FROM weeks w
LEFT JOIN dim_users du ON w.user_key = du.user_key
GROUP BY w.user_key, w.week_start
