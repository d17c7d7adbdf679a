-- Videos analysts may see: dim_content less the videos whose creator opted out of analytics (consent
-- as it is now). Removed and taken-down videos stay: they are history.
CREATE OR REPLACE TEMPORARY VIEW visible_content AS
SELECT dc.*
FROM dim_content dc
LEFT ANTI JOIN opted_out_users creator ON dc.creator_user_key = creator.user_key
