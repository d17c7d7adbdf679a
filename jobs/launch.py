"""Turn `spark-submit.sh JOB [options]` into a spark-submit call, after checking the arguments.

Bad arguments, unknown jobs, unreadable configuration and a missing lake (sql, daily: the job's
parser checks it) end here with one line on stderr and exit code 2, before any JVM starts.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jobs.common import cli
from jobs.common.config import PROJECT_ROOT, Conf, ConfigError, load_conf
from jobs.common.spark import LAUNCHED_FLAG, class_archive, class_archive_options, spark_settings

KEPT_CLASS_ARCHIVES = 3
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


def forget_old_class_archives(directory: Path, keep: int = KEPT_CLASS_ARCHIVES) -> None:
    """Delete all but the `keep` newest archives (~190 MB each): a new one comes with each new
    Spark installation or clone (CI's fresh clones). A JVM that already mapped one keeps it; one
    that starts later without its archive runs without."""
    archives = sorted(directory.glob("*.jsa"), key=lambda path: path.stat().st_mtime, reverse=True)
    for stale in archives[keep:]:
        stale.unlink(missing_ok=True)


def ensure_class_archive(conf: Conf, settings: dict[str, str]) -> dict[str, str]:
    """The settings, with the driver JVM mapping the class archive (spark.class_archive): made here
    the first time, by a short Spark run whose JVM writes it at its exit (~25 s, once per JDK and
    Spark installation). A failure to make it only costs the speed: the job runs without."""
    archive = class_archive()
    if not conf.get("spark.class_archive") or archive.is_file():
        return settings
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(f"{archive.stem}.{os.getpid()}.partial")
    # In local mode whatever the environment's master: the driver's classes are what it archives.
    dumping = {**settings, "spark.master": "local[2]", "spark.driver.extraJavaOptions":
               f"{settings.get('spark.driver.extraJavaOptions', '')} -XX:ArchiveClassesAtExit={partial}".strip()}
    sys.stderr.write("spark-submit.sh: archiving Spark's classes for faster starts (once, ~25 s)\n")
    with tempfile.TemporaryDirectory(prefix="shortvideo-class-archive-") as scratch:
        command = spark_submit_command("class-archive", [scratch], dumping,
                                       PROJECT_ROOT / "jobs" / "common" / "class_archive.py")
        finished = subprocess.run(command, env=launch_environment(dumping), capture_output=True, text=True)
    if finished.returncode == 0 and partial.is_file():
        partial.replace(archive)  # atomic: a concurrent start maps the whole archive or none
        forget_old_class_archives(archive.parent)
        java_options = f"{settings.get('spark.driver.extraJavaOptions', '')} {class_archive_options(archive)}"
        return {**settings, "spark.driver.extraJavaOptions": java_options.strip()}
    partial.unlink(missing_ok=True)
    tail = (finished.stderr.strip().splitlines() or ["no output"])[-1]
    sys.stderr.write(f"spark-submit.sh: warning: no class archive made (exit {finished.returncode}: {tail})\n")
    return settings


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

    settings = ensure_class_archive(conf, spark_settings(conf, args.master, job))
    command = spark_submit_command(job, job_args, settings)
    os.execvpe(command[0], command, launch_environment(settings))
    return cli.EXIT_FAILED  # unreachable: exec replaced this process


if __name__ == "__main__":
    sys.exit(main())
