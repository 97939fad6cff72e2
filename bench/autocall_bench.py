"""Automatic calling under load: time to enqueue 10,000 calls, and the worker's cost per call.

    .venv/bin/python bench/autocall_bench.py [--rows 10000] [--calls 200]

Runs against DATABASE_URL when set (migrated already, e.g. a phase of
bench/run.py), else against a fresh SQLite file it migrates itself. Prints one
JSON object; `measure()` returns the same dict for bench/run.py.

- enqueue: `enqueue_calls` over `rows` new Pending rows (calling hours checked
  per number, audit entries written), wall-clock seconds.
- worker: `calls` rows dispatched and placed by a real `db_worker --batch` run
  in this process, against a local stand-in for Twilio's REST API. The
  overhead per call is the worker's time per call minus a bare REST request
  to the same stand-in (new client each time, as request_call does), i.e.
  what the task queue, our claims, checks and bookkeeping cost.
Rows it creates are deleted afterwards.
"""

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup() -> bool:
    """Configure and start Django; True when this run made its own database."""
    own_db = not os.environ.get("DATABASE_URL")
    if own_db:
        path = Path(tempfile.mkdtemp(prefix="autocall-bench-")) / "bench.sqlite3"
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivr_project.settings")
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DEBUG", "false")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("PUBLIC_URL", "http://127.0.0.1:8000")
    import django

    django.setup()
    if own_db:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    return own_db


def _rows(prefix: str, n: int) -> list:
    from transactions.models import Transaction

    phones = ["+919876543210", "+442079460123", "+12125550123", "+14155550101"]
    Transaction.objects.bulk_create(
        [
            Transaction(
                public_id=f"{prefix}{i:06d}",
                client_name="Bench Customer",
                card_last4="4821",
                phone=phones[i % len(phones)],
                amount=Decimal("100.00"),
                bank_name="Bench Bank",
                merchant_name="Bench Merchant",
                transaction_date=date(2026, 1, 15),
            )
            for i in range(n)
        ],
        batch_size=1000,
    )
    return Transaction.objects.filter(public_id__startswith=prefix)


def measure_enqueue(rows: int) -> dict:
    from voiceflow import autocall

    queryset = _rows("BENCHQ", rows)
    try:
        started = time.perf_counter()
        result = autocall.enqueue_calls(queryset, source="bench")
        seconds = time.perf_counter() - started
    finally:
        queryset.delete()
    return {
        "enqueue_rows": rows,
        "enqueue_seconds": round(seconds, 3),
        "enqueue_per_second": round(rows / seconds) if seconds else None,
        "enqueue_queued": result.queued,
        "enqueue_scheduled": result.scheduled,
    }


def measure_worker(calls: int) -> dict:
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from voiceflow import autocall, tasks
    from voiceflow.calls import twilio_client
    from voiceflow.tests.twilio_standin import TwilioStandIn

    standin = TwilioStandIn(settings.TWILIO_SID, settings.TWILIO_AUTH_TOKEN).start()
    saved = (settings.TWILIO_API_BASE_URL, settings.CALLS_PER_SECOND, settings.CALLING_HOURS)
    # The throttle and calling hours would make this a measure of waiting.
    settings.TWILIO_API_BASE_URL = standin.url
    settings.CALLS_PER_SECOND = 1_000_000
    settings.CALLING_HOURS = "00:00-24:00"
    queryset = _rows("BENCHW", calls)
    try:
        # A new client per request, as request_call() makes one.
        started = time.perf_counter()
        for _ in range(calls):
            twilio_client().calls.create(
                to="+919876543210", from_=settings.TWILIO_NUMBER, url="http://x/"
            )
        rest = (time.perf_counter() - started) / calls
        standin.calls.clear()

        autocall.enqueue_calls(queryset, source="bench")
        started = time.perf_counter()
        autocall.dispatch(timezone.now(), tasks._enqueue_placement, horizon=timezone.timedelta(1))
        call_command(
            "db_worker",
            batch=True,
            interval=0,
            startup_delay=False,
            reload=False,
            verbosity=0,
            queue_name="default",  # the calls' worker, as `make run` starts it
        )
        per_call = (time.perf_counter() - started) / calls
        placed = len(standin.calls)
    finally:
        standin.stop()
        settings.TWILIO_API_BASE_URL, settings.CALLS_PER_SECOND, settings.CALLING_HOURS = saved
        DBTaskResult.objects.filter(task_path=tasks.place_automatic_call.module_path).filter(
            args_kwargs__args__0__in=list(queryset.values_list("pk", flat=True))
        ).delete()
        queryset.delete()
    return {
        "worker_calls": calls,
        "worker_calls_placed": placed,
        "worker_ms_per_call": round(per_call * 1000, 2),
        "rest_request_ms": round(rest * 1000, 2),
        "worker_overhead_ms_per_call": round((per_call - rest) * 1000, 2),
    }


def measure(rows: int = 10_000, calls: int = 200) -> dict:
    """Both measurements, for bench/run.py (Django must be set up)."""
    from django.db import connection

    return {"database": connection.vendor, **measure_enqueue(rows), **measure_worker(calls)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    _setup()
    print(json.dumps(measure(args.rows, args.calls), indent=2))


if __name__ == "__main__":
    main()
