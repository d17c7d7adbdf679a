"""generate: realistic, deterministic synthetic landing files for all four feeds (events.md).

The command line of the simulation in jobs/generator: same arguments, byte-identical files."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from jobs.common.cli import (
    EXIT_FAILED,
    EXIT_OK,
    OneLineParser,
    base_parser,
    iso_date,
    non_negative_int,
    positive_int,
    rate,
)
from jobs.common.config import Conf, ConfigError, is_uri, load_conf
from jobs.common.report import JobReport
from jobs.common.kafka_source import feed_topic, kafka_overrides
from jobs.generator.files import generate
from jobs.generator.parameters import MIN_USERS
from jobs.generator.spec import GeneratorSpec


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not value >= 0.0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"'{text}' must be a finite number of 0 or more")
    return value


def build_parser() -> OneLineParser:
    parser = base_parser("generate", "Write realistic synthetic landing files for all four feeds.")
    parser.add_argument(
        "--landing", help="landing directory (default: the environment's paths.landing)"
    )
    parser.add_argument("--days", type=positive_int, help="number of days of events")
    parser.add_argument(
        "--events-per-day", type=positive_int, help="good engagement events per day"
    )
    parser.add_argument(
        "--users", type=positive_int, help=f"number of users (at least {MIN_USERS})"
    )
    parser.add_argument("--seed", type=non_negative_int, help="random seed: same seed, same files")
    parser.add_argument(
        "--start-date",
        type=iso_date,
        help="first day YYYY-MM-DD (default: DAYS days ending yesterday UTC)",
    )
    parser.add_argument("--bad-rate", type=rate, help="extra bad lines per good event (0..1)")
    parser.add_argument("--dup-rate", type=rate, help="share of events delivered twice (0..1)")
    parser.add_argument(
        "--late-rate", type=rate, help="share of events delivered 1-3 days late (0..1)"
    )
    parser.add_argument(
        "--kafka", metavar="BOOTSTRAP",
        help="send engagements and discovery to these Kafka servers' topics instead of files",
    )
    parser.add_argument("--topics", nargs="+", type=feed_topic, metavar="FEED=TOPIC",
                        help="the topic of a feed (default: the environment's [kafka.topics])")
    return parser


def conf_setting(conf: Conf, name: str, cli_value: Any, convert: Callable[[str], Any]) -> Any:
    """The option if given, else conf `generate.<name>` checked with the option's own rule."""
    if cli_value is not None:
        return cli_value
    raw = conf.get(f"generate.{name}")
    try:
        return convert(str(raw))
    except argparse.ArgumentTypeError as error:
        raise ConfigError(f"configuration generate.{name}: {error}") from None


def resolve_spec(args: argparse.Namespace, conf: Conf) -> GeneratorSpec:
    if not conf.landing:
        raise ConfigError("no landing directory: give --landing or set paths.landing")
    if is_uri(conf.landing):
        raise ConfigError(f"generate writes local files; landing '{conf.landing}' is a URI")
    days = conf_setting(conf, "days", args.days, positive_int)
    users = conf_setting(conf, "users", args.users, positive_int)
    if users < MIN_USERS:
        raise ConfigError(f"--users must be at least {MIN_USERS}, got {users}")
    start_date = args.start_date
    if start_date is None:
        configured = str(conf.get("generate.start_date") or "")
        if configured:
            start_date = conf_setting(conf, "start_date", None, iso_date)
        else:
            today = dt.datetime.now(dt.UTC).date()
            start_date = today - dt.timedelta(days=days)
    return GeneratorSpec(
        landing=conf.landing,
        start_date=start_date,
        days=days,
        events_per_day=conf_setting(conf, "events_per_day", args.events_per_day, positive_int),
        users=users,
        seed=conf_setting(conf, "seed", args.seed, non_negative_int),
        bad_rate=conf_setting(conf, "bad_rate", args.bad_rate, rate),
        dup_rate=conf_setting(conf, "dup_rate", args.dup_rate, rate),
        late_rate=conf_setting(conf, "late_rate", args.late_rate, rate),
        discovery_per_engagement=conf_setting(
            conf, "discovery_per_engagement", None, non_negative_float
        ),
        files_per_day=conf_setting(conf, "files_per_day", None, positive_int),
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides + kafka_overrides(args.kafka, args.topics),
                         landing=args.landing)
        spec = resolve_spec(args, conf)
    except ConfigError as error:
        parser.error(str(error))
    report = JobReport("generate")
    if args.kafka:
        return generate_kafka(spec, conf, report)
    try:
        stats = generate(spec)
    except OSError as error:
        sys.stderr.write(f"{parser.prog}: error: cannot write landing files: {error}\n")
        return EXIT_FAILED
    report.add(landing=spec.landing, **asdict(stats))
    report.emit()
    return EXIT_OK


def generate_kafka(spec: GeneratorSpec, conf: Conf, report: JobReport) -> int:
    """The event feeds to their topics (conf [kafka.topics]), users and content to landing files."""
    from confluent_kafka import KafkaException  # noqa: PLC0415 (only this mode needs the client)

    from jobs.generator.kafka import generate_to_kafka  # noqa: PLC0415

    topics = {feed: str(topic) for feed, topic in conf.section("kafka")["topics"].items()}
    try:
        stats, produced = generate_to_kafka(spec, conf.get("kafka.bootstrap_servers"), topics,
                                            dict(conf.section("kafka")["producer"]))
    except (OSError, KafkaException) as error:
        report.emit(status="failed", error=str(error).splitlines()[0])
        return EXIT_FAILED
    report.add(landing=spec.landing, kafka=conf.get("kafka.bootstrap_servers"), records=produced,
               **asdict(stats))
    report.emit()
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
