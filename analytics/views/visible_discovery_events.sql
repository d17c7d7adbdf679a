-- Feed impressions analysts may see: fact_discovery_events less the impressions of users who opted
-- out and the impressions of videos whose creator opted out (consent as it is now), as
-- visible_engagements does for engagements. Impressions of removed or taken-down videos stay.
CREATE OR REPLACE TEMPORARY VIEW visible_discovery_events AS
SELECT fde.*
FROM fact_discovery_events fde
LEFT ANTI JOIN opted_out_users viewer ON fde.user_key = viewer.user_key
LEFT ANTI JOIN opted_out_content hidden ON fde.content_key = hidden.content_key
