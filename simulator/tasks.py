"""The call engine runs on the task worker (`manage.py db_worker`), never in a web request.

Each call plays on a thread of the worker, so calls run side by side as on
Twilio and a long call (a person on the softphone) holds up neither other
calls nor the worker's other tasks. A worker that dies takes its calls with
it; each call's watch task, on whichever worker runs next, then ends the call
as Twilio would end a call it lost.
"""

import atexit
import logging
import threading
import time
from datetime import timedelta

from django.db import connections
from django.tasks import task
from django.utils import timezone

from simulator.models import LOST_AFTER, SimCall

log = logging.getLogger(__name__)

# On shutdown (Ctrl-C, or `db_worker --batch` running out of tasks) calls get this
# long to finish; a call cut off is ended by its watch task, as a dropped line.
SHUTDOWN_GRACE_SECONDS = 15

_calls: list[threading.Thread] = []
_lock = threading.Lock()


@task()
def run_simulated_call(call_sid: str) -> str:
    # Queued before the call starts: a worker dying from here on cannot leave it unwatched.
    watch_simulated_call.using(run_after=timezone.now() + LOST_AFTER).enqueue(call_sid)
    thread = threading.Thread(
        target=_play, args=(call_sid,), name=f"simulated-call-{call_sid}", daemon=True
    )
    with _lock:
        _calls[:] = [t for t in _calls if t.is_alive()]
        _calls.append(thread)
    thread.start()
    return call_sid


@task()
def watch_simulated_call(call_sid: str) -> str:
    """End the call if its engine fell silent; while it plays, look again when it could be."""
    from simulator.engine import end_lost_call

    end_lost_call(call_sid)
    call = SimCall.objects.get(sid=call_sid)
    if call.ended:
        return call.state
    seen = call.engine_seen_at or call.created_at
    # Never sooner than a few seconds: another machine's clock may run behind ours.
    again = max(seen + LOST_AFTER, timezone.now() + timedelta(seconds=5))
    watch_simulated_call.using(run_after=again).enqueue(call_sid)
    return "watching"


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
