"""The call engine runs on the task worker (`manage.py db_worker`), never in a web request.

Each call plays on a thread of the worker, so calls run side by side as on
Twilio and a long call (a person on the softphone) holds up neither other
calls nor the worker's other tasks.
"""

import atexit
import logging
import threading
import time

from django.db import connections
from django.tasks import task

log = logging.getLogger(__name__)

# On shutdown (Ctrl-C, or `db_worker --batch` running out of tasks) calls get this
# long to finish; a call cut off stays unfinished, like a dropped line.
SHUTDOWN_GRACE_SECONDS = 15

_calls: list[threading.Thread] = []
_lock = threading.Lock()


@task()
def run_simulated_call(call_sid: str) -> str:
    thread = threading.Thread(
        target=_play, args=(call_sid,), name=f"simulated-call-{call_sid}", daemon=True
    )
    with _lock:
        _calls[:] = [t for t in _calls if t.is_alive()]
        _calls.append(thread)
    thread.start()
    return call_sid


def _play(call_sid: str):
    from simulator.engine import run_call

    try:
        run_call(call_sid)
    except Exception:
        log.exception("Simulated call %s stopped on an error", call_sid)
    finally:
        connections.close_all()


def wait_for_calls(timeout: float | None = None) -> bool:
    """Wait for the calls this process is playing; True when all have ended."""
    with _lock:
        running = list(_calls)
    deadline = None if timeout is None else time.monotonic() + timeout
    for thread in running:
        thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
    return not any(t.is_alive() for t in running)


atexit.register(wait_for_calls, SHUTDOWN_GRACE_SECONDS)
