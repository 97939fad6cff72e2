"""request_call against a local stand-in for Twilio's REST API, through the real twilio client."""

import base64
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from transactions.models import (
    CALL_NOT_KNOWN,
    CallAttempt,
    CallOutcome,
    CallTrigger,
    QueueState,
    Status,
)
from voiceflow.calls import CallConflict, CallFailed, CallNotKnown, request_call


def _form(request) -> dict:
    values = {}
    for key, value in request["form"]:
        values.setdefault(key, []).append(value)
    return values


def test_it_places_the_call_with_our_urls_and_callbacks(txn, twilio_api, alice):
    attempt = request_call(txn, user=alice)

    assert len(twilio_api.requests) == 1
    sent = twilio_api.requests[0]
    assert sent["path"] == f"/2010-04-01/Accounts/{settings.TWILIO_SID}/Calls.json"
    form = _form(sent)
    assert form["To"] == [txn.phone]
    assert form["From"] == [settings.TWILIO_NUMBER]
    assert form["Url"] == ["http://testserver/voice/TXN001/step0"]
    assert form["Method"] == ["POST"]
    assert form["StatusCallback"] == ["http://testserver/status/TXN001"]
    assert form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert form["StatusCallbackMethod"] == ["POST"]
    assert form["MachineDetection"] == ["Enable"]
    # Basic auth with the account SID and auth token, as Twilio expects.
    auth = base64.b64decode(sent["headers"]["Authorization"].split()[1]).decode()
    assert auth == f"{settings.TWILIO_SID}:{settings.TWILIO_AUTH_TOKEN}"

    assert attempt.call_sid.startswith("CA")
    assert attempt.twilio_status == "queued"
    assert attempt.placed_by == alice
    assert attempt.trigger == CallTrigger.MANUAL
    txn.refresh_from_db()
    assert txn.status == Status.CONNECTING


def test_a_second_call_while_connecting_is_refused_and_places_nothing(txn, twilio_api):
    request_call(txn)
    with pytest.raises(CallConflict, match="already under way"):
        request_call(txn)
    assert len(twilio_api.requests) == 1
    assert CallAttempt.objects.count() == 1


def test_a_resolved_row_is_not_called(make_transaction, twilio_api):
    txn = make_transaction(status=Status.RESOLVED)
    with pytest.raises(CallConflict, match="resolved"):
        request_call(txn)
    assert twilio_api.requests == []
    txn.refresh_from_db()
    assert txn.status == Status.RESOLVED


def test_a_row_without_a_phone_is_not_called(make_transaction, twilio_api):
    txn = make_transaction(phone="")
    with pytest.raises(CallConflict, match="no phone"):
        request_call(txn)
    assert twilio_api.requests == []


def test_a_manual_call_clears_the_automatic_queue(make_transaction, twilio_api):
    txn = make_transaction(
        queue_state=QueueState.SCHEDULED, next_call_at=timezone.now() + timedelta(hours=1)
    )
    request_call(txn)
    txn.refresh_from_db()
    assert txn.queue_state == QueueState.NONE
    assert txn.next_call_at is None


def test_an_opted_out_customer_is_called_only_by_an_analyst(make_transaction, twilio_api):
    txn = make_transaction(opted_out_at=timezone.now())
    with pytest.raises(CallConflict, match="asked not to be called"):
        request_call(txn, trigger=CallTrigger.RETRY)
    assert twilio_api.requests == []
    txn.refresh_from_db()
    assert txn.status == Status.PENDING

    request_call(txn, trigger=CallTrigger.MANUAL)
    assert len(twilio_api.requests) == 1


@pytest.mark.parametrize(
    ("code", "reason", "number_problem"),
    [
        (21211, "Twilio rejected the number (21211)", True),
        (21214, "The number cannot be reached (21214)", True),
        (21217, "Twilio rejected the number (21217)", True),
        (13224, "The number is not in international (E.164) form (13224)", True),
        (20003, "Twilio refused our credentials", False),
        (20429, "Twilio is busy", False),
    ],
)
def test_a_twilio_error_is_kept_and_the_row_is_disconnected(
    txn, twilio_api, code, reason, number_problem
):
    twilio_api.fail(code, "Twilio's own words", status=401 if code == 20003 else 400)
    with pytest.raises(CallFailed) as failed:
        request_call(txn)
    assert failed.value.code == str(code)
    assert reason in failed.value.message
    assert failed.value.number_problem is number_problem
    attempt = CallAttempt.objects.get()
    assert attempt.error_code == str(code)
    assert attempt.outcome == CallOutcome.FAILED
    assert attempt.call_sid is None
    assert attempt.ended_at is not None
    assert reason in attempt.failure_reason
    txn.refresh_from_db()
    assert txn.status == Status.DISCONNECTED


def test_an_unknown_twilio_error_keeps_twilios_message(txn, twilio_api):
    twilio_api.fail(21999, "Something new went wrong")
    with pytest.raises(CallFailed, match="Something new went wrong"):
        request_call(txn)
    assert CallAttempt.objects.get().error_code == "21999"


def test_a_refused_connection_says_twilio_could_not_be_reached(txn, settings, refused_url):
    settings.TWILIO_API_BASE_URL = refused_url
    with pytest.raises(CallFailed, match="Could not reach Twilio") as failed:
        request_call(txn)
    assert failed.value.code == ""
    assert "connection refused" in failed.value.message
    txn.refresh_from_db()
    assert txn.status == Status.DISCONNECTED
    assert CallAttempt.objects.get().error_message.startswith("Could not reach Twilio")


def test_a_slow_twilio_leaves_the_call_not_known_rather_than_failed(txn, twilio_api, settings):
    settings.TWILIO_HTTP_TIMEOUT = 0.2
    twilio_api.reply(201, twilio_api.call_resource(to=txn.phone), delay=1)
    with pytest.raises(CallNotKnown, match="may have been placed"):
        request_call(txn)
    txn.refresh_from_db()
    attempt = txn.calls.get()
    # Twilio may have the call: the row stays on the line until its call list says.
    assert (txn.status, attempt.ended_at, attempt.error_code) == (
        Status.CONNECTING,
        None,
        CALL_NOT_KNOWN,
    )


def test_a_failed_row_can_be_called_again(txn, twilio_api):
    twilio_api.fail(21214, "unreachable")
    with pytest.raises(CallFailed):
        request_call(txn)
    attempt = request_call(txn)
    assert attempt.call_sid
    assert CallAttempt.objects.count() == 2
    txn.refresh_from_db()
    assert txn.status == Status.CONNECTING


def test_it_never_logs_the_auth_token(txn, twilio_api, caplog):
    caplog.set_level("DEBUG")
    twilio_api.fail(21211, "bad number")
    with pytest.raises(CallFailed):
        request_call(txn)
    request_call(txn)
    assert settings.TWILIO_AUTH_TOKEN not in caplog.text
