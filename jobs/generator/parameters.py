"""The simulated app: its vocabularies (as events.md names them) and the shares, rates and
distributions its users, videos, events and deliveries are drawn from."""

from __future__ import annotations

import datetime as dt

import numpy as np

from jobs.generator import calibration as cal

# --- time -----------------------------------------------------------------------------------
MS_PER_SECOND = 1_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000
HOURS_PER_DAY = 24
EPOCH = dt.date(1970, 1, 1)
NEVER = np.iinfo(np.int64).max  # "not deleted / not taken down"

# Share of the day's activity per local hour (calibration.py); each user lives in a region's
# time zone, so the UTC curve is the mixture over regions (REGION_UTC_OFFSETS).
LOCAL_HOURLY_ACTIVITY = cal.LOCAL_HOURLY_ACTIVITY

# --- users ----------------------------------------------------------------------------------
MIN_USERS = 10
USER_ID_DIGITS = 6
USER_TYPES = ("consumer", "creator", "both")
CONSUMER, CREATOR, BOTH = range(3)
USER_TYPE_SHARES = (0.85, 0.10, 0.05)
CREATOR_TIERS = ("casual", "rising", "established", "top")
NO_TIER = -1
CASUAL = 0
TIER_SHARES = (0.55, 0.28, 0.13, 0.04)
TIER_MEDIAN_FOLLOWERS = (300, 6_000, 90_000, 2_500_000)
CREATOR_FOLLOWER_SPREAD = 0.9  # sigma of the log-normal around the tier median
CONSUMER_MEDIAN_FOLLOWERS = 25
CONSUMER_FOLLOWER_SPREAD = 1.3
MAX_FOLLOWERS = 300_000_000
MEDIAN_FOLLOWING = 150
FOLLOWING_SPREAD = 1.0
MAX_FOLLOWING = 10_000  # the app's follow limit
REGIONS = ("US", "BR", "IN", "ID", "GB", "DE", "MX", "JP", "FR", "PH", "TR", "VN", "KR", "NG", "CA")
REGION_SHARES = (22, 12, 14, 10, 6, 5, 7, 5, 4, 5, 4, 3, 3, 2, 3)
REGION_UTC_OFFSETS = (-5, -3, 5, 7, 0, 1, -6, 9, 1, 8, 3, 7, 9, 1, -5)  # whole hours (IN: +5:30)
OPT_OUT_SHARE = 0.03
CONSENT_OMITTED_SHARE = 0.10  # first profiles of consenting users without the flag (default true)
CONSENT_OMITTED_ON_UPDATE_SHARE = 0.4  # later upserts without it (it keeps its value)
MEAN_ACCOUNT_AGE_DAYS = 500
MAX_ACCOUNT_AGE_DAYS = 2_500
# Users who signed up in the weeks before day 1 (weekly retention cohorts), on a day drawn evenly
# from RECENT_SIGNUP_DAYS before it.
RECENT_SIGNUP_SHARE = 0.25
RECENT_SIGNUP_DAYS = 56
# Users with a narrow taste: their feed serves their favourite category NARROW_TASTE_FOCUS of the
# time (the rest of the time, and always for everyone else, by popularity alone).
NARROW_TASTE_SHARE = 0.3
NARROW_TASTE_FOCUS = 0.85
ACTIVITY_SPREAD = 1.2  # log-normal sigma of how much a user engages: a few heavy users
CLIENTS = (  # (os, app version, share of users)
    ("ios", "31.2.0", 20), ("ios", "31.1.1", 12), ("ios", "30.9.0", 8),
    ("android", "31.2.0", 22), ("android", "31.1.0", 15), ("android", "30.8.2", 13),
    ("android", "29.4.1", 5), ("web", "2026.11.1", 5),
)  # fmt: skip

# Daily profile changes (probability per user per day).
CREATOR_FOLLOWER_UPDATE_RATE = 0.25
CONSUMER_FOLLOWER_UPDATE_RATE = 0.02
FOLLOWER_DAILY_GROWTH = 0.01
FOLLOWER_DAILY_SPREAD = 0.03
FOLLOWER_JITTER = (-2, 10)
FOLLOWING_UPDATE_RATE = 0.03
FOLLOWING_JITTER = (-3, 15)
PROMOTION_RATE_BY_TIER = (0.02, 0.01, 0.004, 0.0)  # casual->rising->established->top
PROMOTION_FOLLOWER_BOOST = (2.0, 4.0)
BECOME_CREATOR_RATE = 0.001
OPT_OUT_RATE = 0.0005
USER_DELETE_RATE = 0.0004

# --- content --------------------------------------------------------------------------------
CONTENT_ID_DIGITS = 7
CONTENT_TYPES = ("original", "remix", "duet", "response")
CONTENT_TYPE_SHARES = (0.72, 0.10, 0.10, 0.08)
CATEGORIES = (
    "dance", "comedy", "education", "food", "sports", "music", "beauty", "gaming", "pets", "travel",
)  # fmt: skip
CATEGORY_SHARES = (18, 17, 8, 10, 8, 12, 8, 9, 6, 4)
FAVOURITE_CATEGORY_SHARE = 0.7  # creators mostly stick to their niche
MEDIAN_DURATION_SECONDS = 10  # KuaiRec: median 9.6 s, quartiles 7.4 s and 12.2 s
DURATION_SPREAD = 0.45
MIN_DURATION_SECONDS = 5
MAX_DURATION_SECONDS = 180
MUSIC_SHARE = 0.75  # the rest use original audio (music_id null)
MUSIC_CATALOG_SIZE = 5_000
MUSIC_ZIPF = 1.4  # a few trending sounds are on most videos
GENERAL_HASHTAGS = ("fyp", "foryou", "viral", "trending", "foryoupage", "tiktok", "funny", "duet")
GENERAL_HASHTAG_SHARES = (30, 22, 18, 10, 8, 6, 4, 2)
CATEGORY_HASHTAGS = {
    "dance": ("dance", "dancechallenge", "choreo", "tutorial"),
    "comedy": ("comedy", "lol", "skit", "prank"),
    "education": ("learnontiktok", "science", "history", "studytok"),
    "food": ("food", "recipe", "foodtok", "cooking"),
    "sports": ("sports", "football", "fitness", "gym"),
    "music": ("music", "cover", "singing", "newmusic"),
    "beauty": ("beauty", "makeup", "skincare", "grwm"),
    "gaming": ("gaming", "gamer", "minecraft", "fortnite"),
    "pets": ("pets", "dogsoftiktok", "catsoftiktok", "cute"),
    "travel": ("travel", "traveltok", "wanderlust", "beach"),
}
CATEGORY_HASHTAG_SHARES = (12, 6, 4, 3)
HASHTAG_COUNT_SHARES = (0.10, 0.20, 0.25, 0.20, 0.15, 0.10)  # 0..5 hashtags
EFFECTS = (
    "green_screen", "beauty_filter", "slow_mo", "time_warp_scan", "text_to_speech",
    "voice_changer", "transition_zoom", "split_screen", "ai_anime", "bling",
)  # fmt: skip
EFFECT_SHARES = (15, 20, 10, 8, 12, 8, 10, 6, 7, 4)
EFFECT_COUNT_SHARES = (0.45, 0.30, 0.17, 0.08)  # 0..3 effects
MODERATION_STATUSES = ("approved", "pending", "removed")
APPROVED, PENDING, REMOVED = range(3)
BACKLOG_STATUS_SHARES = (0.97, 0.0, 0.03)
UPLOAD_STATUS_SHARES = (0.93, 0.06, 0.01)
STATUS_OMITTED_SHARE = 0.05  # on first upserts of approved videos (the default)
CONTENT_EDIT_RATE = 0.01  # re-sent upserts per video per day, removed videos included
STATUS_OMITTED_ON_EDIT_SHARE = 0.5  # a re-sent upsert leaves the status out (it keeps its value)
INITIAL_VIDEOS_BY_TIER = (3.0, 8.0, 15.0, 30.0)  # mean videos posted before day 1
BACKLOG_DAYS = 60
DAILY_UPLOADS_BY_TIER = (0.12, 0.35, 0.6, 0.9)  # mean uploads per creator per day
PENDING_RESOLUTION_RATE = 0.7
PENDING_REMOVAL_SHARE = 0.15
TAKEDOWN_RATE = 0.0005
CREATOR_DELETE_RATE = 0.0003

# --- popularity -----------------------------------------------------------------------------
APPEAL_TAIL = 0.9  # Pareto shape of a video's intrinsic appeal: a few videos get most views
APPEAL_FLOOR = 0.05
TIER_REACH = (1.0, 3.0, 10.0, 40.0)
RECENCY_HALF_LIFE_DAYS = 1.5
RECENCY_FLOOR = 0.03
DAILY_BUZZ_SPREAD = 0.7  # day-to-day luck of a video: makes viral and trending days
PENDING_REACH = 0.1  # videos under review get limited distribution

# --- engagements ----------------------------------------------------------------------------
ENGAGEMENT_TYPES = (
    "view",
    "like",
    "comment",
    "share",
    "save",
    "follow",
    "unfollow",
    "duet",
    "remix",
)
DUET_PER_VIEW = 0.0004
REMIX_PER_VIEW = 0.0004
UNFOLLOW_PER_FOLLOW = 0.15
# Relative weights of the types: one view each, the calibrated rates per view for the others.
ENGAGEMENT_TYPE_SHARES = (
    1.0,
    cal.LIKE_PER_VIEW.value,
    cal.COMMENT_PER_VIEW.value,
    cal.SHARE_PER_VIEW.value,
    cal.SAVE_PER_VIEW.value,
    cal.FOLLOW_PER_VIEW.value,
    cal.FOLLOW_PER_VIEW.value * UNFOLLOW_PER_FOLLOW,
    DUET_PER_VIEW,
    REMIX_PER_VIEW,
)
VIEW = 0
# How a view ends (KuaiRec watch ratios): swiped away under 3 s, watched in part (3 s or more),
# watched to the end and often looped; the shares are calibration.py's short and complete plays.
VIEW_PATTERN_SHARES = (
    cal.SHORT_VIEW_SHARE.value,
    1.0 - cal.SHORT_VIEW_SHARE.value - cal.COMPLETE_VIEW_SHARE.value,
    cal.COMPLETE_VIEW_SHARE.value,
)
MIN_WATCH_SECONDS = 0.2
SWIPE_MAX_SECONDS = 3.0
PARTIAL_WATCH_BETA = (1.6, 1.2)  # the part watched between 3 s and the end
LOOP_MEAN_EXTRA = 0.55  # a complete play runs on for an exponential share of a loop
LOOP_MAX_FRACTION = 3.0
MAX_WATCH_SECONDS = int(MAX_DURATION_SECONDS * LOOP_MAX_FRACTION)
FULL_PERCENT = 100.0
NON_VIEW_WATCH_SHARE = 0.4  # other interactions that also report how long the video played
CONTEXTS = ("for_you", "following", "search", "hashtag", "sound", "profile", "share_link", "live")
CONTEXT_SHARES = (62, 14, 7, 5, 4, 5, 2, 1)  # "live" is one of the "or other" values
CONTEXT_OMITTED_SHARE = 0.02
CLIENT_OMITTED_SHARE = 0.01

# --- discovery ------------------------------------------------------------------------------
SOURCES = (
    "for_you",
    "following",
    "search",
    "hashtag",
    "sound",
    "profile",
    "share_link",
    "notification",
)
SOURCE_SHARES = (60, 15, 8, 5, 4, 5, 2, 1)
SOURCE_CLICK_LIFT = (1.0, 1.3, 1.6, 1.1, 1.1, 1.2, 1.5, 1.4)
POSITION_P = 0.12  # geometric: most impressions are near the top of the feed
MAX_POSITION = 50
CLICK_BASE = 0.4
CLICK_POSITION_DECAY = 8.0
CLICK_FLOOR = 0.02
CLICK_MAX = 0.95
MEDIAN_TIME_TO_ENGAGE_SECONDS = 1.8
TIME_TO_ENGAGE_SPREAD = 0.8
EXPERIMENT_SHARE = 0.3
EXPERIMENTS = ("exp_feed_ranker_v2", "exp_cold_start_boost")
EXPERIMENT_SHARES = (2, 1)
VARIANTS = ("A", "B")
RANKER_V2_B = 1  # experiment * len(VARIANTS) + variant: the treatment that really works
RANKER_V2_B_CLICK_LIFT = 1.12

# --- delivery -------------------------------------------------------------------------------
MAX_LATE_DAYS = 3
SAME_FILE_DUP_SHARE = 0.5
BLANK_LINE_FILE_SHARE = 0.1
GZIP_EVERY = 4  # one event file in four is gzip-compressed, one in eight is named .json
