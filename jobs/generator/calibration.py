"""What the generated app is calibrated against: published figures of real short-video apps.

One place for the figures, their sources and how each target follows from them; the generator's
parameters (parameters.py) are derived from these targets and tests/unit/
test_generator_calibration.py checks a generated sample against them within TOLERANCE_FACTOR.
"""

from __future__ import annotations

from dataclasses import dataclass

TOLERANCE_FACTOR = 1.5  # a generated figure passes if target / 1.5 <= generated <= target * 1.5


@dataclass(frozen=True)
class Source:
    title: str
    url: str


KUAIREC = Source(
    "KuaiRec: A Fully-observed Dataset and Insights for Evaluating Recommender Systems "
    "(Gao et al., CIKM 2022; Kuaishou logs), its published notebook Statistics_KuaiRec.ipynb",
    "https://github.com/chongminggao/KuaiRec/blob/main/Statistics_KuaiRec.ipynb",
)
KUAIRAND = Source(
    "KuaiRand: An Unbiased Sequential Recommendation Dataset with Randomly Exposed Videos "
    "(Gao et al., CIKM 2022; Kuaishou logs), README field definitions",
    "https://github.com/chongminggao/KuaiRand",
)
RIVAL_IQ_2023 = Source(
    "Rival IQ, 2023 TikTok Benchmark Report (engagement rate by view)",
    "https://www.rivaliq.com/blog/tiktok-benchmark-report/",
)
TIKTOK_UNEQUAL = Source(
    "TikTok Odds, 'TikTok Is Impressively Unequal' (view counts of a ~20,000-video sample)",
    "https://www.tiktokodds.com/2020/05/tiktok-is-impressively-unequal.html",
)
DOUYIN_2018 = Source(
    "2018 Douyin big-data report (ByteDance), as reported by Beijing Daily "
    "(北京成年度“抖音之城”): busiest 18-19 h, further peaks 12-13 h and 21-22 h (local time)",
    "",  # the stored copy of the article carries no address
)


@dataclass(frozen=True)
class Target:
    value: float
    source: Source
    how: str  # the published figure and, where the target is derived from it, how


# --- how a view ends (KuaiRec big matrix: 12.4 M plays, watch_ratio = play / video duration) ---
# Published: watch_ratio quartiles 0.311 / 0.716 / 1.162; video duration median 9.636 s,
# quartiles 7.434 s / 12.179 s. KuaiRand defines a short play as < min(3 s, duration) and a
# complete play as play >= duration.
WATCH_RATIO_P25 = Target(0.311, KUAIREC, "published 25th percentile of watch_ratio")
WATCH_RATIO_MEDIAN = Target(0.716, KUAIREC, "published median of watch_ratio")
WATCH_RATIO_P75 = Target(1.162, KUAIREC, "published 75th percentile of watch_ratio")
DURATION_MEDIAN_SECONDS = Target(9.636, KUAIREC, "published median video duration")
SHORT_VIEW_SHARE = Target(
    0.25,
    KUAIREC,
    "derived: the 25th-percentile play (ratio 0.311) of the median video (9.6 s) lasts 3.0 s, "
    "so about a quarter of views end under 3 s",
)
COMPLETE_VIEW_SHARE = Target(
    0.34,
    KUAIREC,
    "derived: ratio 1.0 lies at the 66th percentile between the published median (0.716) and "
    "75th percentile (1.162), so about 34 % of plays are complete",
)

# --- interactions per view ------------------------------------------------------------------
# Published: (likes + comments + shares) / views = 4.14 % (Rival IQ 2023, TikTok). The split
# between the three, and the save and follow rates, are NOT a published figure found here: they
# are the generator's assumptions (likes dominate, as on every platform), kept consistent with it.
ENGAGEMENT_PER_VIEW = Target(
    0.0414, RIVAL_IQ_2023, "published engagement rate by view, (likes+comments+shares)/views"
)
ASSUMED = Source("assumption within the published engagement rate (no per-type source)", "")
LIKE_PER_VIEW = Target(0.0375, ASSUMED, "assumed share of ENGAGEMENT_PER_VIEW")
COMMENT_PER_VIEW = Target(0.0015, ASSUMED, "assumed share of ENGAGEMENT_PER_VIEW")
SHARE_PER_VIEW = Target(0.0024, ASSUMED, "assumed share of ENGAGEMENT_PER_VIEW")
SAVE_PER_VIEW = Target(0.0035, ASSUMED, "assumed")
FOLLOW_PER_VIEW = Target(0.0020, ASSUMED, "assumed")

# --- how unequal views are --------------------------------------------------------------------
# Published: Gini coefficient of view counts ~0.93. Derived shares: a log-normal with that Gini
# has sigma = sqrt(2) * probit((1 + 0.93) / 2) = 2.56; its top 1 % holds 59 %, top 10 % 90 %.
VIEWS_GINI = Target(0.93, TIKTOK_UNEQUAL, "published Gini coefficient of view counts")
TOP_1_PERCENT_VIEW_SHARE = Target(
    0.59, TIKTOK_UNEQUAL, "derived from the Gini (log-normal fit): share of the top 1 % of videos"
)
TOP_10_PERCENT_VIEW_SHARE = Target(
    0.90, TIKTOK_UNEQUAL, "derived from the Gini (log-normal fit): share of the top 10 % of videos"
)

# --- the day, in the users' local time ------------------------------------------------------
# Published (shape only): the busiest local hour is 18, with further peaks at 12 and 21. The
# numbers below are the generator's profile built on that shape (a share per local hour); the
# test checks the cited peaks and that the generated shares follow this profile.
BUSIEST_LOCAL_HOUR = 18
SECONDARY_PEAK_LOCAL_HOURS = (12, 21)
LOCAL_HOURLY_ACTIVITY = (
    0.90, 0.55, 0.35, 0.22, 0.15, 0.15, 0.25, 0.50, 0.80, 0.95, 1.05, 1.20,
    1.60, 1.25, 1.10, 1.10, 1.25, 1.50, 1.95, 1.55, 1.45, 1.75, 1.45, 1.20,
)  # fmt: skip
