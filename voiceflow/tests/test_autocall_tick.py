"""The periodic tick: one chain however many workers, restarted when it dies, doing the rounds."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from transactions.models import CallAttempt, CallOutcome, CallTrigger, QueueState, WorkerClock
from voiceflow import tasks

from .autocall_kit import INDIA

pytestmark = pytest.mark.django_db


def _pending_ticks():
    return DBTaskResult.objects.filter(task_path=tasks.autocall_tick.module_path, status="READY")


def _token():
    return WorkerClock.objects.get(name=tasks.TICK_CLOCK).at.isoformat()


def test_it_starts_one_tick_and_not_a_second(settings):
    assert tasks.ensure_ticking() is True
    assert tasks.ensure_ticking() is False
    assert _pending_ticks().count() == 1


def test_a_tick_hands_on_to_exactly_one_successor(settings):
    settings.AUTOCALL_TICK_SECONDS = 5
    tasks.ensure_ticking()
    token = _token()
    report = tasks.autocall_tick.call(token)
    # Every round ran (none says "error") and, with no rows, found nothing to do.
    assert report == {
        "stale": 0,
        "settled": {"adopted": 0, "not placed": 0, "waiting": 0},
        "recovered": {"placed": 0, "adopted": 0, "requeued": 0, "unknown": 0},
        "dropped": 0,
        "retries": 0,
        "promoted": 0,
        "dispatched": 0,
        "events": 0,
        "pruned": 0,
        "reports": True,  # the first tick asks for the reports' rollup
    }
    successor = _pending_ticks().order_by("-enqueued_at").first()
    assert successor.args_kwargs["args"] == [_token()]
    assert successor.run_after >= timezone.now() + timedelta(seconds=4)
    # The same tick run again (a duplicate task) does nothing and enqueues nothing.
    assert tasks.autocall_tick.call(token) == "duplicate"
    assert _pending_ticks().count() == 2  # the first (run by .call here, not by a worker) + one


def test_a_chain_that_died_is_restarted():
    tasks.ensure_ticking()
    stale = timezone.now() - tasks.TICK_GRACE - timedelta(seconds=1)
    WorkerClock.objects.filter(name=tasks.TICK_CLOCK).update(at=stale)
    assert tasks.ensure_ticking() is True
    assert tasks.autocall_tick.call(stale.isoformat()) == "duplicate"


def test_a_tick_plans_retries_and_dispatches(make_transaction, settings, always_open):
    settings.CALL_RETRY_DELAYS_MINUTES = [0, 0]
    row = make_transaction(phone=INDIA, status="Not Answered")
    call = CallAttempt.objects.create(transaction=row, trigger=CallTrigger.BULK, call_sid="CA1")
    CallAttempt.objects.filter(pk=call.pk).update(
        outcome=CallOutcome.NO_ANSWER, ended_at=timezone.now() - timedelta(seconds=1)
    )
    report = tasks.run_tick(timezone.now())
    assert (report["retries"], report["promoted"], report["dispatched"]) == (1, 1, 1)
    row.refresh_from_db()
    assert row.queue_state == QueueState.CALLING
    placement = DBTaskResult.objects.get(task_path=tasks.place_automatic_call.module_path)
    assert placement.args_kwargs["args"] == [row.pk, row.next_call_at.isoformat()]


def test_it_forgets_its_own_finished_tasks_after_a_day():
    old = tasks.dispatch_calls.enqueue()
    DBTaskResult.objects.filter(pk=old.id).update(
        status="SUCCESSFUL", finished_at=timezone.now() - timedelta(days=2)
    )
    assert tasks.run_tick(timezone.now())["pruned"] == 1
