"""Turn `spark-submit.sh JOB [options]` into a spark-submit call, after checking the arguments.

Bad arguments, unknown jobs, unreadable configuration and a missing lake (sql, daily: the job's
parser checks it) end here with one line on stderr and exit code 2, before any JVM starts.
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path

from jobs.common import cli
from jobs.common.config import PROJECT_ROOT, ConfigError, load_conf
from jobs.common.spark import LAUNCHED_FLAG, spark_settings

JOBS = ("generate", "ingest", "dims", "daily", "archive", "gdpr", "maintain", "sql", "report", "demo")


def usage_error(message: str) -> int:
    sys.stderr.write(f"spark-submit.sh: error: {message}\n")
    return cli.EXIT_USAGE


def spark_submit_binary() -> str:
    beside_python = Path(sys.executable).with_name("spark-submit")
    return str(beside_python) if beside_python.exists() else (shutil.which("spark-submit") or "spark-submit")


def spark_submit_command(job: str, job_args: list[str], settings: dict[str, str], script: Path | None = None) -> list[str]:
    """The spark-submit call for a job (or for another script, e.g. a benchmark's baseline)."""
    settings = dict(settings)
    command = [spark_submit_binary(), "--master", settings.pop("spark.master"), "--name", f"shortvideo-{job}"]
    packages = settings.pop("spark.jars.packages", "")
    if packages:
        command += ["--packages", packages]
    jars = settings.pop("spark.jars", "")
    if jars:
        command += ["--jars", jars]
    java_options = settings.pop("spark.driver.extraJavaOptions", "")
    command += ["--driver-java-options", java_options]
    for key, value in sorted(settings.items()):
        command += ["--conf", f"{key}={value}"]
    return [*command, str(script or PROJECT_ROOT / "jobs" / f"{job}.py"), *job_args]


def launch_environment(settings: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")])),
        LAUNCHED_FLAG: "1",
    })
    if settings["spark.master"].startswith("local"):
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return env


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(f"usage: spark-submit.sh JOB [options]   (JOB: {', '.join(JOBS)}, or test)\n")
        return cli.EXIT_OK if argv else cli.EXIT_USAGE
    job, job_args = argv[0], argv[1:]
    if job not in JOBS:
        return usage_error(f"unknown job '{job}' (known: {', '.join(JOBS)})")

    module = importlib.import_module(f"jobs.{job}")
    args = module.build_parser().parse_args(job_args)  # exits 2 with one line on bad input
    try:
        conf = load_conf(args.env, args.overrides)
    except ConfigError as error:
        return usage_error(str(error))

    settings = spark_settings(conf, args.master)
    command = spark_submit_command(job, job_args, settings)
    os.execvpe(command[0], command, launch_environment(settings))
    return cli.EXIT_FAILED  # unreachable: exec replaced this process


if __name__ == "__main__":
    sys.exit(main())
