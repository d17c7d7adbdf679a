"""Named crash points, so tests can kill a job at an exact step (as a power cut would).

Off unless SHORTVIDEO_FAILPOINT names a point, e.g. `after_facts:1` (batch 1) or
`during_facts:0` (ingest), `after_change_log:1` or `after_dimension:1` (dims). The whole
process group (Python driver and its JVM) gets SIGKILL: no shutdown hook, no clean-up, no
chance to finish a commit. With SHORTVIDEO_FAILPOINT_ACTION=raise the point raises instead, so
a job run inside a test's process fails there as a crash would leave it (its commits so far made).
"""

from __future__ import annotations

import os
import signal
import threading

ENV = "SHORTVIDEO_FAILPOINT"
DELAY_ENV = "SHORTVIDEO_FAILPOINT_DELAY"
ACTION_ENV = "SHORTVIDEO_FAILPOINT_ACTION"


class FailpointReached(RuntimeError):
    """A failpoint armed with SHORTVIDEO_FAILPOINT_ACTION=raise."""


def _kill_everything() -> None:
    try:
        os.killpg(os.getpgid(0), signal.SIGKILL)
    finally:
        os.kill(os.getpid(), signal.SIGKILL)


def _armed(name: str, batch_id: int) -> bool:
    return os.environ.get(ENV) == f"{name}:{batch_id}"


def failpoint(name: str, batch_id: int) -> None:
    """Die here, now, if asked to (or raise, if asked to raise)."""
    if _armed(name, batch_id):
        if os.environ.get(ACTION_ENV) == "raise":
            raise FailpointReached(f"failpoint {name}:{batch_id} reached")
        _kill_everything()


def failpoint_soon(name: str, batch_id: int) -> None:
    """Die a moment from now, in the middle of whatever the job starts next (e.g. a Delta write)."""
    if _armed(name, batch_id):
        delay = float(os.environ.get(DELAY_ENV, "0.5"))
        threading.Timer(delay, _kill_everything).start()
