"""A CreateCall that got no readable answer may still have placed the call.

The attempt stays on the line as "not known yet", the call is looked up in
Twilio's call list and adopted when it exists, and a new call is allowed only
once it is known that none was placed. Twilio's REST API is the local stand-in.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from transactions.models import CALL_NOT_KNOWN, CallAttempt, CallOutcome, Status
from voiceflow.calls import CallNotKnown, request_call, settle_unknown_calls

from .autocall_kit import INDIA


@pytest.fixture
def slow_twilio(twilio_api, settings):
    settings.TWILIO_HTTP_TIMEOUT = 0.5
    yield twilio_api
    twilio_api.release()


def test_a_call_placed_behind_a_timeout_is_adopted_not_repeated(
    make_transaction, slow_twilio, twilio_post
):
    txn = make_transaction(phone=INDIA)
    slow_twilio.mode = "hold_after_accepting"  # Twilio has the call, the answer never comes

    attempt = request_call(txn)

    assert attempt.call_sid == slow_twilio.calls[0]["sid"]
    assert (attempt.error_code, attempt.ended_at) == ("", None)
    # Its webhooks find the call: the customer hears the questions, not "we could not find".
    response = twilio_post(f"/voice/{txn.public_id}/step0", {"CallSid": attempt.call_sid})
    assert b"<Gather" in response.content
    assert slow_twilio.placed_to(INDIA) == 1


def test_a_call_not_found_yet_keeps_the_row_on_the_line(
    make_transaction, slow_twilio, analyst_client
):
    txn = make_transaction(phone=INDIA)
    slow_twilio.mode = "hold_then_lose"  # no answer, and Twilio never took it

    response = analyst_client.post(reverse("call", args=[txn.public_id]))

    assert response.status_code == 202
    assert "may have been placed" in response.json()["message"]
    attempt = CallAttempt.objects.get(transaction=txn)
    assert (attempt.error_code, attempt.ended_at, attempt.outcome) == (CALL_NOT_KNOWN, None, "")
    txn.refresh_from_db()
    assert txn.status == Status.CONNECTING
    # Not known yet: a second click is refused, nothing is sent to Twilio.
    slow_twilio.mode = "normal"
    sent = len(slow_twilio.requests)
    again = analyst_client.post(reverse("call", args=[txn.public_id]))
    assert again.status_code == 409
    assert len(slow_twilio.requests) == sent


def test_once_twilios_list_shows_no_call_the_row_may_be_called_again(make_transaction, slow_twilio):
    txn = make_transaction(phone=INDIA)
    slow_twilio.mode = "hold_then_lose"
    with pytest.raises(CallNotKnown):
        request_call(txn)
    slow_twilio.mode = "normal"
    slow_twilio.release()

    # Within the grace period the list is not trusted yet.
    assert settle_unknown_calls(timezone.now())["waiting"] == 1
    later = timezone.now() + timedelta(minutes=2)
    assert settle_unknown_calls(later)["not placed"] == 1

    attempt = CallAttempt.objects.get(transaction=txn)
    txn.refresh_from_db()
    assert (attempt.outcome, attempt.ended_at is not None) == (CallOutcome.FAILED, True)
    assert txn.status == Status.DISCONNECTED
    assert request_call(txn).call_sid  # the analyst can call again now


def test_a_webhook_of_the_not_known_call_adopts_it(make_transaction, slow_twilio, twilio_post):
    txn = make_transaction(phone=INDIA)
    slow_twilio.mode = "hold_then_lose"
    with pytest.raises(CallNotKnown):
        request_call(txn)
    sid = "CA" + "8" * 32
    response = twilio_post(f"/voice/{txn.public_id}/step0", {"CallSid": sid})
    assert b"<Gather" in response.content
    attempt = CallAttempt.objects.get(transaction=txn)
    assert (attempt.call_sid, attempt.error_code) == (sid, "")
    assert settle_unknown_calls(timezone.now() + timedelta(minutes=2)) == {
        "adopted": 0,
        "not placed": 0,
        "waiting": 0,
    }
