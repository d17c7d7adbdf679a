"""The simulated short-video app behind `generate`: users, videos, engagements, impressions,
and their messy delivery as landing files (the same spec always gives the same bytes)."""
