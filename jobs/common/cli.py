"""The command line every job shares: argparse types, common options, exit code 2 on bad input."""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
from pathlib import Path
from typing import NoReturn

from jobs.common.config import ConfigError, is_uri, join_path, load_conf

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr and exit code 2 (orchestrators log one line)."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


class LakeParser(OneLineParser):
    """A job that reads an existing lake: after the arguments' own rules (`check_arguments`), the
    lake it will use (--lake, else the environment's) must hold a lake, checked before any Spark work.

    A local lake is a directory holding at least one Delta table (a non-empty `<table>/_delta_log`),
    or the table in `required_table` when the job needs that one. A URI (s3a://...) is left to Spark.
    """

    required_table: str | None = None

    def parse_args(self, args=None, namespace=None):  # type: ignore[override]
        parsed = super().parse_args(args, namespace)
        self.check_arguments(parsed)
        try:
            lake = load_conf(parsed.env, parsed.overrides, lake=parsed.lake).lake
        except ConfigError as error:
            self.error(str(error))
        problem = lake_problem(lake, self.required_table)
        if problem:
            self.error(problem)
        return parsed

    def check_arguments(self, parsed: argparse.Namespace) -> None:
        """Rules across options (a subclass's), checked before the lake."""


def _holds_delta_table(table_dir: Path) -> bool:
    log = table_dir / "_delta_log"
    return log.is_dir() and any(log.iterdir())


def lake_problem(lake: str, required_table: str | None = None) -> str | None:
    """Why `lake` is not a lake (None when it is, or when it is a URI: Spark checks those)."""
    if not lake:
        return "no lake given (--lake, or paths.lake in the configuration)"
    if is_uri(lake):
        return None
    root = Path(lake)
    if not root.is_dir():
        return f"lake '{lake}' does not exist"
    if required_table:
        if not _holds_delta_table(Path(join_path(lake, required_table))):
            return f"lake '{lake}' has no {required_table} table (run ingest first)"
    elif not any(_holds_delta_table(child) for child in root.iterdir() if child.is_dir()):
        return f"lake '{lake}' holds no Delta table"
    return None


def base_parser(job: str, description: str, parser_class: type[OneLineParser] = OneLineParser) -> OneLineParser:
    parser = parser_class(prog=f"spark-submit.sh {job}", description=description)
    parser.add_argument("--env", default="local", help="configuration conf/ENV.toml (default: local)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override one configuration value (repeatable)",
    )
    parser.add_argument("--master", help="Spark master URL (default: the environment's spark.master)")
    return parser


def iso_date(text: str) -> dt.date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date YYYY-MM-DD") from None


def _whole_number_from(text: str, minimum: int, bound: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"'{text}' must be {bound}")
    return value


def positive_int(text: str) -> int:
    return _whole_number_from(text, 1, "greater than 0")


def non_negative_int(text: str) -> int:
    return _whole_number_from(text, 0, "0 or greater")


def rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"'{text}' must be a rate between 0 and 1")
    return value


def existing_dir(text: str) -> str:
    """A local directory that must exist; URIs (s3a://...) are checked by Spark itself."""
    if not is_uri(text) and not Path(text).is_dir():
        raise argparse.ArgumentTypeError(f"directory '{text}' does not exist")
    return text


def existing_file(text: str) -> str:
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"file '{text}' does not exist")
    return text


def fail_usage(parser: argparse.ArgumentParser, message: str) -> NoReturn:
    parser.error(message)
    raise AssertionError("unreachable")
