-- The consent rule, in one place: the users who opted out of analytics, as dim_users says now
-- (analytics_consent = false). A user the lake has no row for counts as consenting (events.md's
-- default), so the other views leave these users out with an anti join on this view.
CREATE OR REPLACE TEMPORARY VIEW opted_out_users AS
SELECT user_key
FROM dim_users
WHERE analytics_consent = false
