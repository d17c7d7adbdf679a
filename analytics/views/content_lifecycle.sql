-- Content lifecycle: each video-day by the video's age, with the phase it is in against its own
-- peak day (most qualifying views, the earliest of equals): growth before it, peak, decay after.
-- Videos whose creator opted out are left out (visible_content); removed and taken-down videos stay.
CREATE OR REPLACE TEMPORARY VIEW content_lifecycle AS
WITH days AS (
    SELECT dc.content_id, dc.category, fcp.event_date,
           DATEDIFF(fcp.event_date, TO_DATE(dc.upload_timestamp)) AS age_days,
           fcp.total_views, fcp.engagement_score,
           MAX_BY(fcp.event_date, STRUCT(fcp.total_views, -UNIX_DATE(fcp.event_date))) OVER (PARTITION BY fcp.content_key) AS peak_date,
           MAX(fcp.total_views) OVER (PARTITION BY fcp.content_key) AS peak_views
    FROM fact_content_performance fcp
    JOIN visible_content dc ON fcp.content_key = dc.content_key
)
SELECT content_id, category, event_date, age_days, total_views, engagement_score, peak_date, peak_views,
       ROUND(total_views / NULLIF(peak_views, 0), 3) AS share_of_peak,
       CASE WHEN event_date < peak_date THEN 'growth'
            WHEN event_date = peak_date THEN 'peak'
            ELSE 'decay' END AS phase
FROM days
