"""Reports at scale: spread the imported alerts over a year, add 3 calls each, fill the rollup.

    .venv/bin/python bench/reports_bench.py [--calls-per-alert 3] [--days 365] [--rollup-days 31]

Run by bench/run.py on its big database (migrated and imported already), with
that phase's environment. The importer stamps every alert "now": here alert i
arrives i/N of the way back over `days` days, within 12 hours of its day, and
gets `calls-per-alert` ended calls (bulk, then retries; 1 in 10 answered with
a verdict, some busy or voicemail), plus a prompt and an answer on every
fifth alert's first call. Then `rebuild_reports` fills the rollup for the
last `rollup-days` days, as the worker would have kept it. Prints one JSON
object: what was made, how long it took, the pages to time and a supervisor's cookie.
"""

import argparse
import io
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import prepare  # sets Django up
from django.core.management import call_command
from django.db import transaction
from django.db.models.functions import Mod
from django.utils import timezone

from reports import figures
from transactions.models import (
    CallAttempt,
    CallEvent,
    CallOutcome,
    CallTrigger,
    Transaction,
)
from transactions.roles import SUPERVISORS

SLOTS = 12  # hours of a day over which a day's alerts arrive
BLOCK = 20_000
# (trigger, outcome) of an alert's 1st, 2nd, 3rd... call, by alert number % 10.
PATTERNS = {
    0: [CallOutcome.CONFIRMED],
    1: [CallOutcome.DENIED],
    2: [CallOutcome.NO_ANSWER, CallOutcome.CONFIRMED],
    3: [CallOutcome.BUSY, CallOutcome.DENIED],
    4: [CallOutcome.VOICEMAIL, CallOutcome.NO_ANSWER, CallOutcome.CONFIRMED],
}
DEFAULT = [CallOutcome.NO_ANSWER, CallOutcome.BUSY, CallOutcome.VOICEMAIL]
ANSWERED = (CallOutcome.CONFIRMED, CallOutcome.DENIED)
OFFSETS = (timedelta(minutes=10), timedelta(minutes=30), timedelta(hours=3, minutes=30))


def spread_alerts(ids: list[int], days: int, now) -> list:
    """Give alert i its arrival time; returns the arrival of each, in `ids` order."""
    n = len(ids)
    arrivals = []
    with transaction.atomic():
        start = 0
        for day in range(days):
            end = (day + 1) * n // days
            if end == start:
                continue
            for slot in range(SLOTS):
                a = start + slot * (end - start) // SLOTS
                b = start + (slot + 1) * (end - start) // SLOTS
                if a == b:
                    continue
                when = now - timedelta(days=day, hours=slot)
                Transaction.objects.filter(id__gte=ids[a], id__lte=ids[b - 1]).update(
                    created_at=when
                )
                arrivals += [when] * (b - a)
            start = end
    return arrivals


def add_calls(ids: list[int], arrivals: list, per_alert: int) -> tuple[int, int]:
    calls = events = 0
    pending = []
    for i, (txn_id, arrived) in enumerate(zip(ids, arrivals, strict=True)):
        outcomes = (PATTERNS.get(i % 10, DEFAULT) + DEFAULT)[:per_alert]
        for k, outcome in enumerate(outcomes):
            at = arrived + OFFSETS[k % len(OFFSETS)] + timedelta(days=k // len(OFFSETS))
            answered = outcome in ANSWERED
            pending.append(
                CallAttempt(
                    transaction_id=txn_id,
                    trigger=CallTrigger.BULK if k == 0 else CallTrigger.RETRY,
                    created_at=at,
                    answered_at=at + timedelta(seconds=20) if answered else None,
                    ended_at=at + timedelta(minutes=2),
                    duration_seconds=60 + i % 240 if answered else None,
                    twilio_status="completed",
                    outcome=outcome,
                )
            )
        if len(pending) >= BLOCK:
            calls += _write(pending)
            pending = []
    calls += _write(pending)
    # A prompt and its answer on every fifth alert's first call.
    first = (
        CallAttempt.objects.annotate(m=Mod("transaction_id", 5))
        .filter(m=0, trigger=CallTrigger.BULK)
        .values_list("id", flat=True)
    )
    batch = []
    for k, call_id in enumerate(first.iterator(chunk_size=BLOCK)):
        batch.append(CallEvent(call_id=call_id, kind=CallEvent.Kind.PROMPT, step="0"))
        digits, speech = ("1", "") if k % 2 else ("", "yes")
        batch.append(
            CallEvent(
                call_id=call_id,
                kind=CallEvent.Kind.ANSWER,
                step="0",
                digits=digits,
                speech_result=speech,
            )
        )
        if len(batch) >= BLOCK:
            events += len(CallEvent.objects.bulk_create(batch, batch_size=5000))
            batch = []
    events += len(CallEvent.objects.bulk_create(batch, batch_size=5000))
    return calls, events


def _write(attempts) -> int:
    with transaction.atomic():
        return len(CallAttempt.objects.bulk_create(attempts, batch_size=5000))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls-per-alert", type=int, default=3)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--rollup-days", type=int, default=31)
    args = parser.parse_args()
    now = timezone.now()
    started = time.monotonic()
    ids = list(Transaction.objects.order_by("id").values_list("id", flat=True))
    # Calls of the past: bulk_create would stamp them "now" (auto_now_add) in this process.
    CallAttempt._meta.get_field("created_at").auto_now_add = False
    arrivals = spread_alerts(ids, args.days, now)
    calls, events = add_calls(ids, arrivals, args.calls_per_alert)
    prepare._as_autovacuum_would()
    prepared = time.monotonic() - started

    started = time.monotonic()
    call_command("rebuild_reports", "--days", args.rollup_days, stdout=io.StringIO())
    rollup = time.monotonic() - started
    today = timezone.localdate()
    month = (today - timedelta(days=29)).isoformat()
    print(
        json.dumps(
            {
                "alerts": len(ids),
                "calls": calls,
                "events": events,
                "prepare_seconds": round(prepared, 1),
                "rollup_days": args.rollup_days,
                "rollup_seconds_per_day": round(rollup / args.rollup_days, 2),
                "calls_today": CallAttempt.objects.filter(
                    created_at__gte=figures.day_bounds(today)[0]
                ).count(),
                "cookie": prepare._session_cookie("bench-supervisor", SUPERVISORS),
                "pages": {
                    "reports_7d": "/reports",
                    "reports_30d": f"/reports?from={month}",
                    "contact_rules_7d": "/reports/contact-rules",
                    "contact_rules_30d": f"/reports/contact-rules?from={month}",
                },
            }
        )
    )


if __name__ == "__main__":
    main()
