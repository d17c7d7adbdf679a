-- Retention: weekly cohorts by registration_date (cohort_week: the Monday of its ISO week), with
-- the users of each cohort who were active (any visible engagement) in weeks 1, 2 and 4 after
-- registering (week n: days 7n .. 7n+6 after the user's own registration_date), and those shares.
-- A share is null while the lake cannot tell yet: the week has not ended, for the cohort's last
-- registration day, by the latest event_date in fact_content_engagements. Deleted accounts stay in
-- their cohort (they are part of its churn); users who opted out are left out (opted_out_users).
-- Groups users: a cohort of fewer than k users (group_users) is left out, and counted in
-- retention_cohorts_suppressed (jobs/common/views.py create_view; k = analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW retention_cohorts AS
WITH cohort_users AS (
    SELECT du.user_key, du.registration_date,
           DATE_SUB(du.registration_date, WEEKDAY(du.registration_date)) AS cohort_week
    FROM dim_users du
    LEFT ANTI JOIN opted_out_users opted_out ON du.user_key = opted_out.user_key
    WHERE du.registration_date IS NOT NULL
),
active_weeks AS (
    SELECT DISTINCT cu.user_key, FLOOR(DATEDIFF(fce.event_date, cu.registration_date) / 7) AS week_after
    FROM visible_engagements fce
    JOIN cohort_users cu ON fce.user_key = cu.user_key
),
latest AS (
    SELECT MAX(event_date) AS last_event_date FROM fact_content_engagements
),
cohorts AS (
    SELECT cu.cohort_week,
           COUNT(DISTINCT cu.user_key) AS cohort_users,
           COUNT(DISTINCT IF(aw.week_after = 1, cu.user_key, NULL)) AS active_week_1,
           COUNT(DISTINCT IF(aw.week_after = 2, cu.user_key, NULL)) AS active_week_2,
           COUNT(DISTINCT IF(aw.week_after = 4, cu.user_key, NULL)) AS active_week_4
    FROM cohort_users cu
    LEFT JOIN active_weeks aw ON cu.user_key = aw.user_key
    GROUP BY cu.cohort_week
)
SELECT c.cohort_week, c.cohort_users, c.active_week_1, c.active_week_2, c.active_week_4,
       -- week n of the cohort's last registration day (its Sunday, cohort_week + 6) ends 7n + 6 days later
       IF(DATE_ADD(c.cohort_week, 6 + 7 * 1 + 6) <= l.last_event_date, c.active_week_1 / c.cohort_users, NULL)
           AS retention_week_1,
       IF(DATE_ADD(c.cohort_week, 6 + 7 * 2 + 6) <= l.last_event_date, c.active_week_2 / c.cohort_users, NULL)
           AS retention_week_2,
       IF(DATE_ADD(c.cohort_week, 6 + 7 * 4 + 6) <= l.last_event_date, c.active_week_4 / c.cohort_users, NULL)
           AS retention_week_4,
       c.cohort_users AS group_users
FROM cohorts c
CROSS JOIN latest l
