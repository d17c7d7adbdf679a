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
    """Create every saved view whose tables the lake has (a young lake may lack some)."""
    names = []
    for path in view_files():
        try:
            spark.sql(path.read_text(encoding="utf-8"))
            names.append(path.stem)
        except AnalysisException as error:
            log.info("view %s not registered: %s", path.stem, str(error).splitlines()[0])
    return names
