-- Engagement events analysts may see: fact_content_engagements less the events of users who opted
-- out and the events on videos whose creator opted out (consent as it is now). Events on removed or
-- taken-down videos stay: they are history.
CREATE OR REPLACE TEMPORARY VIEW visible_engagements AS
SELECT fce.*
FROM fact_content_engagements fce
LEFT ANTI JOIN opted_out_users viewer ON fce.user_key = viewer.user_key
LEFT ANTI JOIN opted_out_content hidden ON fce.content_key = hidden.content_key
