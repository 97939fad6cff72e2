"""The worker's tasks: placing automatic calls, and the periodic tick that plans them.

Django's tasks framework has no scheduler, so the tick schedules itself: each
run first hands the "tick" clock row on to its successor and enqueues it (one
database transaction), then does its work. A tick whose token no longer
matches the clock is a duplicate and stops at once, so exactly one tick chain
runs however many workers there are. If a worker dies between the two, the
clock goes stale; `ensure_ticking()` (run by `manage.py start_autocall`, by
bulk requests and after each placed call) starts a new chain.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.tasks import task
from django.utils import timezone

from transactions import events
from transactions.models import WorkerClock
from transactions.tasks import deliver_event
from voiceflow import autocall

logger = logging.getLogger(__name__)

TICK_CLOCK = "tick"
# How long past its time a pending tick may be before a new chain replaces it.
TICK_GRACE = timedelta(seconds=60)


def _tick_period() -> timedelta:
    return timedelta(seconds=settings.AUTOCALL_TICK_SECONDS)


def _enqueue_placement(pk: int, slot: datetime) -> None:
    place_automatic_call.using(run_after=slot).enqueue(pk, slot.isoformat())


@task
def place_automatic_call(pk: int, token: str) -> str:
    """Place the automatic call the dispatcher gave this slot (`token`)."""
    outcome = autocall.place_claimed_call(
        pk, datetime.fromisoformat(token), timezone.now(), _enqueue_placement
    )
    logger.info("Automatic call for transaction %s: %s", pk, outcome)
    ensure_ticking()
    return outcome


@task
def dispatch_calls() -> int:
    """Hand out throttle slots now (a bulk request asks for this, not to wait for the tick)."""
    return len(autocall.dispatch(timezone.now(), _enqueue_placement))


def run_tick(now: datetime) -> dict:
    """One round of the planner. Each step on its own: one failing does not stop the others."""
    from reports.tasks import refresh_if_due
    from voiceflow.calls import settle_unknown_calls, sweep_stale_calls

    report = {}
    steps = [
        ("stale", sweep_stale_calls),
        ("settled", lambda: settle_unknown_calls(now)),
        ("recovered", lambda: autocall.recover_expired_calls(now)),
        ("dropped", autocall.drop_unwanted),
        ("retries", lambda: autocall.plan_retries(now)),
        ("promoted", lambda: autocall.promote_scheduled(now)),
        ("dispatched", lambda: len(autocall.dispatch(now, _enqueue_placement))),
        # Outcome events whose task was lost or whose worker died sending (at least once).
        ("events", lambda: events.sweep(now)),
        ("pruned", lambda: _prune_finished_tasks(now)),
        # The reports' rollup rides on this chain rather than run a second one.
        ("reports", lambda: refresh_if_due(now)),
    ]
    for name, step in steps:
        try:
            report[name] = step()
        except Exception:
            logger.exception("Autocall tick: %s failed", name)
            report[name] = "error"
    return report


def _prune_finished_tasks(now: datetime) -> int:
    """Forget our own finished tasks after a day (a tick every few seconds adds up)."""
    from django_tasks_db.models import DBTaskResult

    from reports.tasks import refresh_reports

    done = (autocall_tick, place_automatic_call, dispatch_calls, deliver_event, refresh_reports)
    paths = [t.module_path for t in done]
    deleted, _ = (
        DBTaskResult.objects.finished()
        .filter(task_path__in=paths, finished_at__lt=now - timedelta(days=1))
        .delete()
    )
    return deleted


@task
def autocall_tick(token: str) -> dict | str:
    """The periodic tick: pass the baton to the next tick, then plan and dispatch."""
    now = timezone.now()
    following = max(now, datetime.fromisoformat(token)) + _tick_period()
    with transaction.atomic():
        if not WorkerClock.objects.filter(name=TICK_CLOCK, at=datetime.fromisoformat(token)).update(
            at=following
        ):
            return "duplicate"
        autocall_tick.using(run_after=following).enqueue(following.isoformat())
    return run_tick(now)


def ensure_ticking(now: datetime | None = None) -> bool:
    """Start the tick chain unless a tick is pending and not overdue. Safe to call anywhere."""
    now = now or timezone.now()
    # The usual answer, without taking a write lock.
    if WorkerClock.objects.filter(name=TICK_CLOCK, at__gte=now - TICK_GRACE).exists():
        return False
    with transaction.atomic():
        WorkerClock.objects.get_or_create(name=TICK_CLOCK, defaults={"at": autocall.EPOCH})
        clock = WorkerClock.objects.select_for_update().get(name=TICK_CLOCK)
        if clock.at >= now - TICK_GRACE:
            return False
        clock.at = now
        clock.save(update_fields=["at"])
        autocall_tick.using(run_after=now).enqueue(now.isoformat())
    logger.info("Started the automatic-calling tick")
    return True


def request_bulk_calls(
    rows, *, user=None, api_key=None, source="bulk", limit=None
) -> autocall.Enqueued:
    """Queue automatic calls for `rows` and have a worker hand out slots right away."""
    result = autocall.enqueue_calls(rows, user=user, api_key=api_key, source=source, limit=limit)
    if result.queued:
        dispatch_calls.enqueue()
    ensure_ticking()
    return result
