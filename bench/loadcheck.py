"""The load test's database and worker sides.

loadcheck.py setup N [FIRST]  N transactions (numbered from FIRST), for a mix of personas
loadcheck.py report           every row's status and calls, placing errors and tasks, as JSON
loadcheck.py worker ARGS...   `manage.py db_worker ARGS`, the simulator's webhooks timed

The worker's timing is the load test's latency figure: each webhook from
sending the request to reading the whole answer, which is what Twilio waits
for. gunicorn's own figure (its access log) starts only once a web worker
takes the request, so it leaves out the wait in the listen queue when every
worker is busy, the wait that grows with the load.
"""

import io
import json
import os
import sys
import threading
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivr_project.settings")

import django

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db.models import Count  # noqa: E402

from transactions.models import CallAttempt, Status, Transaction  # noqa: E402
from transactions.roles import ANALYSTS  # noqa: E402

USERNAME = "load-analyst"
PASSWORD = "load-test-password-not-secret"  # noqa: S105 (a throwaway database)

# The simulator's personas, by the number's last digit (simulator/personas.py),
# and the status each one's call must leave (voiceflow/flow.py).
EXPECTED = {
    "0": Status.RESOLVED,  # confirms by voice
    "1": Status.FRAUD,  # denies, physical card
    "2": Status.FRAUD,  # denies, virtual card
    "3": Status.NOT_ANSWERED,  # never answers
    "4": Status.NOT_ANSWERED,  # busy
    "5": Status.NOT_ANSWERED,  # voicemail
    "6": Status.DISCONNECTED,  # answers, stays silent
    "7": Status.DISCONNECTED,  # mumbles
    "8": Status.RESOLVED,  # confirms on the keypad
    "9": Status.FRAUD,  # denies on the keypad
    "failed": Status.DISCONNECTED,  # the line fails (number ends in 0000)
}
PERSONA_LABELS = {
    "0": "confirms by voice",
    "1": "denies, physical card",
    "2": "denies, virtual card",
    "3": "never answers",
    "4": "busy",
    "5": "voicemail",
    "6": "silent",
    "7": "mumbles",
    "8": "confirms on keypad",
    "9": "denies on keypad",
    "failed": "line fails",
}


def _phone(n: int, persona: str) -> str:
    if persona == "failed":
        return f"+919{n:05d}0000"  # valid for every n below 100,000
    # The 5 keeps a number for persona 0 from ending in 0000 (the failing line).
    return f"+9197{n:05d}5{n % 10}{persona}"


def setup(count: int, first: int = 0):
    user, created = User.objects.get_or_create(username=USERNAME)
    if created:
        # Once only: a new password hash would sign the running load test's analyst out.
        user.set_password(PASSWORD)
        user.save()
        user.groups.add(Group.objects.get(name=ANALYSTS))
    personas = list(EXPECTED)
    rows, expected = [], {}
    for n in range(first, first + count):
        persona = personas[n % len(personas)]
        public_id = f"LT{n:05d}"
        rows.append(
            Transaction(
                public_id=public_id,
                client_name=f"Load Customer {n}",
                card_last4=f"{n % 10000:04d}",
                phone=_phone(n, persona),
                amount=Decimal("1234.50"),
                bank_name="Example Bank",
                merchant_name="Croma Pune",
                transaction_date=date(2025, 3, 15),
            )
        )
        expected[public_id] = {"persona": persona, "status": EXPECTED[persona]}
    Transaction.objects.bulk_create(rows)
    print(json.dumps({"username": USERNAME, "password": PASSWORD, "rows": expected}))


def report():
    from django_tasks_db.models import DBTaskResult

    rows = {
        t["public_id"]: t
        for t in Transaction.objects.filter(public_id__startswith="LT")
        .annotate(n_calls=Count("calls"))
        .values("public_id", "status", "queue_state", "n_calls")
    }
    attempts = CallAttempt.objects.filter(transaction__public_id__startswith="LT")
    tasks = DBTaskResult.objects.values("status").annotate(n=Count("id"))
    print(
        json.dumps(
            {
                "rows": rows,
                "attempts": attempts.count(),
                "ended": attempts.filter(ended_at__isnull=False).count(),
                "placing_errors": list(
                    attempts.exclude(error_code="", error_message="")
                    .exclude(transaction__phone__endswith="0000")
                    .values("transaction__public_id", "error_code", "error_message")[:1000]
                ),
                "tasks": {t["status"]: t["n"] for t in tasks},
            },
            default=str,
        )
    )


FINAL_CALL_STATUSES = {"completed", "busy", "no-answer", "failed", "canceled"}


class _Answer(io.BytesIO):
    """An answer already read to its end, as the call engine uses urlopen's."""

    def __init__(self, status: int, body: bytes):
        super().__init__(body)
        self.status = status


def _timed(urlopen, log_path: str):
    """urlopen that appends each request's timing to `log_path`, a JSON object a line."""
    fd = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    lock = threading.Lock()

    def timed_urlopen(request, *args, **kwargs):
        url = request.full_url
        query = urlsplit(url).query
        params = dict(parse_qsl(request.data.decode() if request.data else query))
        started, t0 = time.time(), time.perf_counter()
        status = 0  # unreachable or timed out
        try:
            with urlopen(request, *args, **kwargs) as response:
                status = response.status
                return _Answer(status, response.read())
        except HTTPError as e:
            status = e.code
            raise
        finally:
            line = {
                "t": started,
                "ms": (time.perf_counter() - t0) * 1000,
                "status": status,
                "path": urlsplit(url).path,
                "sid": params.get("CallSid", ""),
                "call_status": params.get("CallStatus", ""),
            }
            with lock:
                os.write(fd, (json.dumps(line) + "\n").encode())

    return timed_urlopen


def worker(args: list[str]):
    from django.core.management import execute_from_command_line

    import simulator.engine

    simulator.engine.urlopen = _timed(simulator.engine.urlopen, os.environ["LOADTEST_WEBHOOK_LOG"])
    execute_from_command_line(["manage.py", "db_worker", *args])


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(*map(int, sys.argv[2:4]))
    elif sys.argv[1] == "worker":
        worker(sys.argv[2:])
    else:
        report()
