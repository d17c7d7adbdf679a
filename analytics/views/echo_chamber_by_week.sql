-- Echo chambers: per ISO week, the active users (at least 10 qualifying views that week, from
-- diversity_by_user_week), how many of them have a top category holding more than 80% of their
-- views, and that share; with the active users' mean entropy (bits).
-- Groups users: a week of fewer than k active users (group_users) is left out, and counted in
-- echo_chamber_by_week_suppressed (jobs/common/views.py create_view; k = analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW echo_chamber_by_week AS
WITH constants AS (
    SELECT 10 AS active_min_views,  -- metrics.md: active = at least 10 qualifying views in the week
           0.8D AS echo_share       -- an echo chamber: the top category holds more than this
)
SELECT d.week_start, d.iso_week,
       COUNT(*) AS active_users,
       COUNT_IF(d.top_category_share > c.echo_share) AS echo_chamber_users,
       COUNT_IF(d.top_category_share > c.echo_share) / COUNT(*) AS echo_chamber_share,
       AVG(d.entropy_bits) AS avg_entropy_bits,
       COUNT(*) AS group_users
FROM diversity_by_user_week d
CROSS JOIN constants c
WHERE d.qualifying_views >= c.active_min_views
GROUP BY d.week_start, d.iso_week
