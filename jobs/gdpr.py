"""gdpr: erase users from every table of the lake (and the archive), leaving an audit trail without ids.

1. The request is recorded first (ops_gdpr_requests: salted hash, time, purge due): from that commit
   on, the ingest drops the users' in-flight events (timestamp before the request).
2. The job takes the erasure lease (jobs/common/lease.py): writers that start now wait for it, and
   the job waits for those already running, which may have read the tombstones too early. Delta
   commits at Serializable isolation, so a MERGE beside a stream's appends to the same dates would
   keep failing; the stream pauses between micro-batches instead.
3. Each table is erased in one MERGE against the requested ids (the ids never reach the Delta log),
   retried on concurrent-commit conflicts; the audit rows get the tables touched and rows removed.
   The lease ends with the last MERGE.
4. The physical purge (jobs/common/erasure.py) runs in the first `maintain` after
   gdpr.purge_delay_hours, or now with --purge-now: then the job holds the purge lease from the
   start, and refuses (exit 1, nothing erased, nothing purged) while any writer is active.

Requested ids never appear in the job's output: only counts.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from jobs.common import cli
from jobs.common.config import Conf, ConfigError, load_conf
from jobs.common.erasure import complete_request, erase_users, purge_due, record_requests, salt_of
from jobs.common.landing import utc_now
from jobs.common.lease import WriterActive, erasure_lease, purge_lease
from jobs.common.report import JobReport, configure_logging, first_line
from jobs.common.runlog import RunLog, command_line
from jobs.common.spark import start_spark
from jobs.transforms.erasure import requested_users

log = logging.getLogger("shortvideo.gdpr")


class GdprParser(cli.LakeParser):
    def check_arguments(self, parsed) -> None:
        if bool(parsed.user_ids) == bool(parsed.requests):
            self.error("give the users with --user-id ID (repeatable) or --requests FILE (one of them)")


def build_parser() -> GdprParser:
    parser = cli.base_parser("gdpr", "Erase users from every table of the lake; purge now or in the next maintain.",
                             parser_class=GdprParser)
    parser.add_argument("--lake", help="lake root (default: the environment's)")
    parser.add_argument("--user-id", dest="user_ids", action="append", default=[], metavar="ID",
                        help="a user to erase (repeatable)")
    parser.add_argument("--requests", type=cli.existing_file, metavar="FILE",
                        help="a file of user ids, one per line (blank lines and # comments ignored)")
    parser.add_argument("--purge-now", action="store_true",
                        help="purge before returning; refused while a writer is active")
    return parser


def requested_ids(user_ids: list[str], requests: str | None) -> list[str]:
    """The ids to erase, each once: from --user-id, or from the --requests file."""
    lines = user_ids if not requests else Path(requests).read_text(encoding="utf-8").splitlines()
    ids = [line.strip() for line in lines]
    return sorted({i for i in ids if i and not i.startswith("#")})


def erase(spark: SparkSession, conf: Conf, user_ids: list[str], purge_now: bool) -> dict:
    """Record, erase, complete the audit rows. With `purge_now` the caller holds the purge lease,
    so no writer runs and the purge is due at once."""
    requested_at = utc_now()
    delay = dt.timedelta(hours=0 if purge_now else float(conf.get("gdpr.purge_delay_hours")))
    request_id = record_requests(spark, conf, user_ids, requested_at, requested_at + delay)
    users = requested_users(spark, user_ids, requested_at)
    if purge_now:
        removed = erase_users(spark, conf, users, requested_at)
    else:
        with erasure_lease(spark, conf, "gdpr"):  # writers pause; those running end first
            removed = erase_users(spark, conf, users, requested_at)
    complete_request(spark, conf, request_id, removed)
    return {
        "request_id": request_id,
        "users": len(user_ids),
        "rows_removed": sum(removed.values()),
        "tables_touched": sorted(name for name, rows in removed.items() if rows),
        "per_table": removed,
        "purge_due_at": (requested_at + delay).isoformat(),
    }


def main(argv: list[str] | None = None, spark: SparkSession | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        conf = load_conf(args.env, args.overrides, lake=args.lake)
        salt_of(conf)
        conf.get("gdpr.purge_delay_hours")
    except (ConfigError, ValueError) as error:
        cli.fail_usage(parser, str(error))
    user_ids = requested_ids(args.user_ids, args.requests)
    if not user_ids:
        cli.fail_usage(parser, f"no user id in {args.requests}")
    configure_logging()
    report = JobReport("gdpr")

    spark = spark or start_spark("gdpr", conf, args.master)
    report.log_runs(RunLog(spark, conf, command_line(argv), hidden=user_ids))
    try:
        if args.purge_now:
            with purge_lease(spark, conf, "gdpr"):
                counts = erase(spark, conf, user_ids, purge_now=True)
                counts.update(purge_due(spark, conf, utc_now(), lease=False))
        else:
            counts = erase(spark, conf, user_ids, purge_now=False)
    except WriterActive as error:
        report.emit(status="refused", error=f"--purge-now refused, nothing erased or purged: {error}")
        return cli.EXIT_FAILED
    except Exception as error:  # each table's erasure is one commit; a rerun finishes the rest
        report.emit(status="failed", error=first_line(error))
        return cli.EXIT_FAILED
    report.add(**counts)
    report.emit()
    return cli.EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
