-- Engagement trends: per day (UTC event_date), the active users (distinct users with any visible
-- engagement), their engagements (events of every type), and watch seconds per active user (the
-- sum of watch_duration_seconds over the day's events / active users). Users who opted out, and
-- videos whose creator did, are left out (visible_engagements).
-- Groups users: a day of fewer than k active users (group_users) is left out, and counted in
-- engagement_trends_suppressed (jobs/common/views.py create_view; k = analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW engagement_trends AS
SELECT event_date,
       COUNT(DISTINCT user_key) AS active_users,
       COUNT(*) AS engagements,
       COUNT(*) / COUNT(DISTINCT user_key) AS engagements_per_active_user,
       COALESCE(SUM(watch_duration_seconds), 0) / COUNT(DISTINCT user_key) AS watch_seconds_per_active_user,
       COUNT(DISTINCT user_key) AS group_users
FROM visible_engagements
GROUP BY event_date
