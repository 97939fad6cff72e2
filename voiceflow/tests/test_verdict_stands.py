"""A customer's verdict stands: later calls record their own outcome, never undo it.

Everything goes through real parts: calls placed by the real twilio client
against the local stand-in, signed webhooks as Twilio sends them, and the
analyst's clicks and bulk requests through the dashboard's URLs.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from transactions.models import (
    CallAttempt,
    CallOutcome,
    CallTrigger,
    QueueState,
    Status,
    Transaction,
)
from voiceflow import autocall, script

INDIA = "+919876543210"


def _start(twilio_post, txn, call, **params):
    return twilio_post(f"/voice/{txn.public_id}/step0", {"CallSid": call.call_sid, **params})


def _answer(twilio_post, txn, call, step, **params):
    path = f"/voice/{txn.public_id}/step{step}/response"
    return twilio_post(path, {"CallSid": call.call_sid, **params})


def _status(twilio_post, txn, call, call_status, sequence, **params):
    body = {"CallSid": call.call_sid, "CallStatus": call_status, "SequenceNumber": sequence}
    return twilio_post(f"/status/{txn.public_id}", {**body, **params})


@pytest.fixture
def fraud_row(make_transaction, twilio_post, place):
    """A row the customer denied on a first call that has ended (Mark As Fraud, physical card)."""
    txn = make_transaction(phone=INDIA)
    first = place(txn)
    _start(twilio_post, txn, first)
    _answer(twilio_post, txn, first, 0, Digits="2")
    _answer(twilio_post, txn, first, 1, Digits="2")
    _answer(twilio_post, txn, first, 2, Digits="2")
    _answer(twilio_post, txn, first, 4, Digits="1")
    _status(twilio_post, txn, first, "completed", 4, CallDuration="60")
    txn.refresh_from_db()
    assert (txn.status, txn.card_delivery) == (Status.FRAUD, "physical")
    return txn


def _recall(place, txn):
    return place(txn, trigger=CallTrigger.MANUAL)


def _row(txn):
    txn.refresh_from_db()
    return txn


@pytest.mark.parametrize(
    ("ending", "outcome"),
    [("busy", CallOutcome.BUSY), ("no-answer", CallOutcome.NO_ANSWER)],
)
def test_an_unanswered_re_call_keeps_mark_as_fraud(fraud_row, place, twilio_post, ending, outcome):
    again = _recall(place, fraud_row)
    assert _row(fraud_row).status == Status.FRAUD  # no Connecting while called again
    _status(twilio_post, fraud_row, again, "ringing", 1)
    _status(twilio_post, fraud_row, again, ending, 2)
    again.refresh_from_db()
    assert again.outcome == outcome
    assert (_row(fraud_row).status, fraud_row.needs_review) == (Status.FRAUD, False)


def test_a_voicemail_on_a_re_call_keeps_mark_as_fraud(fraud_row, place, twilio_post):
    again = _recall(place, fraud_row)
    _start(twilio_post, fraud_row, again, AnsweredBy="machine_end_beep")
    _status(twilio_post, fraud_row, again, "completed", 3, AnsweredBy="machine_end_beep")
    again.refresh_from_db()
    assert again.outcome == CallOutcome.VOICEMAIL
    assert _row(fraud_row).status == Status.FRAUD


def test_a_silent_re_call_keeps_mark_as_fraud(fraud_row, place, twilio_post):
    again = _recall(place, fraud_row)
    _start(twilio_post, fraud_row, again)
    for _ in range(script.MAX_REASKS + 1):
        _answer(twilio_post, fraud_row, again, 0)  # Gather timed out: nothing said
    _status(twilio_post, fraud_row, again, "completed", 3)
    again.refresh_from_db()
    assert again.outcome == CallOutcome.UNCLEAR
    assert _row(fraud_row).status == Status.FRAUD
    assert fraud_row.needs_review is False


def test_a_hang_up_on_a_re_call_keeps_mark_as_fraud(fraud_row, place, twilio_post):
    again = _recall(place, fraud_row)
    _start(twilio_post, fraud_row, again)
    _status(twilio_post, fraud_row, again, "completed", 3, CallDuration="4")
    again.refresh_from_db()
    assert again.outcome == CallOutcome.DROPPED
    assert _row(fraud_row).status == Status.FRAUD


def test_a_yes_on_a_re_call_is_recorded_and_flagged_never_applied(fraud_row, place, twilio_post):
    again = _recall(place, fraud_row)
    _start(twilio_post, fraud_row, again)
    response = _answer(twilio_post, fraud_row, again, 0, Digits="1")
    assert b"review this payment" in response.content
    assert b"<Gather" not in response.content  # no more questions: the call ends
    _status(twilio_post, fraud_row, again, "completed", 3)
    again.refresh_from_db()
    row = _row(fraud_row)
    assert again.outcome == CallOutcome.CONFIRMED  # the attempt keeps what was said
    assert (row.status, row.authorized, row.card_delivery) == (Status.FRAUD, False, "physical")
    assert row.needs_review is True


def test_a_no_on_a_later_call_to_a_resolved_row_is_flagged_not_applied(
    make_transaction, place, twilio_post, sam
):
    txn = make_transaction(phone=INDIA)
    first = place(txn)
    _start(twilio_post, txn, first)
    _answer(twilio_post, txn, first, 0, Digits="1")
    _status(twilio_post, txn, first, "completed", 3)
    assert _row(txn).status == Status.RESOLVED
    # Reopened by a supervisor, called again, and set back to Resolved while it rings.
    txn.set_status_by(sam, Status.DISCONNECTED)
    second = place(txn)
    txn.set_status_by(sam, Status.RESOLVED)
    _start(twilio_post, txn, second)
    response = _answer(twilio_post, txn, second, 0, Digits="2")
    assert b"review this payment" in response.content
    row = _row(txn)
    assert (row.status, row.authorized, row.needs_review) == (Status.RESOLVED, True, True)


def test_only_a_supervisors_status_clears_needs_review(fraud_row, place, twilio_post, sam):
    again = _recall(place, fraud_row)
    _start(twilio_post, fraud_row, again)
    _answer(twilio_post, fraud_row, again, 0, Digits="1")
    _status(twilio_post, fraud_row, again, "completed", 3)
    assert _row(fraud_row).needs_review
    # Confirming the status the row has is the supervisor's decision too.
    assert fraud_row.set_status_by(sam, Status.FRAUD)
    row = _row(fraud_row)
    assert (row.status, row.needs_review) == (Status.FRAUD, False)
    entry = row.audit.get(field="needs_review")
    assert (entry.user, entry.old_value, entry.new_value) == (sam, "yes", "no")


def test_a_denial_mid_call_does_not_free_the_row_for_a_second_call(
    make_transaction, place, twilio_post, analyst_client, twilio_api
):
    txn = make_transaction(phone=INDIA)
    call = place(txn)
    _start(twilio_post, txn, call)
    _answer(twilio_post, txn, call, 0, Digits="2")  # "no": Mark As Fraud, still on the line
    assert _row(txn).status == Status.FRAUD
    placed = len(twilio_api.requests)

    response = analyst_client.post(reverse("call", args=[txn.public_id]))

    assert response.status_code == 409
    assert "already under way" in response.json()["message"]
    assert len(twilio_api.requests) == placed  # the customer is not rung twice
    assert CallAttempt.objects.filter(transaction=txn).count() == 1


def test_a_second_click_during_a_live_call_is_refused(make_transaction, analyst_client, twilio_api):
    txn = make_transaction(phone=INDIA)
    url = reverse("call", args=[txn.public_id])
    assert analyst_client.post(url).status_code == 200
    second = analyst_client.post(url)
    assert second.status_code == 409
    assert len(twilio_api.requests) == 1


def test_a_bulk_request_skips_a_row_with_a_live_call(
    make_transaction, place, twilio_post, analyst_client, sam
):
    txn = make_transaction(phone=INDIA)
    call = place(txn)
    _start(twilio_post, txn, call)
    # Set to Disconnected by hand while the customer is still on the line: a status that
    # may be called automatically, but not while this call lasts.
    txn.set_status_by(sam, Status.DISCONNECTED)
    body = analyst_client.post(reverse("voiceflow:bulk_call"), {"ids": [txn.public_id]}).json()
    assert (body["queued"], body["scheduled"], body["skipped"]) == (0, 0, 1)
    assert _row(txn).queue_state == QueueState.NONE


def test_an_automatic_call_whose_slot_comes_during_a_live_call_places_nothing(
    make_transaction, place, twilio_api, twilio_post, always_open
):
    txn = make_transaction(phone=INDIA)
    now = timezone.now()
    # An unanswered bulk call: a retry is planned for it.
    earlier = place(txn, trigger=CallTrigger.BULK)
    _status(twilio_post, txn, earlier, "no-answer", 2)
    CallAttempt.objects.filter(pk=earlier.pk).update(
        created_at=now - timedelta(minutes=30), ended_at=now - timedelta(minutes=29)
    )
    assert autocall.plan_retries(now) == 1
    # Its slot comes while a call is on the line (placed by another process that has
    # not cleared the queue yet): the worker must not ring the customer again.
    Transaction.objects.filter(pk=txn.pk).update(
        queue_state=QueueState.CALLING, queue_trigger=CallTrigger.BULK, next_call_at=now
    )
    CallAttempt.objects.create(
        transaction=txn, trigger=CallTrigger.MANUAL, call_sid="CA" + "5" * 32
    )
    requests_before = len(twilio_api.requests)
    outcome = autocall.place_claimed_call(txn.pk, now, now, lambda *a: None)
    assert outcome.startswith("conflict")
    assert len(twilio_api.requests) == requests_before


def test_a_late_callback_of_an_old_call_does_not_touch_a_newer_one(
    make_transaction, place, twilio_post
):
    txn = make_transaction(phone=INDIA)
    first = place(txn)
    _status(twilio_post, txn, first, "busy", 2)
    second = place(txn)
    assert _row(txn).status == Status.CONNECTING
    _status(twilio_post, txn, first, "completed", 5)  # late and out of order
    second.refresh_from_db()
    assert (_row(txn).status, second.ended_at) == (Status.CONNECTING, None)
