"""A Spark standalone cluster on loopback for tests and the demo: one master and N workers, each its
own JVM, started with the PySpark distribution's `bin/spark-class` (the pip package has no
`sbin/start-*.sh` scripts), their logs and work directories in a folder of their own.

    scripts/spark-cluster.sh start [--dir DIR] [--workers N]   # prints the master URL, runs on
    scripts/spark-cluster.sh stop [--dir DIR]

Then `./spark-submit.sh JOB --master spark://127.0.0.1:PORT ...` runs a job on it. Sizes and the start
deadline: conf/local.toml [spark.standalone]. Needs the project's environment (pyspark): the shell
script runs it with .venv's Python.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

from scripts.processes import LOOPBACK, alive, free_port, terminate

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf" / "local.toml"
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"
STATE_FILE = "cluster.json"  # the master's URL, web UI port and the processes' ids


def settings() -> dict:
    with CONF.open("rb") as handle:
        return tomllib.load(handle)["spark"]["standalone"]


def spark_home() -> Path:
    from pyspark.find_spark_home import _find_spark_home

    return Path(_find_spark_home())


class SparkCluster:
    """A master and `workers` workers whose logs and work directories live in `workdir`."""

    def __init__(self, workdir: Path, workers: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.conf = settings()
        self.workers = workers or int(self.conf["workers"])
        self.port = free_port()
        self.webui_port = free_port()
        self.processes: list[subprocess.Popen] = []

    @property
    def master_url(self) -> str:
        return f"spark://{LOOPBACK}:{self.port}"

    def log_tail(self, chars: int = 4000) -> str:
        """The end of every daemon's log, and of the executors' stderr files under the work dirs."""
        logs = sorted(self.workdir.glob("*.log")) + sorted(self.workdir.glob("worker-*/app-*/*/stderr"))
        return "\n".join(f"--- {log.relative_to(self.workdir)} ---\n{log.read_text(errors='replace')[-chars:]}"
                         for log in logs) or "(no cluster log)"

    def _start(self, name: str, *arguments: str) -> None:
        environment = {**os.environ, "SPARK_HOME": str(spark_home()), "SPARK_LOCAL_IP": LOOPBACK,
                       "SPARK_DAEMON_MEMORY": self.conf["daemon_memory"]}
        with (self.workdir / f"{name}.log").open("ab") as log:
            process = subprocess.Popen([str(spark_home() / "bin" / "spark-class"), *arguments], env=environment,
                                       stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True)
        self.processes.append(process)

    def start(self) -> "SparkCluster":
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._start("master", MASTER_CLASS, "--host", LOOPBACK, "--port", str(self.port),
                    "--webui-port", str(self.webui_port))
        for number in range(1, self.workers + 1):
            work = self.workdir / f"worker-{number}"
            work.mkdir(exist_ok=True)
            self._start(f"worker-{number}", WORKER_CLASS, self.master_url, "--host", LOOPBACK,
                        "--cores", str(self.conf["worker_cores"]), "--memory", self.conf["worker_memory"],
                        "--work-dir", str(work), "--webui-port", str(free_port()))
        (self.workdir / STATE_FILE).write_text(json.dumps(
            {"master_url": self.master_url, "webui_port": self.webui_port,
             "pids": [process.pid for process in self.processes]}))
        self.wait_ready(float(self.conf["start_timeout_seconds"]))
        return self

    def status(self) -> dict:
        """The master's own account (its web UI's /json): alive workers, running and completed apps."""
        with urllib.request.urlopen(f"http://{LOOPBACK}:{self.webui_port}/json/", timeout=5) as reply:
            return json.load(reply)

    def wait_ready(self, timeout: float) -> None:
        """Until the master names `workers` alive workers; a daemon that exits stops the wait."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(process.poll() is not None for process in self.processes):
                self.stop()
                raise RuntimeError(f"a cluster process exited while starting:\n{self.log_tail()}")
            try:
                if self.status().get("aliveworkers", 0) >= self.workers:
                    return
            except (OSError, ValueError):
                # The master's web UI is not up yet, or not all of it: Spark starts the server before it
                # attaches the pages, one at a time, and until /json is attached the root page answers
                # /json/ with HTML (seen in CI on a busy machine).
                pass
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"{self.workers} workers were not alive within {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Workers first (their executors with them), then the master."""
        state = self.workdir / STATE_FILE
        if self.processes:  # started here: poll() reaps them (a dead child is a zombie until then)
            for process in reversed(self.processes):
                terminate(process.pid, lambda process=process: process.poll() is not None)
        elif state.exists():  # started by another process (spark-cluster.sh start)
            for pid in reversed(json.loads(state.read_text())["pids"]):
                terminate(pid, lambda pid=pid: not alive(pid))
        state.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spark-cluster.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, default=ROOT / "work" / "spark-cluster",
                        help="logs and work directories (default: work/spark-cluster)")
    parser.add_argument("--workers", type=int, help="number of workers (default: conf [spark.standalone])")
    args = parser.parse_args(argv)
    cluster = SparkCluster(args.dir, args.workers)
    if args.command == "stop":
        cluster.stop()
        return 0
    state = args.dir / STATE_FILE
    if state.exists() and any(alive(pid) for pid in json.loads(state.read_text())["pids"]):
        sys.stderr.write(f"spark-cluster.sh: a cluster already runs from {args.dir} (stop it first)\n")
        return 1
    try:
        cluster.start()
    except (RuntimeError, TimeoutError) as error:
        sys.stderr.write(f"spark-cluster.sh: {error}\n")
        return 1
    sys.stdout.write(f"{cluster.master_url}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
