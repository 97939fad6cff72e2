"""Automatic calling: bulk queues, retries, calling hours, the throttle, and recovery.

Everything is derived from, and kept in, the database, so any number of task
workers on any number of machines can run it side by side:

- A row waiting for an automatic call has `queue_state` QUEUED (due now; waits
  for a throttle slot) or SCHEDULED (waits for `next_call_at`: a retry's time
  or the opening of the customer's calling hours).
- The dispatcher moves due QUEUED rows to CALLING with a conditional update,
  giving each a slot `1 / CALLS_PER_SECOND` after the previous one (the shared
  "call-slot" clock), and enqueues one placement task per row for its slot.
  While CALLING, `next_call_at` is the lease: a row whose worker died is
  found by `recover_expired_calls` once it is AUTOCALL_LEASE_SECONDS old.
- Why a row waits is stored with it (`queue_trigger`: bulk, or retry n of m
  in `queue_call_number`/`queue_call_total`), so the dashboard reads it off
  the row. Whether a retry is called for is read off the call attempts
  (trigger, outcome, times) and the audit trail (manual actions): `retry_plan`.

Every function takes `now` so tests can travel in time.
"""

import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery
from django.utils import timezone
from phonenumbers import timezone as phone_timezones

from transactions.models import (
    AUTO_CALLABLE_STATUSES,
    FINAL_STATUSES,
    QUEUE_CLEARED,
    AuditEntry,
    CallAttempt,
    CallOutcome,
    CallTrigger,
    QueueState,
    Status,
    Transaction,
    WorkerClock,
)

logger = logging.getLogger(__name__)

# Outcomes that earn another try: nobody (human) took the call.
RETRYABLE_OUTCOMES = (
    CallOutcome.NO_ANSWER,
    CallOutcome.BUSY,
    CallOutcome.VOICEMAIL,
    CallOutcome.DROPPED,
)
AUTOMATIC_TRIGGERS = (CallTrigger.BULK, CallTrigger.RETRY)
# error_code of an attempt whose worker died before Twilio took the call: it
# was never placed, so it counts for nothing.
LOST = "worker-lost"
# Audit entries with this field record who asked for automatic calls.
QUEUE_FIELD = "queue_state"
# An analyst's hand on the row ends retries: a status set by hand, a phone
# edit, or pending automatic calls cancelled (an audit entry "queue_state" → "").
MANUAL_EDITS = Q(field__in=("status", "phone")) | Q(field=QUEUE_FIELD, new_value="")

SLOT_CLOCK = "call-slot"
GATE_CLOCK = "last-call"
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


# --- calling hours ----------------------------------------------------------


def calling_hours() -> tuple[time, time]:
    """settings.CALLING_HOURS ("08:00-21:00") as (opens, closes); "00:00-24:00" is always open."""
    start, _, end = settings.CALLING_HOURS.partition("-")
    opens = time.fromisoformat(start.strip())
    closes = time.max if end.strip() == "24:00" else time.fromisoformat(end.strip())
    if opens >= closes:
        raise ValueError(f"CALLING_HOURS must open before it closes: {settings.CALLING_HOURS!r}")
    return opens, closes


def customer_time_zone(phone: str) -> ZoneInfo:
    """The customer's time zone, from the number (libphonenumber's time-zone data).

    The rule: a number whose country or area code lies in exactly one zone
    gets that zone (+44 20… London, +91… India, +1 212… New York). A number
    spanning several zones (US toll-free, some mobile ranges) or none gets
    settings.DEFAULT_CUSTOMER_TIME_ZONE.
    """
    default = ZoneInfo(settings.DEFAULT_CUSTOMER_TIME_ZONE)
    try:
        zones = phone_timezones.time_zones_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return default
    if len(zones) != 1 or zones[0] == phone_timezones.UNKNOWN_TIMEZONE:
        return default
    try:
        return ZoneInfo(zones[0])
    except (ZoneInfoNotFoundError, ValueError):
        return default


def calling_window_opening(phone: str, now: datetime) -> datetime | None:
    """None while the customer's calling hours are open at `now`; else when they next open."""
    opens, closes = calling_hours()
    local = now.astimezone(customer_time_zone(phone))
    if opens <= local.time() < closes:
        return None
    day = local.date() if local.time() < opens else local.date() + timedelta(days=1)
    return datetime.combine(day, opens, tzinfo=local.tzinfo).astimezone(UTC)


def outside_calling_hours(txn: Transaction, now: datetime | None = None) -> bool:
    """True when a call now would ring the customer outside their calling hours."""
    return bool(txn.phone) and calling_window_opening(txn.phone, now or timezone.now()) is not None


# --- what the data says about retries -----------------------------------------


@dataclass(frozen=True)
class RetryPlan:
    number: int  # this call's place in the series: 2 means the first retry
    total: int  # most calls in a series
    due_at: datetime


def max_calls() -> int:
    return 1 + len(settings.CALL_RETRY_DELAYS_MINUTES)


def _last_manual_action(txn: Transaction) -> datetime:
    manual_call = (
        txn.calls.filter(trigger=CallTrigger.MANUAL)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    manual_edit = (
        txn.audit.filter(MANUAL_EDITS)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return max(filter(None, [manual_call, manual_edit]), default=EPOCH)


def _counted_calls(txn: Transaction):
    return txn.calls.exclude(error_code=LOST).order_by("created_at", "id")


def retry_plan(txn: Transaction) -> RetryPlan | None:
    """The next retry the data calls for, or None.

    A series starts with the latest bulk call after the analyst's last manual
    action (a manual call, a status set by hand, a phone edit) and holds the
    automatic calls since. Its last call must have gone unanswered (no answer,
    busy, voicemail, dropped); it may hold at most 1 + len(delays) calls, all
    within CALL_RETRY_WINDOW_HOURS of its first. And a retry never makes more
    than 1 + len(delays) automatic calls within any CALL_RETRY_WINDOW_HOURS,
    even when an analyst asked again for a bulk call meanwhile.
    """
    if txn.opted_out_at or txn.status not in AUTO_CALLABLE_STATUSES:
        return None
    since = _last_manual_action(txn)
    series = [
        call
        for call in _counted_calls(txn).filter(created_at__gt=since)
        if call.trigger in AUTOMATIC_TRIGGERS
    ]
    starts = [i for i, call in enumerate(series) if call.trigger == CallTrigger.BULK]
    if not starts:
        return None
    series = series[starts[-1] :]
    last = series[-1]
    if last.outcome not in RETRYABLE_OUTCOMES or len(series) >= max_calls():
        return None
    delay = timedelta(minutes=settings.CALL_RETRY_DELAYS_MINUTES[len(series) - 1])
    due = (last.ended_at or last.created_at) + delay
    window = timedelta(hours=settings.CALL_RETRY_WINDOW_HOURS)
    if due > series[0].created_at + window:
        return None
    recent = [
        call
        for call in _counted_calls(txn).filter(created_at__gt=due - window)
        if call.trigger in AUTOMATIC_TRIGGERS
    ]
    if len(recent) >= max_calls():
        return None
    return RetryPlan(number=len(series) + 1, total=max_calls(), due_at=due)


def report_unreachable(attempt: CallAttempt) -> bool:
    """After a call ended: tell the bank when an automatic series ended unanswered.

    That is: the call was automatic, nobody took it (an outcome that earns a
    retry), it is the row's latest call, the row has no verdict, and no retry
    follows (the series is complete, its window is over, or an analyst took
    the row over). Call it in the transaction that records the call's end.
    """
    if attempt.trigger not in AUTOMATIC_TRIGGERS or attempt.outcome not in RETRYABLE_OUTCOMES:
        return False
    txn = Transaction.objects.get(pk=attempt.transaction_id)
    if txn.status not in AUTO_CALLABLE_STATUSES or txn.calls.filter(pk__gt=attempt.pk).exists():
        return False
    if retry_plan(txn) is not None:
        return False
    return txn.record_unreachable(attempt)


def _still_wanted(txn: Transaction) -> str | None:
    """The trigger for the pending automatic call, or None if it should be dropped."""
    if txn.opted_out_at or txn.status not in AUTO_CALLABLE_STATUSES or not txn.phone:
        return None
    if txn.queue_trigger == CallTrigger.RETRY:
        return CallTrigger.RETRY if retry_plan(txn) else None
    return CallTrigger.BULK


# --- queueing -------------------------------------------------------------------


@dataclass
class Enqueued:
    queued: int = 0
    scheduled: int = 0
    skipped: int = 0
    left: int = 0  # could be queued, but past the request's limit

    @property
    def total(self) -> int:
        return self.queued + self.scheduled

    def __str__(self):
        parts = [f"{self.queued} queued"]
        if self.scheduled:
            parts.append(f"{self.scheduled} scheduled for the customer's calling hours")
        if self.skipped:
            parts.append(f"{self.skipped} skipped (resolved, opted out, busy or already queued)")
        text = ", ".join(parts) + "."
        if self.left:
            text += f" {self.left} more not queued yet: ask again for them."
        return text


def _can_queue() -> Q:
    """Rows an automatic call may be queued for: not already queued, none on the line."""
    on_call = CallAttempt.objects.filter(transaction=OuterRef("pk"), ended_at__isnull=True)
    return (
        Q(queue_state=QueueState.NONE, opted_out_at__isnull=True)
        & Q(status__in=AUTO_CALLABLE_STATUSES)
        & ~Q(phone="")
        & ~Exists(on_call)
    )


def enqueue_calls(
    rows, *, user=None, api_key=None, source="bulk", now=None, limit=None
) -> Enqueued:
    """Queue automatic calls for `rows` (a Transaction queryset), the first `limit` of them.

    Rows inside their calling hours are QUEUED; the others are SCHEDULED for
    the opening. Resolved, Fraud, Connecting, opted-out and already queued
    rows are skipped. Each queued row gets an audit entry naming who asked
    (a user, or the API key of the bank's system).
    """
    now = now or timezone.now()
    result = Enqueued()
    requested = rows.count()
    chunk = 500
    pks = list(rows.filter(_can_queue()).order_by("id").values_list("pk", flat=True))
    if limit is not None and len(pks) > limit:
        result.left = len(pks) - limit
        pks = pks[:limit]
    for start in range(0, len(pks), chunk):
        with transaction.atomic():
            # Lock, then re-check: a click or another bulk request meanwhile wins.
            batch = list(
                Transaction.objects.select_for_update()
                .filter(pk__in=pks[start : start + chunk])
                .filter(_can_queue())
                .order_by("pk")  # one lock order for every bulk writer: no deadlock
                .values_list("pk", "phone")
            )
            groups: dict[tuple[str, datetime], list[int]] = {}
            for pk, phone in batch:
                opening = calling_window_opening(phone, now)
                if opening is None:
                    key = (QueueState.QUEUED, now)
                else:
                    key = (QueueState.SCHEDULED, opening)
                groups.setdefault(key, []).append(pk)
            audit = []
            for (state, at), group in groups.items():
                Transaction.objects.filter(pk__in=group).update(
                    **{
                        **QUEUE_CLEARED,
                        "queue_state": state,
                        "queue_trigger": CallTrigger.BULK,
                        "next_call_at": at,
                    },
                    updated_at=timezone.now(),
                )
                audit += [
                    AuditEntry(
                        transaction_id=pk,
                        user=user,
                        api_key=api_key,
                        field=QUEUE_FIELD,
                        old_value="",
                        new_value=state,
                        source=source,
                    )
                    for pk in group
                ]
                if state == QueueState.QUEUED:
                    result.queued += len(group)
                else:
                    result.scheduled += len(group)
            AuditEntry.objects.bulk_create(audit)
    result.skipped = requested - result.total - result.left
    return result


def cancel_calls(rows, *, user=None, source="bulk") -> int:
    """Drop the pending (not yet calling) automatic calls of `rows`; returns how many."""
    now = timezone.now()
    with transaction.atomic():
        pks = list(
            rows.select_for_update()
            .filter(queue_state__in=[QueueState.QUEUED, QueueState.SCHEDULED])
            .order_by("pk")  # one lock order for every bulk writer: no deadlock
            .values_list("pk", "queue_state")
        )
        Transaction.objects.filter(pk__in=[pk for pk, _ in pks]).update(
            **QUEUE_CLEARED, updated_at=now
        )
        AuditEntry.objects.bulk_create(
            AuditEntry(
                transaction_id=pk,
                user=user,
                field=QUEUE_FIELD,
                old_value=state,
                new_value="",
                source=source,
            )
            for pk, state in pks
        )
    return len(pks)


# --- the periodic planner ---------------------------------------------------------


def _set_queue(txn: Transaction, expected: Q, state: str, at: datetime | None, **why) -> bool:
    """Compare-and-set the queue columns only (status and answers untouched).

    `why`: queue_trigger and a retry's number and total, when they change.
    """
    if state == QueueState.NONE:
        values = QUEUE_CLEARED
    else:
        values = {"queue_state": state, "next_call_at": at, **why}
    return bool(
        Transaction.objects.filter(Q(pk=txn.pk) & expected).update(
            **values, updated_at=timezone.now()
        )
    )


def drop_unwanted() -> int:
    """Cancel pending automatic calls of opted-out, resolved or fraud rows."""
    return (
        Transaction.objects.filter(queue_state__in=[QueueState.QUEUED, QueueState.SCHEDULED])
        .filter(Q(opted_out_at__isnull=False) | Q(status__in=FINAL_STATUSES))
        .update_in_order(**QUEUE_CLEARED, updated_at=timezone.now())
    )


def plan_retries(now: datetime) -> int:
    """Schedule the retries the call attempts call for; returns how many were scheduled."""
    window = now - timedelta(hours=settings.CALL_RETRY_WINDOW_HOURS)
    latest = CallAttempt.objects.filter(transaction=OuterRef("pk")).exclude(error_code=LOST)
    latest = latest.order_by("-created_at", "-id")
    candidates = (
        Transaction.objects.filter(_can_queue())
        .annotate(
            last_outcome=Subquery(latest.values("outcome")[:1]),
            last_trigger=Subquery(latest.values("trigger")[:1]),
            last_at=Subquery(latest.values("created_at")[:1]),
            recent_auto=Count(
                "calls",
                filter=Q(calls__trigger__in=AUTOMATIC_TRIGGERS, calls__created_at__gte=window)
                & ~Q(calls__error_code=LOST),
            ),
        )
        .filter(
            last_outcome__in=RETRYABLE_OUTCOMES,
            last_trigger__in=AUTOMATIC_TRIGGERS,
            last_at__gte=window,
            recent_auto__lt=max_calls(),
        )
    )
    scheduled = 0
    for txn in candidates.iterator(chunk_size=200):
        plan = retry_plan(txn)
        if plan is None:
            continue
        due = max(plan.due_at, now)
        due = calling_window_opening(txn.phone, due) or plan.due_at
        retry = {
            "queue_trigger": CallTrigger.RETRY,
            "queue_call_number": plan.number,
            "queue_call_total": plan.total,
        }
        if _set_queue(txn, _can_queue() & Q(status=txn.status), QueueState.SCHEDULED, due, **retry):
            scheduled += 1
            logger.info("Retry %d of %d for %s at %s", plan.number, plan.total, txn, due)
    return scheduled


def promote_scheduled(now: datetime) -> int:
    """SCHEDULED rows whose time has come join the queue, if still wanted and inside hours."""
    promoted = 0
    due = Transaction.objects.filter(queue_state=QueueState.SCHEDULED).filter(
        Q(next_call_at__lte=now) | Q(next_call_at__isnull=True)
    )
    for txn in due.order_by("next_call_at", "id").iterator(chunk_size=200):
        expected = Q(queue_state=QueueState.SCHEDULED, next_call_at=txn.next_call_at)
        if _still_wanted(txn) is None:
            _set_queue(txn, expected, QueueState.NONE, None)
            continue
        opening = calling_window_opening(txn.phone, now)
        if opening is not None:
            _set_queue(txn, expected, QueueState.SCHEDULED, opening)
        elif _set_queue(txn, expected, QueueState.QUEUED, txn.next_call_at or now):
            promoted += 1
    return promoted


def _clock(name: str) -> WorkerClock:
    """The named clock row, locked for this transaction (created at the epoch if new)."""
    WorkerClock.objects.get_or_create(name=name, defaults={"at": EPOCH})
    return WorkerClock.objects.select_for_update().get(name=name)


def call_interval() -> timedelta:
    return timedelta(seconds=1 / max(settings.CALLS_PER_SECOND, 0.001))


def dispatch(now: datetime, enqueue_placement, *, horizon: timedelta | None = None) -> list:
    """Give due QUEUED rows throttle slots, in queue order, up to `horizon` ahead.

    Each row moves QUEUED → CALLING with `next_call_at` = its slot, and
    `enqueue_placement(pk, slot)` is called in the same database transaction
    (so a task exists exactly when a row was given a slot). Dispatchers
    serialise on the "call-slot" clock row, so slots never overlap.
    Returns [(pk, slot), ...].
    """
    if horizon is None:
        horizon = timedelta(seconds=2 * settings.AUTOCALL_TICK_SECONDS)
    interval = call_interval()
    given = []
    # A NULL time (set by hand in admin) counts as due now.
    due = Transaction.objects.filter(queue_state=QueueState.QUEUED).filter(
        Q(next_call_at__lte=now) | Q(next_call_at__isnull=True)
    )
    if not due.exists():
        return given  # the usual case between bulk requests: no write lock taken
    with transaction.atomic():
        clock = _clock(SLOT_CLOCK)
        slot = max(clock.at, now)
        room = max(0, math.ceil((now + horizon - slot) / interval))
        while room > 0:
            batch = list(due.order_by(F("next_call_at").asc(nulls_first=True), "id")[: room + 20])
            if not batch:
                break
            for txn in batch:
                if room == 0:
                    break
                expected = Q(queue_state=QueueState.QUEUED, next_call_at=txn.next_call_at)
                if txn.opted_out_at or txn.status not in AUTO_CALLABLE_STATUSES:
                    _set_queue(txn, expected, QueueState.NONE, None)
                    continue
                opening = calling_window_opening(txn.phone, max(slot, now))
                if opening is not None:
                    _set_queue(txn, expected, QueueState.SCHEDULED, opening)
                    continue
                if _set_queue(txn, expected, QueueState.CALLING, slot):
                    enqueue_placement(txn.pk, slot)
                    given.append((txn.pk, slot))
                    slot += interval
                    room -= 1
        clock.at = max(clock.at, slot)
        clock.save(update_fields=["at"])
    return given


def pass_gate(now: datetime) -> datetime | None:
    """The last word on the throttle, taken just before a call is placed.

    None: go (and the gate records `now`). Otherwise the time the next call
    may go. Slots already space calls; this catches workers that ran a slot late.
    """
    interval = call_interval()
    WorkerClock.objects.get_or_create(name=GATE_CLOCK, defaults={"at": EPOCH})
    if WorkerClock.objects.filter(name=GATE_CLOCK, at__lte=now - interval).update(at=now):
        return None
    return WorkerClock.objects.get(name=GATE_CLOCK).at + interval


# --- placing and recovering -------------------------------------------------------


def place_claimed_call(pk: int, token: datetime, now: datetime, defer) -> str:
    """Place the automatic call a dispatcher gave the slot `token`. Returns what happened.

    `defer(pk, when)` enqueues this again for `when` (the gate said wait).
    """
    from voiceflow.calls import CallConflict, CallFailed, CallNotKnown, request_call

    txn = Transaction.objects.filter(pk=pk).first()
    if txn is None:
        return "gone"
    # Take the lease: only the task holding this slot's token gets past here.
    if not _set_queue(
        txn, Q(queue_state=QueueState.CALLING, next_call_at=token), QueueState.CALLING, now
    ):
        return "stale"
    mine = Q(queue_state=QueueState.CALLING, next_call_at=now)
    txn.refresh_from_db()
    trigger = _still_wanted(txn)
    if trigger is None:
        _set_queue(txn, mine, QueueState.NONE, None)
        return "dropped"
    opening = calling_window_opening(txn.phone, now)
    if opening is not None:
        _set_queue(txn, mine, QueueState.SCHEDULED, opening)
        return "scheduled"
    wait = pass_gate(now)
    if wait is not None:
        with transaction.atomic():
            if _set_queue(txn, mine, QueueState.CALLING, wait):
                defer(pk, wait)
        return "deferred"
    try:
        request_call(txn, trigger=trigger)
        outcome = "placed"
    except CallConflict as exc:
        outcome = f"conflict: {exc.message}"
    except CallFailed as exc:
        outcome = f"failed: {exc.message}"
    except CallNotKnown:
        outcome = "not known yet: Twilio gave no answer; looking the call up"
    _set_queue(txn, mine, QueueState.NONE, None)
    return outcome


def recover_expired_calls(now: datetime) -> dict:
    """Rows left CALLING past their lease: their worker died. Finish or re-queue each, once.

    - the attempt has a SID (or failed for good): the call was placed; done.
    - the attempt has no SID: Twilio is asked. A call found is adopted
      (no second call); none found means Twilio never took it: the attempt is
      marked lost and the row goes back to the head of the queue.
    - no attempt: the worker died before asking Twilio; the row is re-queued.
    """
    from twilio.base.exceptions import TwilioException

    from voiceflow.calls import find_placed_call

    lease = timedelta(seconds=settings.AUTOCALL_LEASE_SECONDS)
    counts = {"placed": 0, "adopted": 0, "requeued": 0, "unknown": 0}
    expired = Transaction.objects.filter(queue_state=QueueState.CALLING).filter(
        Q(next_call_at__lt=now - lease) | Q(next_call_at__isnull=True)
    )
    for txn in expired.order_by("next_call_at", "id"):
        mine = Q(queue_state=QueueState.CALLING, next_call_at=txn.next_call_at)
        claimed = txn.next_call_at or now
        since = txn.next_call_at or txn.updated_at
        attempt = txn.calls.filter(created_at__gte=since).exclude(error_code=LOST).first()
        if attempt is not None and (attempt.call_sid or attempt.outcome):
            if _set_queue(txn, mine, QueueState.NONE, None):
                counts["placed"] += 1
            continue
        if attempt is not None:
            try:
                sid = find_placed_call(attempt)
            except (TwilioException, OSError, ValueError) as exc:
                logger.warning("Cannot ask Twilio about %s yet: %s", txn, exc)
                counts["unknown"] += 1
                continue
            if sid:
                attempt.adopt(sid)
                if _set_queue(txn, mine, QueueState.NONE, None):
                    counts["adopted"] += 1
                    logger.warning("Adopted call %s for %s after its worker died", sid, txn)
                continue
        with transaction.atomic():
            if not _set_queue(txn, mine, QueueState.QUEUED, claimed):
                continue
            if attempt is not None:
                CallAttempt.objects.filter(pk=attempt.pk, call_sid__isnull=True).update(
                    outcome=CallOutcome.FAILED,
                    error_code=LOST,
                    error_message="The worker stopped before Twilio took the call; queued again.",
                    ended_at=now,
                )
                # Undo the dead worker's claim: the row is as it was before the call.
                called_before = _counted_calls(txn).exclude(pk=attempt.pk).exists()
                attempt.refresh_from_db()
                txn.record_call_end(
                    attempt, Status.DISCONNECTED if called_before else Status.PENDING
                )
        counts["requeued"] += 1
        logger.warning("Re-queued the automatic call for %s after its worker died", txn)
    return counts
