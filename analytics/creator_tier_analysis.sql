-- Creator Tier Analysis: the data model's example query (shared/spec/data-model.md), unchanged but
-- for one filter: creators who opted out of analytics (the saved view opted_out_users, consent as it
-- is now) are left out, also from the days computed before they opted out. The tiers are the lake's
-- (metrics.md "Creator tier": daily derives them; dim_users holds each creator's latest).
-- Groups users (by tier): a tier of fewer than k_anonymity creators (the session variable the sql
-- job declares from analytics.k_anonymity) is left out, and every row says in groups_suppressed how
-- many were (no row at all when every tier is left out).
WITH tiers AS (
SELECT 
    du.creator_tier,
    COUNT(DISTINCT du.user_key) as creator_count,
    AVG(fca.total_views_received) as avg_daily_views,
    AVG(fca.engagement_rate) as avg_engagement_rate,
    AVG(fca.new_followers - fca.follower_churn) as avg_net_follower_growth
FROM fact_creator_analytics fca
JOIN dim_users du ON fca.user_key = du.user_key
JOIN dim_date dd ON fca.date_key = dd.date_key
WHERE dd.full_date >= CURRENT_DATE - 30
  AND du.user_type IN ('creator', 'both')
  AND du.user_key NOT IN (SELECT user_key FROM opted_out_users)
GROUP BY du.creator_tier
)
SELECT tiers.*, (SELECT COUNT_IF(creator_count < k_anonymity) FROM tiers) AS groups_suppressed
FROM tiers
WHERE creator_count >= k_anonymity
ORDER BY avg_daily_views DESC;
