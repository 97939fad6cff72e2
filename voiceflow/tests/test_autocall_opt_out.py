"""Opt-out: a customer who presses 9 or says "stop calling" gets no more automatic calls."""

import pytest
from django.conf import settings
from django.utils import timezone

from transactions.models import CallOutcome, Transaction
from voiceflow import autocall

from .autocall_kit import INDIA

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("always_open")]


def _bulk_call(row):
    """Queue the row, give it a slot and place its call through the Twilio stand-in."""
    autocall.enqueue_calls(Transaction.objects.filter(pk=row.pk))
    [(_, slot)] = autocall.dispatch(timezone.now(), lambda pk, slot: None)
    assert autocall.place_claimed_call(row.pk, slot, timezone.now(), None) == "placed"
    return row.calls.get()


@pytest.mark.parametrize(
    "answer",
    [{"Digits": "9"}, {"SpeechResult": "please stop calling me", "Confidence": "0.92"}],
    ids=["keypad", "speech"],
)
def test_an_opted_out_customer_gets_no_more_automatic_calls(
    make_transaction, twilio_api, twilio_post, answer
):
    row = make_transaction(phone=INDIA)
    call = _bulk_call(row)
    params = {"CallSid": call.call_sid, "AccountSid": settings.TWILIO_SID, "To": row.phone}
    assert twilio_post(f"/voice/{row.public_id}/step0", params).status_code == 200
    response = twilio_post(f"/voice/{row.public_id}/step0/response", {**params, **answer})
    assert response.status_code == 200
    twilio_post(
        f"/status/{row.public_id}", {**params, "CallStatus": "completed", "SequenceNumber": "4"}
    )
    row.refresh_from_db()
    call.refresh_from_db()
    assert row.opted_out_at is not None
    assert call.outcome == CallOutcome.OPTED_OUT

    # Neither a retry nor a new bulk request calls again.
    assert autocall.plan_retries(timezone.now()) == 0
    again = autocall.enqueue_calls(Transaction.objects.filter(pk=row.pk))
    assert (again.queued, again.scheduled, again.skipped) == (0, 0, 1)
    assert autocall.dispatch(timezone.now(), lambda pk, slot: None) == []
    assert twilio_api.placed_to(INDIA) == 1


def test_an_opt_out_during_a_call_drops_the_retry_planned_for_it(
    make_transaction, twilio_api, twilio_post
):
    row = make_transaction(phone=INDIA)
    call = _bulk_call(row)
    params = {"CallSid": call.call_sid, "AccountSid": settings.TWILIO_SID, "To": row.phone}
    # Queued again (say by a second analyst) while the customer is on the line.
    Transaction.objects.filter(pk=row.pk).update(
        queue_state="scheduled", next_call_at=timezone.now()
    )
    twilio_post(f"/voice/{row.public_id}/step0", params)
    twilio_post(f"/voice/{row.public_id}/step0/response", {**params, "Digits": "9"})
    autocall.drop_unwanted()
    autocall.promote_scheduled(timezone.now())
    row.refresh_from_db()
    assert (row.queue_state, row.next_call_at) == ("", None)
