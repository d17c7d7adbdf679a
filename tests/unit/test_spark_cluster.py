"""The tests' standalone cluster (scripts/spark_cluster.py) waits for its master's own account of
the workers, whatever the master's web UI answers while it starts."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scripts.processes import LOOPBACK
from scripts.spark_cluster import SparkCluster

# What a Spark 4.2 master's UI answers at /json/ between starting its server and attaching the /json
# page (its root page, which takes every path it does not know), shortened from a real master's.
ROOT_PAGE = '<!DOCTYPE html><html data-bs-theme="light"><head></head><body><span>4.2.0</span></body></html>'


@pytest.fixture
def master_ui():
    """A loopback web server that answers /json/ as a starting master does: `replies` in turn, the
    last one from then on."""
    replies: list[tuple[str, str]] = []
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            content_type, body = replies[min(len(asked), len(replies)) - 1]
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], replies, asked
    server.shutdown()
    server.server_close()


def test_the_wait_goes_on_while_the_master_answers_json_with_its_root_page(master_ui, tmp_path):
    port, replies, asked = master_ui
    replies += [("text/html", ROOT_PAGE)] * 3
    replies.append(("application/json", json.dumps({"status": "ALIVE", "aliveworkers": 2})))
    cluster = SparkCluster(tmp_path, workers=2)
    cluster.webui_port = port

    cluster.wait_ready(timeout=30)

    assert len(asked) == 4 and set(asked) == {"/json/"}


def test_the_wait_ends_with_a_timeout_when_the_workers_never_come(master_ui, tmp_path):
    port, replies, asked = master_ui
    replies.append(("application/json", json.dumps({"status": "ALIVE", "aliveworkers": 1})))
    cluster = SparkCluster(tmp_path, workers=2)
    cluster.webui_port = port

    with pytest.raises(TimeoutError, match="2 workers were not alive within 1.0s"):
        cluster.wait_ready(timeout=1.0)
    assert asked
