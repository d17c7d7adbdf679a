"""Writing the run's landing files: atomically, never replacing one, gzip where named .gz."""

from __future__ import annotations

import gzip
import os
import sys
from pathlib import Path
from typing import Any

from tqdm import tqdm

from jobs.generator.simulation import iter_deliveries
from jobs.generator.spec import Delivery, GenerationStats, GeneratorSpec

FEEDS = ("engagements", "discovery", "users", "content")
GZIP_LEVEL = 1  # landing files are transient: speed over size
WRITE_CHUNK_LINES = 20_000
PROGRESS_MIN_EVENTS = 500_000


def write_lines(handle: Any, lines: list[str]) -> None:
    """Newline-terminated UTF-8 lines, encoded in chunks so a big file is never copied whole."""
    for start in range(0, len(lines), WRITE_CHUNK_LINES):
        chunk = lines[start : start + WRITE_CHUNK_LINES]
        handle.write(("\n".join(chunk) + "\n").encode("utf-8"))


def write_delivery(landing: Path, delivery: Delivery) -> bool:
    """Write one file atomically (hidden temp file, fsync, rename); False if it already exists."""
    directory = landing / delivery.feed
    target = directory / delivery.name
    if target.exists():
        return False  # files are never changed once they appear; a rerun leaves them be
    temporary = directory / f".{delivery.name}.{os.getpid()}.tmp"
    try:
        with open(temporary, "wb") as handle:
            if delivery.name.endswith(".gz"):
                # mtime=0 and no file name in the header: the same lines give the same bytes.
                with gzip.GzipFile(
                    filename="", mode="wb", fileobj=handle, compresslevel=GZIP_LEVEL, mtime=0
                ) as compressed:
                    write_lines(compressed, delivery.lines)
            else:
                write_lines(handle, delivery.lines)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return True


def sync_directory(directory: Path) -> None:
    """Make the renames durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def generate(spec: GeneratorSpec) -> GenerationStats:
    stats = GenerationStats()
    landing = Path(spec.landing)
    for feed in FEEDS:
        (landing / feed).mkdir(parents=True, exist_ok=True)
    files_per_day = 2 + 2 * spec.files_per_day
    quiet = not sys.stderr.isatty() or spec.days * spec.events_per_day < PROGRESS_MIN_EVENTS
    with tqdm(
        total=spec.days * files_per_day, unit="file", disable=quiet, file=sys.stderr
    ) as progress:
        for delivery in iter_deliveries(spec, stats):
            if write_delivery(landing, delivery):
                stats.files += 1
            else:
                stats.skipped_files += 1
            progress.update()
    for feed in FEEDS:
        sync_directory(landing / feed)
    return stats
