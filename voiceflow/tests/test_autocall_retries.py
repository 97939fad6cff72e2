"""Retries: read off the call attempts, at most 3 calls in 3 days, ended by any manual action."""

from datetime import UTC, datetime, timedelta

import pytest
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

from .autocall_kit import INDIA, LOS_ANGELES

pytestmark = pytest.mark.django_db

# 10:00 in India: inside calling hours for a good while.
T0 = datetime(2026, 1, 15, 4, 30, tzinfo=UTC)


def _call(row, at, outcome=CallOutcome.NO_ANSWER, trigger=CallTrigger.BULK, minutes=1):
    """A finished call as the ledger records it (created at `at`, ended `minutes` later)."""
    attempt = CallAttempt.objects.create(
        transaction=row, trigger=trigger, call_sid=f"CA{CallAttempt.objects.count():032d}"
    )
    CallAttempt.objects.filter(pk=attempt.pk).update(
        created_at=at, ended_at=at + timedelta(minutes=minutes), outcome=outcome
    )
    status = {
        CallOutcome.CONFIRMED: Status.RESOLVED,
        CallOutcome.DENIED: Status.FRAUD,
        CallOutcome.DROPPED: Status.DISCONNECTED,
    }.get(outcome, Status.NOT_ANSWERED)
    Transaction.objects.filter(pk=row.pk).update(status=status)
    row.refresh_from_db()
    return attempt


def _audit(row, field, at, new_value="x"):
    entry = AuditEntry.objects.create(transaction=row, field=field, new_value=new_value)
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=at)


@pytest.fixture
def row(make_transaction):
    return make_transaction(phone=INDIA)


def test_the_first_retry_comes_15_minutes_after_an_unanswered_bulk_call(row):
    _call(row, T0)
    assert autocall.plan_retries(T0 + timedelta(minutes=2)) == 1
    row.refresh_from_db()
    assert row.queue_state == QueueState.SCHEDULED
    assert row.next_call_at == T0 + timedelta(minutes=16)
    assert (row.queue_label, row.queue_trigger) == ("Retry 2 of 3", CallTrigger.RETRY)


def test_the_retry_joins_the_queue_at_its_time_and_not_before(row):
    _call(row, T0)
    autocall.plan_retries(T0 + timedelta(minutes=2))
    autocall.promote_scheduled(T0 + timedelta(minutes=15))
    row.refresh_from_db()
    assert row.queue_state == QueueState.SCHEDULED
    autocall.promote_scheduled(T0 + timedelta(minutes=16))
    row.refresh_from_db()
    assert row.queue_state == QueueState.QUEUED


def test_the_second_retry_comes_three_hours_later_and_then_no_more(row):
    _call(row, T0)
    second = T0 + timedelta(minutes=16)
    _call(row, second, CallOutcome.VOICEMAIL, CallTrigger.RETRY)
    plan = autocall.retry_plan(row)
    assert (plan.number, plan.total) == (3, 3)
    assert plan.due_at == second + timedelta(minutes=1 + 180)
    _call(row, plan.due_at, CallOutcome.DROPPED, CallTrigger.RETRY)
    assert autocall.retry_plan(row) is None
    assert autocall.plan_retries(plan.due_at + timedelta(hours=5)) == 0


@pytest.mark.parametrize("outcome", [CallOutcome.BUSY, CallOutcome.VOICEMAIL, CallOutcome.DROPPED])
def test_busy_voicemail_and_dropped_calls_are_retried(row, outcome):
    _call(row, T0, outcome)
    assert autocall.retry_plan(row) is not None


@pytest.mark.parametrize(
    "outcome",
    [CallOutcome.CONFIRMED, CallOutcome.DENIED, CallOutcome.UNCLEAR, CallOutcome.FAILED],
)
def test_answered_or_failed_calls_are_not_retried(row, outcome):
    _call(row, T0, outcome)
    assert autocall.plan_retries(T0 + timedelta(hours=1)) == 0
    assert autocall.retry_plan(row) is None


def test_no_retry_after_resolved_or_fraud_even_if_the_last_call_went_unanswered(row):
    _call(row, T0)
    for final in (Status.RESOLVED, Status.FRAUD):
        Transaction.objects.filter(pk=row.pk).update(status=final)
        row.refresh_from_db()
        assert autocall.retry_plan(row) is None
    assert autocall.plan_retries(T0 + timedelta(hours=1)) == 0


def test_a_manual_call_is_not_followed_by_retries(row):
    _call(row, T0, trigger=CallTrigger.MANUAL)
    assert autocall.retry_plan(row) is None


def test_retries_stay_within_the_window(row, settings):
    settings.CALL_RETRY_DELAYS_MINUTES = [60 * 40, 60 * 40]
    _call(row, T0)
    _call(row, T0 + timedelta(hours=40), trigger=CallTrigger.RETRY)
    # A third call 40 h after the second would come 80 h after the first: past 72 h.
    assert autocall.retry_plan(row) is None


def test_the_number_of_retries_follows_the_settings(row, settings):
    settings.CALL_RETRY_DELAYS_MINUTES = [5]
    _call(row, T0)
    assert autocall.retry_plan(row).total == 2
    _call(row, T0 + timedelta(minutes=6), trigger=CallTrigger.RETRY)
    assert autocall.retry_plan(row) is None


@pytest.mark.parametrize("field", ["status", "phone"])
def test_a_manual_edit_after_the_call_cancels_the_pending_retry(row, field):
    _call(row, T0)
    autocall.plan_retries(T0 + timedelta(minutes=2))
    _audit(row, field, T0 + timedelta(minutes=5))
    autocall.promote_scheduled(T0 + timedelta(minutes=16))
    row.refresh_from_db()
    assert (row.queue_state, row.next_call_at) == ("", None)
    assert autocall.plan_retries(T0 + timedelta(minutes=17)) == 0


def test_a_phone_edit_through_the_model_cancels_the_pending_retry(row, alice):
    _call(row, T0)
    autocall.plan_retries(T0 + timedelta(minutes=2))
    row.set_phone_by(alice, "+919876500000")
    autocall.promote_scheduled(timezone.now())
    row.refresh_from_db()
    assert row.queue_state == ""


def test_a_status_set_by_hand_cancels_the_pending_retry(row, sam):
    _call(row, T0)
    autocall.plan_retries(T0 + timedelta(minutes=2))
    row.set_status_by(sam, Status.PENDING)
    row.refresh_from_db()
    assert row.queue_state == ""
    assert autocall.plan_retries(timezone.now()) == 0


def test_cancelling_pending_calls_stops_the_series(row, alice):
    _call(row, T0)
    autocall.plan_retries(T0 + timedelta(minutes=2))
    assert autocall.cancel_calls(Transaction.objects.filter(pk=row.pk), user=alice) == 1
    assert autocall.plan_retries(timezone.now()) == 0


def _exhausted_series(row):
    for i, trigger in enumerate([CallTrigger.BULK, CallTrigger.RETRY, CallTrigger.RETRY]):
        _call(row, T0 + timedelta(hours=i), trigger=trigger)
    assert autocall.retry_plan(row) is None


def test_a_new_bulk_request_after_three_days_starts_a_new_series(row):
    _exhausted_series(row)
    _call(row, T0 + timedelta(days=4))
    assert autocall.retry_plan(row).number == 2


def test_no_retry_makes_more_than_three_automatic_calls_in_three_days(row):
    _exhausted_series(row)
    # An analyst asks again the next day: that call goes, but it earns no retry.
    _call(row, T0 + timedelta(days=1))
    assert autocall.retry_plan(row) is None
    assert autocall.plan_retries(T0 + timedelta(days=1, hours=1)) == 0


def test_an_opted_out_customer_gets_no_retry(row):
    _call(row, T0)
    autocall.plan_retries(T0 + timedelta(minutes=2))
    Transaction.objects.filter(pk=row.pk).update(opted_out_at=T0 + timedelta(minutes=3))
    autocall.drop_unwanted()
    row.refresh_from_db()
    assert row.queue_state == ""
    assert autocall.plan_retries(T0 + timedelta(minutes=20)) == 0


def test_a_retry_due_at_night_waits_for_the_morning(make_transaction):
    row = make_transaction(phone=LOS_ANGELES)
    evening = datetime(2026, 1, 16, 4, 50, tzinfo=UTC)  # 20:50 in Los Angeles
    _call(row, evening)
    autocall.plan_retries(evening + timedelta(minutes=2))
    row.refresh_from_db()
    assert row.queue_state == QueueState.SCHEDULED
    assert row.next_call_at == datetime(2026, 1, 16, 16, 0, tzinfo=UTC)  # 08:00 PST


def test_an_unanswered_call_placed_through_twilio_is_retried(
    make_transaction, twilio_api, twilio_post, always_open
):
    """End to end: a bulk call placed through the REST API, Twilio's no-answer callback, a retry."""
    row = make_transaction(phone=INDIA)
    autocall.enqueue_calls(Transaction.objects.filter(pk=row.pk))
    [(_, slot)] = autocall.dispatch(timezone.now(), lambda pk, slot: None)
    assert autocall.place_claimed_call(row.pk, slot, timezone.now(), None) == "placed"
    sid = twilio_api.calls[0]["sid"]
    response = twilio_post(
        f"/status/{row.public_id}",
        {"CallSid": sid, "CallStatus": "no-answer", "SequenceNumber": 3, "To": row.phone},
    )
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.status == Status.NOT_ANSWERED
    assert autocall.plan_retries(timezone.now()) == 1
    row.refresh_from_db()
    assert row.queue_label == "Retry 2 of 3"
    assert row.next_call_at > timezone.now() + timedelta(minutes=14)
