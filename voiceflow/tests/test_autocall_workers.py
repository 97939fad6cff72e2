"""Real `manage.py db_worker` processes racing for one queue, and killed in mid-call."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from transactions.models import CallAttempt, QueueState, Status, Transaction
from voiceflow import autocall, tasks

from .autocall_kit import Worker, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# Calling hours always open, a fast throttle and tick, a one-second lease.
WORKER_ENV = {
    "CALLING_HOURS": "00:00-24:00",
    "CALLS_PER_SECOND": "20",
    "AUTOCALL_TICK_SECONDS": "0.2",
    "AUTOCALL_LEASE_SECONDS": "1",
}


@pytest.fixture(autouse=True)
def _worker_settings(settings):
    settings.CALLING_HOURS = WORKER_ENV["CALLING_HOURS"]
    settings.CALLS_PER_SECOND = 20
    settings.AUTOCALL_TICK_SECONDS = 0.2
    settings.AUTOCALL_LEASE_SECONDS = 1


@pytest.fixture
def workers(twilio_api):
    started = []

    def start():
        worker = Worker(twilio_api.url, **WORKER_ENV)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def _bulk(make_transaction, n):
    rows = [make_transaction(phone=f"+9198765432{i:02d}") for i in range(n)]
    autocall.enqueue_calls(Transaction.objects.filter(pk__in=[r.pk for r in rows]))
    return rows


def _settled(rows):
    return not Transaction.objects.filter(pk__in=[r.pk for r in rows]).exclude(queue_state="")


def test_two_workers_racing_for_the_same_queue_place_each_call_once(
    make_transaction, twilio_api, workers
):
    rows = _bulk(make_transaction, 6)

    def enqueue_twice(pk, slot):
        # Every slot's task twice over: both workers run copies at the same moment.
        tasks._enqueue_placement(pk, slot)
        tasks._enqueue_placement(pk, slot)

    workers(), workers()
    # Slots a little ahead, so both workers are up and polling when they fall due.
    start = timezone.now() + timedelta(seconds=2)
    assert len(autocall.dispatch(start, enqueue_twice)) == 6
    placements = DBTaskResult.objects.filter(task_path=tasks.place_automatic_call.module_path)
    wait_until(
        lambda: _settled(rows) and not placements.exclude(status="SUCCESSFUL").exists(),
        what="every call placed",
    )
    assert sorted(c["to"] for c in twilio_api.calls) == sorted(r.phone for r in rows)
    for row in rows:
        assert CallAttempt.objects.filter(transaction=row).count() == 1
    # Each slot's second copy found the row taken. (The gate may have deferred a
    # call that a worker started a moment late; the deferred run placed it.)
    outcomes = sorted(t.return_value for t in placements if t.return_value != "deferred")
    assert outcomes == ["placed"] * 6 + ["stale"] * 6


def test_a_worker_killed_after_twilio_took_the_call_does_not_call_twice(
    make_transaction, twilio_api, workers
):
    [row] = _bulk(make_transaction, 1)
    twilio_api.mode = "hold_after_accepting"
    autocall.dispatch(timezone.now(), tasks._enqueue_placement)
    doomed = workers()
    wait_until(lambda: twilio_api.calls, what="the call to reach Twilio")
    doomed.kill()
    twilio_api.mode = "normal"
    twilio_api.release()
    row.refresh_from_db()
    assert (row.queue_state, row.status) == (QueueState.CALLING, Status.CONNECTING)

    # A healthy worker's tick finds the expired lease and asks Twilio.
    tasks.ensure_ticking()
    workers()
    wait_until(lambda: _settled([row]), what="the orphaned call to be recovered")
    [attempt] = CallAttempt.objects.filter(transaction=row)
    assert attempt.call_sid == twilio_api.calls[0]["sid"]
    assert twilio_api.placed_to(row.phone) == 1


def test_a_worker_killed_before_twilio_took_the_call_does_not_lose_it(
    make_transaction, twilio_api, workers
):
    [row] = _bulk(make_transaction, 1)
    twilio_api.mode = "hold_then_lose"
    autocall.dispatch(timezone.now(), tasks._enqueue_placement)
    doomed = workers()
    wait_until(twilio_api.create_requests, what="the worker to ask Twilio")
    doomed.kill()
    twilio_api.mode = "normal"
    twilio_api.release()
    assert twilio_api.calls == []

    tasks.ensure_ticking()
    workers()
    wait_until(lambda: twilio_api.calls and _settled([row]), what="the lost call to be placed")
    lost, placed = CallAttempt.objects.filter(transaction=row).order_by("created_at")
    assert lost.error_code == autocall.LOST
    assert placed.call_sid == twilio_api.calls[0]["sid"]
    assert twilio_api.placed_to(row.phone) == 1
