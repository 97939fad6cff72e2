"""Callbacks out of order, repeated or odd never move a call back or end it twice."""

import pytest

from transactions.models import CallEvent, CallOutcome, Status
from voiceflow.intents import Intent

STATUS = "/status/TXN001"


@pytest.fixture
def callback(twilio_post, call):
    def post(call_status, sequence=None, **params):
        body = {"CallSid": call.call_sid, "CallStatus": call_status, **params}
        if sequence is not None:
            body["SequenceNumber"] = sequence
        return twilio_post(STATUS, body)

    return post


def test_a_sequenced_callback_never_moves_a_call_back_after_an_unsequenced_end(callback, call, txn):
    callback("ringing", 1)
    callback("no-answer")  # a final callback without a SequenceNumber
    callback("in-progress", 2)  # late, though numbered higher than anything seen
    call.refresh_from_db()
    txn.refresh_from_db()
    assert call.twilio_status == "no-answer"
    assert (call.outcome, txn.status) == (CallOutcome.NO_ANSWER, Status.NOT_ANSWERED)
    assert call.answered_at is None


def test_the_end_of_a_call_is_handled_once_whatever_arrives_after(callback, call, txn):
    callback("completed", 3, CallDuration="42")
    call.refresh_from_db()
    first = (call.ended_at, call.outcome, call.duration_seconds)
    callback("completed", 4, CallDuration="99")
    callback("busy")
    call.refresh_from_db()
    assert (call.ended_at, call.outcome, call.duration_seconds) == first
    statuses = CallEvent.objects.filter(call=call, kind=CallEvent.Kind.STATUS)
    assert statuses.count() == 1


@pytest.mark.parametrize("confidence", ["nan", "NaN", "inf", "-Infinity", "1e999", "high"])
def test_a_yes_with_a_non_finite_confidence_is_asked_again(twilio_post, call, txn, confidence):
    twilio_post("/voice/TXN001/step0", {"CallSid": call.call_sid})
    response = twilio_post(
        "/voice/TXN001/step0/response",
        {"CallSid": call.call_sid, "SpeechResult": "yes", "Confidence": confidence},
    )
    assert b"<Gather" in response.content  # the same question again
    txn.refresh_from_db()
    assert txn.status == Status.CONNECTING
    heard = CallEvent.objects.get(call=call, kind=CallEvent.Kind.ANSWER)
    assert (heard.intent, heard.confidence) == (Intent.UNCLEAR, 0.0)
