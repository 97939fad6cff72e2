"""Outcome events under test: a bank's receiver on a real local port, and the events worker.

The receiver verifies every request with the standardwebhooks library, as a bank
would, and answers as told (200 by default, a status, or never within the
timeout). `run_event_tasks` does what `db_worker --queue-name events` does:
takes each due task of the events queue and runs the real task.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from transactions.models import EventType, WebhookEndpoint
from transactions.tasks import QUEUE

HANG = "hang"  # an answer: none until the test ends (longer than any timeout)


class Receiver:
    """A bank's endpoint. `answers`: what to answer next, in turn (then 200).

    An answer is a status, (status, body text), or HANG.
    """

    def __init__(self):
        self.secret = None
        self.answers: list = []
        self.received: list[dict] = []  # every request, verified or not
        self._release = threading.Event()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver._take(self, body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/ivr-events"

    def _take(self, handler, body: bytes):
        headers = dict(handler.headers.items())
        try:
            event = Webhook(self.secret).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            event, verified = json.loads(body or b"null"), False
        with self._lock:
            answer = self.answers.pop(0) if self.answers else 200
            self.received.append(
                {
                    "headers": headers,
                    "body": body,
                    "event": event,
                    "verified": verified,
                    "at": time.time(),
                }
            )
        if answer == HANG:
            self._release.wait(30)
            answer = 200
        status, text = answer if isinstance(answer, tuple) else (answer, "thanks")
        if not verified:
            status, text = 400, "bad signature"
        handler.send_response(status)
        handler.end_headers()
        handler.wfile.write(text.encode())

    def msg_ids(self, verified=True) -> list[str]:
        return [r["headers"]["webhook-id"] for r in self.received if r["verified"] == verified]

    def start(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


def endpoint_for(receiver: Receiver, event_types=None) -> WebhookEndpoint:
    """The receiver as an endpoint (every event type unless told), holding its secret."""
    hook = WebhookEndpoint.objects.create(
        url=receiver.url, event_types=event_types or EventType.values
    )
    receiver.secret = hook.secret
    return hook


def due_event_tasks():
    return DBTaskResult.objects.ready().filter(queue_name=QUEUE).order_by("enqueued_at")


def run_event_tasks(limit: int = 50) -> list[str]:
    """Run the events queue's due tasks, oldest first, as its worker does, until none is due."""
    outcomes = []
    for _ in range(limit):
        task = due_event_tasks().first()
        if task is None:
            return outcomes
        DBTaskResult.objects.filter(pk=task.pk).delete()  # taken, as a worker claims it
        outcomes.append(task.task.call(*task.args_kwargs["args"], **task.args_kwargs["kwargs"]))
    raise AssertionError(f"the events queue never ran dry: {outcomes[-5:]}")


def wait_for(condition, seconds: float = 10.0):
    """Poll `condition` until it is true, or fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


def make_due(delivery):
    """Time travel for one delivery: its retry is due now (the task waits for it too)."""
    now = timezone.now()
    type(delivery).objects.filter(pk=delivery.pk).update(next_attempt_at=now)
    DBTaskResult.objects.filter(queue_name=QUEUE, args_kwargs__args=[delivery.pk]).update(
        run_after=now
    )
