"""A single-node Apache Kafka for tests and the demo: KRaft mode, broker and controller in one JVM,
on loopback ports, its data in a directory of its own.

Its jars (conf [kafka] broker_package, with its runtime dependencies) come from Maven Central through
`mvn dependency:copy-dependencies` into a cache folder (SHORTVIDEO_CACHE, default ~/.cache/shortvideo),
once; Apache's download site is not needed. Python's standard library only, so it runs before the
project's environment exists.

    scripts/kafka-broker.sh start [--dir DIR] [--port N]   # prints the bootstrap address, runs on
    scripts/kafka-broker.sh stop [--dir DIR]
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import struct
import subprocess
import sys
import time
import tomllib
import uuid
from pathlib import Path

from scripts.processes import LOOPBACK, alive, free_port, terminate

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf" / "local.toml"
CACHE = Path(os.environ.get("SHORTVIDEO_CACHE", Path.home() / ".cache" / "shortvideo"))
LOG_FILE, PID_FILE, PORT_FILE = "broker.log", "broker.pid", "broker.port"

POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>shortvideo</groupId><artifactId>kafka-broker-jars</artifactId><version>0</version>
  <packaging>pom</packaging>
  <dependencies>
{dependencies}
  </dependencies>
</project>
"""
DEPENDENCY = "    <dependency><groupId>{}</groupId><artifactId>{}</artifactId><version>{}</version></dependency>"

LOG4J = """status = warn
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{ISO8601} %-5p [%c{1}] %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
logger.kafka.name = kafka
logger.kafka.level = warn
logger.apache.name = org.apache.kafka
logger.apache.level = warn
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
logger.broker.name = kafka.server.BrokerServer
logger.broker.level = info
"""


def settings() -> dict:
    with CONF.open("rb") as handle:
        return tomllib.load(handle)["kafka"]["broker"]


def jars(conf: dict) -> Path:
    """The broker's classpath folder, resolved once into the cache."""
    packages = conf["packages"]
    folder = CACHE / ("kafka-broker-" + "_".join(p.split(":")[-1] for p in packages[:1]))
    done = folder / ".complete"
    if done.exists() and done.read_text() == "\n".join(packages):
        return folder / "jars"
    folder.mkdir(parents=True, exist_ok=True)
    entries = "\n".join(DEPENDENCY.format(*p.split(":")) for p in packages)
    (folder / "pom.xml").write_text(POM.format(dependencies=entries))
    result = subprocess.run(
        ["mvn", "-q", "-B", "dependency:copy-dependencies", "-DincludeScope=runtime",
         f"-DoutputDirectory={folder / 'jars'}"],
        cwd=folder, capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"mvn could not resolve {packages}:\n{result.stdout[-3000:]}{result.stderr[-3000:]}")
    done.write_text("\n".join(packages))
    return folder / "jars"


def cluster_id() -> str:
    """A Kafka Uuid as StorageTool random-uuid prints it (URL-safe base64, no padding)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def server_properties(data: Path, port: int, controller_port: int, partitions: int) -> str:
    return "\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.voters=1@{LOOPBACK}:{controller_port}",
        f"listeners=PLAINTEXT://{LOOPBACK}:{port},CONTROLLER://{LOOPBACK}:{controller_port}",
        f"advertised.listeners=PLAINTEXT://{LOOPBACK}:{port}",
        "controller.listener.names=CONTROLLER",
        "inter.broker.listener.name=PLAINTEXT",
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        f"log.dirs={data}",
        f"num.partitions={partitions}",
        "auto.create.topics.enable=true",
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        "",
    ])


def metadata_ready(port: int, timeout: float = 5.0) -> bool:
    """True when the broker answers a Metadata request (v4) naming at least one live broker and a
    controller: the port accepts connections and the broker has joined its KRaft quorum."""
    client = b"shortvideo-broker-check"
    body = struct.pack(">hhih", 3, 4, 1, len(client)) + client + struct.pack(">i?", -1, False)
    try:
        with socket.create_connection((LOOPBACK, port), timeout=timeout) as conn:
            conn.sendall(struct.pack(">i", len(body)) + body)
            size = struct.unpack(">i", _read(conn, 4))[0]
            reply = _read(conn, size)
    except OSError:
        return False
    # correlation id, throttle time, brokers: [node id, host, port, rack]
    position = 8
    (brokers,) = struct.unpack_from(">i", reply, position)
    position += 4
    for _ in range(max(brokers, 0)):
        position += 4
        (host_length,) = struct.unpack_from(">h", reply, position)
        position += 2 + host_length + 4
        (rack_length,) = struct.unpack_from(">h", reply, position)
        position += 2 + max(rack_length, 0)
    (cluster_length,) = struct.unpack_from(">h", reply, position)
    position += 2 + max(cluster_length, 0)
    (controller,) = struct.unpack_from(">i", reply, position)
    return brokers > 0 and controller >= 0


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        data += chunk
    return data


class KafkaBroker:
    """One broker+controller JVM whose data and log live in `workdir`."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.conf = settings()
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def bootstrap(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def log(self) -> Path:
        return self.workdir / LOG_FILE

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no broker log)"

    def start(self) -> "KafkaBroker":
        self.workdir.mkdir(parents=True, exist_ok=True)
        classpath = str(jars(self.conf) / "*")
        (self.workdir / "log4j2.properties").write_text(LOG4J)
        properties = self.workdir / "server.properties"
        properties.write_text(server_properties(self.workdir / "data", self.port, free_port(),
                                                int(self.conf["partitions"])))
        java = ["java", f"-Xmx{self.conf['heap']}", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile=file:{self.workdir / 'log4j2.properties'}", "-cp", classpath]
        with self.log.open("ab") as log:
            formatted = subprocess.run([*java, "kafka.tools.StorageTool", "format", "--ignore-formatted",
                                        "--cluster-id", cluster_id(), "--config", str(properties)],
                                       stdout=log, stderr=subprocess.STDOUT)
            if formatted.returncode != 0:
                raise RuntimeError(f"formatting the broker's storage failed:\n{self.log_tail()}")
            self.process = subprocess.Popen([*java, "kafka.Kafka", str(properties)], stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        (self.workdir / PID_FILE).write_text(str(self.process.pid))
        (self.workdir / PORT_FILE).write_text(str(self.port))
        self.wait_ready(float(self.conf["start_timeout_seconds"]))
        return self

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"the broker exited with {self.process.returncode}:\n{self.log_tail()}")
            if metadata_ready(self.port):
                return
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"the broker did not answer metadata requests within {timeout}s:\n{self.log_tail()}")

    def stop(self) -> None:
        pid_file = self.workdir / PID_FILE
        if self.process is not None:
            terminate(self.process.pid, lambda: self.process.poll() is not None)
        elif pid_file.exists():
            pid = int(pid_file.read_text())
            terminate(pid, lambda: not alive(pid))
        pid_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kafka-broker.sh", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--dir", type=Path, default=ROOT / "work" / "kafka", help="data and log (default: work/kafka)")
    parser.add_argument("--port", type=int, help="client port on 127.0.0.1 (default: a free one)")
    args = parser.parse_args(argv)
    broker = KafkaBroker(args.dir, args.port)
    if args.command == "stop":
        broker.stop()
        return 0
    if (args.dir / PID_FILE).exists() and alive(int((args.dir / PID_FILE).read_text())):
        sys.stderr.write(f"kafka-broker.sh: a broker already runs from {args.dir} (stop it first)\n")
        return 1
    try:
        broker.start()
    except (RuntimeError, TimeoutError) as error:
        sys.stderr.write(f"kafka-broker.sh: {error}\n")
        return 1
    sys.stdout.write(f"{broker.bootstrap}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
