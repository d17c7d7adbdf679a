-- Trending Content Identification: the data model's example query (shared/spec/data-model.md),
-- unchanged except for the fix it needs: the content_performance CTE must expose the creator
-- (dc.creator_id, selected and grouped by), because the final join refers to cp.creator_id; and
-- one filter: only videos a trending list may show (the saved view trending_eligible_content: not
-- removed, not taken down, the creator has not opted out of analytics).
WITH content_performance AS (
    SELECT 
        dc.content_id,
        dc.category,
        dc.creator_id,
        SUM(fcp.total_views) as total_views,
        SUM(fcp.total_likes + fcp.total_comments * 5 + fcp.total_shares * 10) as engagement_score,
        AVG(fcp.completion_rate) as avg_completion_rate
    FROM fact_content_performance fcp
    JOIN dim_content dc ON fcp.content_key = dc.content_key
    JOIN dim_date dd ON fcp.date_key = dd.date_key
    WHERE dd.full_date >= CURRENT_DATE - 2  -- Last 48 hours
      AND dc.content_key IN (SELECT content_key FROM trending_eligible_content)
    GROUP BY dc.content_id, dc.category, dc.creator_id
),
creator_baselines AS (
    SELECT 
        du.user_id,
        AVG(fca.total_views_received) as avg_views,
        AVG(fca.total_engagements_received) as avg_engagements
    FROM fact_creator_analytics fca
    JOIN dim_users du ON fca.user_key = du.user_key
    JOIN dim_date dd ON fca.date_key = dd.date_key
    WHERE dd.full_date >= CURRENT_DATE - 30
    GROUP BY du.user_id
)
SELECT 
    cp.content_id,
    cp.category,
    cp.total_views,
    cp.engagement_score,
    cp.avg_completion_rate,
    CASE 
        WHEN cp.engagement_score > cb.avg_engagements * 10 THEN 'Viral'
        WHEN cp.engagement_score > cb.avg_engagements * 5 THEN 'Trending'
        ELSE 'Normal'
    END as content_status
FROM content_performance cp
JOIN creator_baselines cb ON cp.creator_id = cb.user_id
ORDER BY cp.engagement_score DESC
LIMIT 100;
