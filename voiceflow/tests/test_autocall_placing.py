"""Placing an automatic call from its slot, and recovering calls whose worker died."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from transactions.models import (
    AuditEntry,
    CallAttempt,
    CallOutcome,
    CallTrigger,
    QueueState,
    Status,
    Transaction,
)
from voiceflow import autocall
from voiceflow.calls import twilio_client

from .autocall_kit import INDIA, LOS_ANGELES

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("always_open")]


def _slotted(make_transaction, phone=INDIA, **fields):
    """A row the dispatcher gave a slot to, as it stands when its task starts."""
    now = timezone.now()
    row = make_transaction(phone=phone, **fields)
    row.queue_state, row.next_call_at = QueueState.QUEUED, now
    row.save()
    AuditEntry.objects.create(transaction=row, field="queue_state", new_value="queued")
    [(_, slot)] = autocall.dispatch(now, lambda pk, slot: None)
    return row, slot


def _never(pk, when):
    raise AssertionError("nothing should be deferred")


def test_it_places_the_call_and_clears_the_queue(make_transaction, twilio_api):
    row, slot = _slotted(make_transaction)
    assert autocall.place_claimed_call(row.pk, slot, timezone.now(), _never) == "placed"
    row.refresh_from_db()
    assert (row.status, row.queue_state, row.next_call_at) == (Status.CONNECTING, "", None)
    [attempt] = row.calls.all()
    assert attempt.trigger == CallTrigger.BULK
    assert attempt.call_sid == twilio_api.calls[0]["sid"]
    assert twilio_api.placed_to(INDIA) == 1


def test_a_second_run_of_the_same_slot_places_nothing(make_transaction, twilio_api):
    row, slot = _slotted(make_transaction)
    autocall.place_claimed_call(row.pk, slot, timezone.now(), _never)
    assert autocall.place_claimed_call(row.pk, slot, timezone.now(), _never) == "stale"
    assert twilio_api.placed_to(INDIA) == 1


def test_a_customer_who_opted_out_meanwhile_is_not_called(make_transaction, twilio_api):
    row, slot = _slotted(make_transaction)
    Transaction.objects.filter(pk=row.pk).update(opted_out_at=timezone.now())
    assert autocall.place_claimed_call(row.pk, slot, timezone.now(), _never) == "dropped"
    row.refresh_from_db()
    assert row.queue_state == ""
    assert twilio_api.calls == []


def test_the_gate_defers_a_call_that_comes_too_soon(make_transaction, twilio_api):
    first, first_slot = _slotted(make_transaction)
    now = timezone.now()
    autocall.place_claimed_call(first.pk, first_slot, now, _never)
    second, second_slot = _slotted(make_transaction)
    deferred = []
    outcome = autocall.place_claimed_call(
        second.pk, second_slot, now + timedelta(seconds=0.3), lambda pk, at: deferred.append(at)
    )
    assert outcome == "deferred"
    assert deferred == [now + timedelta(seconds=1)]
    second.refresh_from_db()
    assert (second.queue_state, second.next_call_at) == (QueueState.CALLING, deferred[0])
    assert twilio_api.placed_to(INDIA) == 1


def test_a_call_whose_hours_closed_waits_for_the_morning(make_transaction, twilio_api, settings):
    row, slot = _slotted(make_transaction, phone=LOS_ANGELES)
    settings.CALLING_HOURS = "00:00-00:01"
    assert autocall.place_claimed_call(row.pk, slot, timezone.now(), _never) == "scheduled"
    row.refresh_from_db()
    assert row.queue_state == QueueState.SCHEDULED
    assert twilio_api.calls == []


def _orphan(make_transaction, *, with_attempt: bool):
    """A row whose worker was killed: CALLING, maybe Connecting with an attempt and no SID."""
    row, slot = _slotted(make_transaction)
    attempt = None
    if with_attempt:
        Transaction.objects.filter(pk=row.pk).update(status=Status.CONNECTING)
        attempt = CallAttempt.objects.create(transaction=row, trigger=CallTrigger.BULK)
    return row, slot, attempt


def _after_lease():
    return timezone.now() + timedelta(seconds=settings.AUTOCALL_LEASE_SECONDS + 1)


def test_an_expired_claim_without_an_attempt_goes_back_to_the_head_of_the_queue(
    make_transaction, twilio_api
):
    row, slot, _ = _orphan(make_transaction, with_attempt=False)
    assert autocall.recover_expired_calls(timezone.now())["requeued"] == 0  # lease still held
    assert autocall.recover_expired_calls(_after_lease())["requeued"] == 1
    row.refresh_from_db()
    assert (row.queue_state, row.next_call_at, row.status) == (QueueState.QUEUED, slot, "Pending")


def test_a_call_twilio_took_before_the_worker_died_is_adopted_not_repeated(
    make_transaction, twilio_api
):
    row, _, attempt = _orphan(make_transaction, with_attempt=True)
    # Twilio accepted the dead worker's request.
    twilio_client().calls.create(to=row.phone, from_=settings.TWILIO_NUMBER, url="http://x/")
    assert autocall.recover_expired_calls(_after_lease())["adopted"] == 1
    attempt.refresh_from_db()
    row.refresh_from_db()
    assert attempt.call_sid == twilio_api.calls[0]["sid"]
    assert (row.queue_state, row.status) == ("", Status.CONNECTING)
    assert twilio_api.placed_to(row.phone) == 1


def test_a_call_twilio_never_took_is_marked_lost_and_queued_again(make_transaction, twilio_api):
    row, slot, attempt = _orphan(make_transaction, with_attempt=True)
    assert autocall.recover_expired_calls(_after_lease())["requeued"] == 1
    attempt.refresh_from_db()
    row.refresh_from_db()
    assert (attempt.outcome, attempt.error_code) == (CallOutcome.FAILED, autocall.LOST)
    assert (row.queue_state, row.next_call_at, row.status) == (QueueState.QUEUED, slot, "Pending")
    # Queued again as the analyst's bulk request, not as a retry.
    assert row.queue_trigger != CallTrigger.RETRY and row.queue_label == "Queued"


def test_when_twilio_cannot_be_asked_the_row_waits(make_transaction, twilio_api):
    row, slot, _ = _orphan(make_transaction, with_attempt=True)
    twilio_api.stop()
    assert autocall.recover_expired_calls(_after_lease())["unknown"] == 1
    row.refresh_from_db()
    assert (row.queue_state, row.next_call_at) == (QueueState.CALLING, slot)
