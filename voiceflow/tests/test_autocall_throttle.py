"""The throttle: queued calls get slots in queue order, CALLS_PER_SECOND apart, across workers."""

from datetime import timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from transactions.models import QueueState, Transaction, WorkerClock
from voiceflow import autocall, tasks

from .autocall_kit import INDIA, WINTER_AFTERNOON

pytestmark = pytest.mark.django_db

NOW = WINTER_AFTERNOON


def _queued(make_transaction, n, now=NOW):
    rows = [make_transaction(phone=INDIA) for _ in range(n)]
    autocall.enqueue_calls(Transaction.objects.filter(pk__in=[r.pk for r in rows]), now=now)
    return rows


def test_it_gives_slots_in_queue_order_one_second_apart(make_transaction):
    rows = _queued(make_transaction, 5)
    given = autocall.dispatch(NOW, lambda pk, slot: None)
    assert [pk for pk, _ in given] == [r.pk for r in rows]
    assert [slot for _, slot in given] == [NOW + timedelta(seconds=i) for i in range(5)]
    for row, (_, slot) in zip(rows, given, strict=True):
        row.refresh_from_db()
        assert row.queue_state == QueueState.CALLING
        assert row.next_call_at == slot


def test_it_spaces_slots_by_calls_per_second(make_transaction, settings):
    settings.CALLS_PER_SECOND = 4
    _queued(make_transaction, 3)
    slots = [slot for _, slot in autocall.dispatch(NOW, lambda pk, slot: None)]
    assert slots == [NOW, NOW + timedelta(seconds=0.25), NOW + timedelta(seconds=0.5)]


def test_earlier_requests_are_called_first(make_transaction):
    late = _queued(make_transaction, 2, now=NOW)
    early = _queued(make_transaction, 2, now=NOW - timedelta(minutes=5))
    given = autocall.dispatch(NOW, lambda pk, slot: None)
    assert [pk for pk, _ in given] == [r.pk for r in early + late]


def test_it_hands_out_slots_only_a_short_horizon_ahead(make_transaction, settings):
    settings.AUTOCALL_TICK_SECONDS = 5  # horizon: two ticks, 10 calls at 1 per second
    _queued(make_transaction, 15)
    assert len(autocall.dispatch(NOW, lambda pk, slot: None)) == 10
    assert Transaction.objects.filter(queue_state=QueueState.QUEUED).count() == 5
    # A second dispatcher at the same moment has no room left: slots never overlap.
    assert autocall.dispatch(NOW, lambda pk, slot: None) == []
    later = autocall.dispatch(NOW + timedelta(seconds=3), lambda pk, slot: None)
    assert [slot for _, slot in later] == [NOW + timedelta(seconds=10 + i) for i in range(3)]


def test_each_slot_becomes_one_task_run_at_that_slot(make_transaction):
    rows = _queued(make_transaction, 3)
    given = autocall.dispatch(NOW, tasks._enqueue_placement)
    queued_tasks = DBTaskResult.objects.filter(
        task_path=tasks.place_automatic_call.module_path
    ).order_by("run_after")
    assert [t.run_after for t in queued_tasks] == [slot for _, slot in given]
    assert [t.args_kwargs["args"][0] for t in queued_tasks] == [r.pk for r in rows]


def test_the_gate_lets_one_call_through_per_interval():
    assert autocall.pass_gate(NOW) is None
    assert autocall.pass_gate(NOW + timedelta(seconds=0.4)) == NOW + timedelta(seconds=1)
    assert autocall.pass_gate(NOW + timedelta(seconds=1)) is None
    assert WorkerClock.objects.get(name=autocall.GATE_CLOCK).at == NOW + timedelta(seconds=1)


def test_opted_out_and_resolved_rows_lose_their_place(make_transaction):
    rows = _queued(make_transaction, 3)
    Transaction.objects.filter(pk=rows[0].pk).update(opted_out_at=NOW)
    Transaction.objects.filter(pk=rows[1].pk).update(status="Resolved")
    given = autocall.dispatch(NOW, lambda pk, slot: None)
    assert [pk for pk, _ in given] == [rows[2].pk]
    assert given[0][1] == NOW
    assert Transaction.objects.get(pk=rows[0].pk).queue_state == ""
    assert Transaction.objects.get(pk=rows[1].pk).queue_state == ""


def test_a_row_queued_by_hand_without_a_time_is_called_first(make_transaction):
    rows = _queued(make_transaction, 2)
    by_hand = make_transaction(phone=INDIA, queue_state=QueueState.QUEUED, next_call_at=None)
    given = autocall.dispatch(NOW, lambda pk, slot: None)
    assert [pk for pk, _ in given] == [by_hand.pk] + [r.pk for r in rows]


def test_a_dispatcher_with_nothing_due_takes_no_slot(make_transaction):
    assert autocall.dispatch(NOW, lambda pk, slot: None) == []
    assert not WorkerClock.objects.filter(name=autocall.SLOT_CLOCK).exists()
