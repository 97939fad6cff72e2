"""Outcome events: the delay from a verdict to its event's delivery, with an idle worker.

    .venv/bin/python bench/events_bench.py [--events 100]

Runs against DATABASE_URL when set (migrated already, e.g. a phase of
bench/run.py), else against a fresh SQLite file it migrates itself. Starts a
real `manage.py db_worker --queue-name events --interval 0.2` (as `make run`
does) and a local receiver that verifies each event's signature with the
standardwebhooks library. Then, one at a time, records a customer's verdict
(Transaction.record_answer, what the answer webhook calls) and waits for its
event to arrive: the delay is from just before the verdict to the receiver
holding the verified event. Prints one JSON object; `measure()` returns the
same dict for bench/run.py. Rows it creates are deleted afterwards.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

WAIT = 30  # seconds an event may take before the run gives up on it


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _worker() -> subprocess.Popen:
    args = [sys.executable, "manage.py", "db_worker", "--queue-name", "events"]
    args += ["--interval", "0.2", "--no-reload", "--no-startup-delay"]
    env = dict(os.environ, LOG_LEVEL="WARNING")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    return subprocess.Popen(args, cwd=ROOT, env=env, **quiet)


def _arrived(receiver, msg_id: str) -> float | None:
    for request in list(receiver.received):
        if request["verified"] and request["headers"].get("webhook-id") == msg_id:
            return request["at"]
    return None


def measure(events: int = 100) -> dict:
    """Verdict → delivered, `events` times in a row; Django must be set up."""
    from django.db import connection

    from transactions.models import OutcomeEvent, Transaction
    from transactions.tests.events_kit import Receiver, endpoint_for

    receiver = Receiver().start()
    endpoint = endpoint_for(receiver)
    rows = Transaction.objects.bulk_create(
        [
            Transaction(
                public_id=f"BENCHEV{i:06d}",
                client_name="Bench Customer",
                card_last4="4821",
                phone="+919876543210",
                amount=Decimal("100.00"),
                bank_name="Bench Bank",
                merchant_name="Bench Merchant",
                transaction_date=date(2026, 1, 15),
            )
            for i in range(events + 1)
        ]
    )
    worker = _worker()
    delays = []
    try:
        for i, row in enumerate(Transaction.objects.filter(public_id__startswith="BENCHEV")):
            started = time.time()
            row.record_answer(True)
            msg_id = OutcomeEvent.objects.filter(transaction=row).values_list("msg_id", flat=True)[
                0
            ]
            deadline = time.monotonic() + WAIT
            while (arrived := _arrived(receiver, msg_id)) is None:
                if time.monotonic() > deadline or worker.poll() is not None:
                    raise SystemExit(f"event {i} not delivered within {WAIT} s")
                time.sleep(0.005)
            if i:  # the first one warms the worker up
                delays.append((arrived - started) * 1000)
    finally:
        worker.terminate()
        worker.wait(15)
        receiver.stop()
        Transaction.objects.filter(pk__in=[r.pk for r in rows]).delete()
        endpoint.delete()
    return {
        "database": connection.vendor,
        "events": len(delays),
        "p50_ms": round(_percentile(delays, 50), 1),
        "p99_ms": round(_percentile(delays, 99), 1),
        "max_ms": round(max(delays), 1),
    }


def main():
    from autocall_bench import _setup

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100)
    args = parser.parse_args()
    _setup()
    print(json.dumps(measure(args.events), indent=2))


if __name__ == "__main__":
    main()
