-- Creator comparison (the data model's "cross-platform creator comparison"): the feeds carry one
-- platform only (events.md's `client` is free-form metadata, never interpreted), so creators are
-- compared across this platform: per creator over every computed day, their tier now
-- (dim_users.creator_tier), the days with analytics, net follower growth (follows - unfollows), the
-- videos with performance rows and their qualifying views, the mean viral_score of those
-- video-days, and where the creator's views rank among the creators of the same tier
-- (views_percentile_in_tier: PERCENT_RANK, 0 the fewest, 1 the most). Removed videos count (their
-- creator's history); creators who opted out are left out (opted_out_users). A row is one
-- creator, not a group of users: nothing is suppressed.
CREATE OR REPLACE TEMPORARY VIEW creator_comparison AS
WITH audience AS (
    SELECT fca.user_key, COUNT(*) AS active_days,
           SUM(fca.new_followers) - SUM(fca.follower_churn) AS net_follower_growth
    FROM fact_creator_analytics fca
    LEFT ANTI JOIN opted_out_users opted_out ON fca.user_key = opted_out.user_key
    GROUP BY fca.user_key
),
videos AS (
    SELECT vc.creator_user_key AS user_key, COUNT(DISTINCT fcp.content_key) AS videos,
           SUM(fcp.total_views) AS total_views, AVG(fcp.viral_score) AS avg_viral_score
    FROM visible_content vc
    JOIN fact_content_performance fcp ON fcp.content_key = vc.content_key
    GROUP BY vc.creator_user_key
),
creators AS (
    SELECT a.user_key, du.user_id AS creator_id, du.creator_tier, a.active_days, a.net_follower_growth,
           COALESCE(v.videos, 0) AS videos, COALESCE(v.total_views, 0) AS total_views, v.avg_viral_score
    FROM audience a
    LEFT JOIN videos v ON a.user_key = v.user_key
    LEFT JOIN dim_users du ON a.user_key = du.user_key
)
SELECT user_key AS creator_user_key, creator_id, creator_tier, active_days, net_follower_growth, videos,
       total_views, avg_viral_score,
       PERCENT_RANK() OVER (PARTITION BY creator_tier ORDER BY total_views) AS views_percentile_in_tier
FROM creators
