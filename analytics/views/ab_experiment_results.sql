-- A/B experiments: per experiment_id and variant, the feed impressions, clicks, click-through rate
-- and mean time_to_engagement (seconds, over the clicked impressions), and each variant against its
-- experiment's control (the variant named 'control', else the first by name): the CTR difference
-- (variant - control), its 95% confidence interval (unpooled standard error:
-- sqrt(p1(1-p1)/n1 + p2(1-p2)/n2)) and the two-proportion z-test (pooled standard error:
-- sqrt(p(1-p)(1/n1 + 1/n2)), p = both variants' clicks / impressions); significant when |z| > 1.96
-- (the 97.5% normal quantile). The control's own row has no comparison (nulls), nor has a variant
-- whose control is a group of fewer than k users (its numbers would give the control's away).
-- Impressions without an experiment_id or variant are left out, and so are the impressions of users
-- who opted out and of videos whose creator did (visible_discovery_events).
-- Groups users: a variant seen by fewer than k distinct users (group_users) is left out, and counted
-- in ab_experiment_results_suppressed (jobs/common/views.py create_view; k = analytics.k_anonymity).
CREATE OR REPLACE TEMPORARY VIEW ab_experiment_results AS
WITH constants AS (
    SELECT 1.959963984540054D AS z_95  -- two-sided 95%: the normal distribution's 97.5% quantile
),
variants AS (
    SELECT experiment_id, variant,
           COUNT(*) AS impressions,
           COUNT_IF(clicked_through) AS clicks,
           COUNT_IF(clicked_through) / COUNT(*) AS ctr,
           AVG(time_to_engagement) AS mean_time_to_engagement,
           COUNT(DISTINCT user_key) AS group_users
    FROM visible_discovery_events
    WHERE experiment_id IS NOT NULL AND variant IS NOT NULL
    GROUP BY experiment_id, variant
),
controls AS (
    SELECT experiment_id, MIN_BY(variant, STRUCT(variant <> 'control', variant)) AS control_variant
    FROM variants
    GROUP BY experiment_id
),
paired AS (
    SELECT v.*, c.control_variant,
           ctl.impressions AS control_impressions, ctl.clicks AS control_clicks, ctl.ctr AS control_ctr,
           v.variant <> c.control_variant AND ctl.group_users >= k_anonymity AS compared
    FROM variants v
    JOIN controls c ON v.experiment_id = c.experiment_id
    JOIN variants ctl ON ctl.experiment_id = c.experiment_id AND ctl.variant = c.control_variant
),
tested AS (
    SELECT p.*,
           p.ctr - p.control_ctr AS ctr_difference,
           SQRT(p.ctr * (1 - p.ctr) / p.impressions
                + p.control_ctr * (1 - p.control_ctr) / p.control_impressions) AS unpooled_se,
           (p.clicks + p.control_clicks) / (p.impressions + p.control_impressions) AS pooled_ctr
    FROM paired p
)
SELECT t.experiment_id, t.variant, t.control_variant, t.impressions, t.clicks, t.ctr,
       t.mean_time_to_engagement,
       IF(t.compared, t.ctr_difference, NULL) AS ctr_difference,
       IF(t.compared, t.ctr_difference - c.z_95 * t.unpooled_se, NULL) AS ci_lower,
       IF(t.compared, t.ctr_difference + c.z_95 * t.unpooled_se, NULL) AS ci_upper,
       IF(t.compared, t.ctr_difference / NULLIF(SQRT(t.pooled_ctr * (1 - t.pooled_ctr)
                                                     * (1 / t.impressions + 1 / t.control_impressions)), 0),
          NULL) AS z_score,
       IF(t.compared,
          COALESCE(ABS(t.ctr_difference / NULLIF(SQRT(t.pooled_ctr * (1 - t.pooled_ctr)
                                                      * (1 / t.impressions + 1 / t.control_impressions)), 0))
                   > c.z_95, false),
          NULL) AS significant,
       t.group_users
FROM tested t
CROSS JOIN constants c
