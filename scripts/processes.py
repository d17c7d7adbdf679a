"""What the servers the tests and the demo start (scripts/kafka_broker.py, scripts/spark_cluster.py)
share: a free loopback port, and stopping a process politely first. Standard library only."""

from __future__ import annotations

import os
import signal
import socket
import time

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def terminate(pid: int, gone, patience: float = 30.0) -> None:
    """SIGTERM (the server shuts down cleanly), SIGKILL when it takes longer than `patience`."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + patience
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.2)
    if not gone():
        os.kill(pid, signal.SIGKILL)
        while not gone():
            time.sleep(0.1)
