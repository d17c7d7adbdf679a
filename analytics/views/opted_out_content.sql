-- The videos whose creator opted out of analytics (consent as it is now, opted_out_users): the
-- views of raw events leave out the events on them with an anti join on this view.
CREATE OR REPLACE TEMPORARY VIEW opted_out_content AS
SELECT dc.content_key
FROM dim_content dc
JOIN opted_out_users creator ON dc.creator_user_key = creator.user_key
