"""/status/<id>: Twilio's call-progress callbacks, duplicated, late and out of order."""

import pytest
from django.conf import settings

from transactions.models import CallEvent, CallOutcome, CallTrigger, Status

STATUS = "/status/TXN001"


@pytest.fixture
def callback(twilio_post, call):
    def post(call_status, sequence=None, *, sid=None, path=STATUS, **params):
        body = {
            "CallSid": sid or call.call_sid,
            "AccountSid": settings.TWILIO_SID,
            "CallStatus": call_status,
            "CallbackSource": "call-progress-events",
            "Direction": "outbound-api",
            "Timestamp": "Sat, 15 Mar 2025 10:00:00 +0000",
        }
        if sequence is not None:
            body["SequenceNumber"] = sequence
        body.update(params)
        response = twilio_post(path, body)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/xml")
        return response

    return post


def _state(txn, call):
    txn.refresh_from_db()
    call.refresh_from_db()
    return txn.status, call.twilio_status, call.outcome


@pytest.mark.parametrize(
    ("final", "status", "outcome"),
    [
        ("no-answer", Status.NOT_ANSWERED, CallOutcome.NO_ANSWER),
        ("busy", Status.NOT_ANSWERED, CallOutcome.BUSY),
        ("failed", Status.DISCONNECTED, CallOutcome.FAILED),
        ("canceled", Status.DISCONNECTED, CallOutcome.FAILED),
        ("completed", Status.DISCONNECTED, CallOutcome.DROPPED),
    ],
)
def test_each_final_call_status_sets_the_row(callback, call, txn, final, status, outcome):
    callback("initiated", 0)
    callback("ringing", 1)
    callback(final, 2, CallDuration="0")
    assert _state(txn, call) == (status, final, outcome)
    assert call.ended_at is not None
    assert call.last_sequence == 2


@pytest.mark.parametrize("progress", ["queued", "initiated", "ringing", "in-progress"])
def test_progress_statuses_keep_the_row_connecting(callback, call, txn, progress):
    callback(progress, 1)
    assert _state(txn, call) == (Status.CONNECTING, progress, "")


def test_answered_sets_the_answer_time(callback, call):
    callback("in-progress", 2)
    call.refresh_from_db()
    assert call.answered_at is not None


def test_a_machine_answering_is_not_answered(callback, call, txn):
    callback("in-progress", 2, AnsweredBy="machine_end_silence")
    callback("completed", 3, AnsweredBy="machine_end_silence", CallDuration="12")
    assert _state(txn, call) == (Status.NOT_ANSWERED, "completed", CallOutcome.VOICEMAIL)
    assert call.answered_by == "machine_end_silence"
    assert call.duration_seconds == 12


def test_a_duplicate_callback_is_a_no_op(callback, call, txn):
    callback("ringing", 1)
    callback("ringing", 1)
    assert CallEvent.objects.filter(kind=CallEvent.Kind.STATUS).count() == 1
    callback("no-answer", 2)
    callback("no-answer", 2)
    assert _state(txn, call) == (Status.NOT_ANSWERED, "no-answer", CallOutcome.NO_ANSWER)
    assert CallEvent.objects.filter(kind=CallEvent.Kind.STATUS).count() == 2


def test_a_late_callback_never_moves_the_call_back(callback, call, txn):
    callback("completed", 3)
    callback("ringing", 1)  # delivered late
    callback("initiated", 0)
    callback("in-progress", 2)
    assert _state(txn, call) == (Status.DISCONNECTED, "completed", CallOutcome.DROPPED)
    assert call.last_sequence == 3


def test_callbacks_without_sequence_numbers_only_move_forward(callback, call, txn):
    callback("ringing")
    callback("completed")
    callback("ringing")
    assert _state(txn, call)[:2] == (Status.DISCONNECTED, "completed")


def test_a_late_completed_never_overwrites_resolved(callback, call, txn, twilio_post):
    twilio_post("/voice/TXN001/step0", {"CallSid": call.call_sid})
    twilio_post("/voice/TXN001/step0/response", {"CallSid": call.call_sid, "Digits": "1"})
    callback("completed", 3)
    callback("completed", 3)
    assert _state(txn, call) == (Status.RESOLVED, "completed", CallOutcome.CONFIRMED)


def test_no_callback_overwrites_mark_as_fraud(callback, call, txn, twilio_post):
    twilio_post("/voice/TXN001/step0", {"CallSid": call.call_sid})
    twilio_post("/voice/TXN001/step0/response", {"CallSid": call.call_sid, "Digits": "2"})
    for n, status in enumerate(["failed", "busy", "no-answer", "canceled", "completed"], 3):
        callback(status, n)
    assert _state(txn, call)[0] == Status.FRAUD
    assert call.outcome == CallOutcome.DENIED


def test_an_old_calls_late_callback_does_not_touch_the_new_call(callback, call, txn, place):
    callback("completed", 3)
    second = place(txn)
    callback("completed", 4, sid=call.call_sid)  # the old call again, delivered late
    txn.refresh_from_db()
    assert txn.status == Status.CONNECTING
    second.refresh_from_db()
    assert second.twilio_status == "queued"


def test_an_unknown_call_sid_is_a_no_op(callback, txn, call):
    callback("completed", 3, sid="CA" + "f" * 32)
    assert _state(txn, call) == (Status.CONNECTING, "queued", "")
    assert not CallEvent.objects.exists()


def test_an_unknown_transaction_is_a_no_op(callback, txn, call):
    callback("completed", 3, path="/status/NOPE")
    assert _state(txn, call) == (Status.CONNECTING, "queued", "")


def test_a_callback_before_the_sid_is_stored_finds_the_call(twilio_post, txn):
    attempt = txn.begin_call(trigger=CallTrigger.MANUAL)
    sid = "CA" + "2" * 32
    twilio_post(STATUS, {"CallSid": sid, "CallStatus": "ringing", "SequenceNumber": "1"})
    attempt.refresh_from_db()
    assert (attempt.call_sid, attempt.twilio_status, attempt.last_sequence) == (sid, "ringing", 1)


def test_the_end_of_a_call_is_handled_once(callback, call, txn):
    callback("busy", 2)
    call.refresh_from_db()
    ended_at = call.ended_at
    callback("completed", 3)  # a later terminal callback changes nothing
    call.refresh_from_db()
    txn.refresh_from_db()
    assert (call.ended_at, call.outcome, call.twilio_status) == (ended_at, "busy", "busy")
    assert txn.status == Status.NOT_ANSWERED


@pytest.mark.parametrize("signature", ["", "not-a-signature"])
def test_it_rejects_a_missing_or_forged_signature(twilio_post, call, txn, signature):
    response = twilio_post(
        STATUS,
        {"CallSid": call.call_sid, "CallStatus": "completed", "SequenceNumber": "3"},
        signature=signature,
    )
    assert response.status_code == 403
    assert _state(txn, call) == (Status.CONNECTING, "queued", "")


def test_it_rejects_get(client, call):
    assert client.get(STATUS).status_code == 405


@pytest.mark.parametrize("name", ["SequenceNumber", "CallDuration"])
@pytest.mark.parametrize("value", ["9" * 25, "-1", "ten", "1e3"])
def test_a_number_no_column_can_hold_is_ignored(callback, call, txn, name, value):
    callback("completed", **{name: value})
    assert _state(txn, call) == (Status.DISCONNECTED, "completed", CallOutcome.DROPPED)
    # The odd number is not stored; the other column was not sent at all.
    assert (call.last_sequence, call.duration_seconds) == (None, None)
