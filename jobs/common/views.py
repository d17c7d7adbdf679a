"""The analysts' saved views (analytics/views/*.sql), registered in a session beside the tables."""

from __future__ import annotations

import logging
from pathlib import Path

from pyspark.errors import AnalysisException
from pyspark.sql import SparkSession

from jobs.common.config import PROJECT_ROOT

ANALYTICS_DIR = PROJECT_ROOT / "analytics"
VIEWS_DIR = ANALYTICS_DIR / "views"
log = logging.getLogger("shortvideo.views")


def view_files() -> list[Path]:
    return sorted(VIEWS_DIR.glob("*.sql"))


def register_views(spark: SparkSession) -> list[str]:
    """Create every saved view whose tables the lake has (a young lake may lack some).

    Views read other saved views (the consent and moderation rules live in opted_out_users,
    visible_content and trending_eligible_content), so a view that fails is tried again after the
    ones that succeed: passes go on while one registers a view, whatever the files' order.
    """
    pending = {path.stem: path.read_text(encoding="utf-8") for path in view_files()}
    names: list[str] = []
    errors: dict[str, AnalysisException] = {}
    while pending:
        errors = {}
        for name, text in pending.items():
            try:
                spark.sql(text)
                names.append(name)
            except AnalysisException as error:
                errors[name] = error
        if len(errors) == len(pending):
            break
        pending = {name: pending[name] for name in errors}
    for name, error in errors.items():
        log.info("view %s not registered: %s", name, str(error).splitlines()[0])
    return names
