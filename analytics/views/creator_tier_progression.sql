-- Creator tier progression: each move from one tier to the next (from dim_users_history), with how
-- long creators stayed in the tier they left. Users who opted out of analytics (opted_out_users,
-- consent as it is now) are left out.
-- Groups users: a move made by fewer than k distinct creators (group_users) is left out, and
-- counted in creator_tier_progression_suppressed (jobs/common/views.py create_view; k =
-- analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW creator_tier_progression AS
WITH periods AS (
    SELECT h.user_key, h.creator_tier, h.valid_from,
           LAG(h.creator_tier) OVER (PARTITION BY h.user_key ORDER BY h.valid_from) AS previous_tier,
           LAG(h.valid_from) OVER (PARTITION BY h.user_key ORDER BY h.valid_from) AS previous_from
    FROM dim_users_history h
    LEFT ANTI JOIN opted_out_users opted_out
      ON h.user_key = opted_out.user_key
)
SELECT COALESCE(previous_tier, '(none)') AS from_tier,
       COALESCE(creator_tier, '(none)') AS to_tier,
       COUNT(DISTINCT user_key) AS creators,
       COUNT(*) AS moves,
       ROUND(AVG(DATEDIFF(valid_from, previous_from)), 1) AS avg_days_in_previous_tier,
       MAX(valid_from) AS latest_move,
       COUNT(DISTINCT user_key) AS group_users
FROM periods
WHERE previous_from IS NOT NULL AND NOT (previous_tier <=> creator_tier)
GROUP BY 1, 2
