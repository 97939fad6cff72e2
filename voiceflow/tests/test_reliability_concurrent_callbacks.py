"""Status callbacks duplicated, reordered and unknown, arriving at the same moment.

Each thread posts through its own client and database connection, signed as
Twilio signs; the serial cases are in test_status_view.py.
"""

import random

import pytest
from django.conf import settings
from django.test import Client

from conftest import twilio_signature
from transactions.models import CallEvent, Status
from transactions.tests.concurrency import errors_in, run_together
from voiceflow.calls import request_call

pytestmark = pytest.mark.django_db(transaction=True)


def _post(path, params):
    params = {k: str(v) for k, v in params.items()}
    signature = twilio_signature(settings.PUBLIC_URL + path, params)

    def send():
        return Client().post(path, params, headers={"X-Twilio-Signature": signature})

    return send


def _callback(txn, sid, call_status, sequence, **extra):
    return _post(
        f"/status/{txn.public_id}",
        {
            "CallSid": sid,
            "AccountSid": settings.TWILIO_SID,
            "CallStatus": call_status,
            "SequenceNumber": sequence,
            "CallbackSource": "call-progress-events",
            **extra,
        },
    )


def _status_events(attempt):
    return list(
        CallEvent.objects.filter(call=attempt, kind=CallEvent.Kind.STATUS).values_list(
            "sequence_number", flat=True
        )
    )


def test_duplicated_and_reordered_callbacks_at_once_end_forward_and_once(txn, twilio_api):
    attempt = request_call(txn)
    sends = []
    for _ in range(4):
        sends += [
            _callback(txn, attempt.call_sid, "initiated", 0),
            _callback(txn, attempt.call_sid, "ringing", 1),
            _callback(txn, attempt.call_sid, "no-answer", 2),
        ]
    random.Random(7).shuffle(sends)

    results = run_together(*sends)

    assert errors_in(results) == []
    assert [r.status_code for r in results] == [200] * len(sends)
    attempt.refresh_from_db()
    txn.refresh_from_db()
    assert attempt.twilio_status == "no-answer"
    assert attempt.last_sequence == 2
    assert txn.status == Status.NOT_ANSWERED
    # Each sequence number applied at most once, the last one always.
    events = _status_events(attempt)
    assert len(events) == len(set(events))
    assert 2 in events


def test_late_callbacks_racing_each_other_never_undo_the_customers_answer(txn, twilio_api):
    attempt = request_call(txn)
    client = Client()
    for path, params in (
        (f"/voice/{txn.public_id}/step0", {"CallSid": attempt.call_sid}),
        (
            f"/voice/{txn.public_id}/step0/response",
            {"CallSid": attempt.call_sid, "Digits": "2"},
        ),
    ):
        params = {"AccountSid": settings.TWILIO_SID, **params}
        signature = twilio_signature(settings.PUBLIC_URL + path, params)
        response = client.post(path, params, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200
    txn.refresh_from_db()
    assert txn.status == Status.FRAUD

    sends = [_callback(txn, attempt.call_sid, "completed", 5, CallDuration=40)] * 6
    sends += [_callback(txn, attempt.call_sid, s, n) for n, s in enumerate(["ringing"] * 4)]
    results = run_together(*sends)

    assert [r.status_code for r in results] == [200] * len(sends)
    txn.refresh_from_db()
    assert txn.status == Status.FRAUD
    assert len([e for e in _status_events(attempt) if e == 5]) == 1


def test_callbacks_for_unknown_calls_at_once_change_nothing(txn, twilio_api):
    attempt = request_call(txn)
    sends = [_callback(txn, f"CA{n:032d}", "completed", 3) for n in range(8)] + [
        _callback(txn.__class__(public_id="NOPE"), attempt.call_sid, "completed", 3)
    ] * 4

    results = run_together(*sends)

    assert [r.status_code for r in results] == [200] * len(sends)
    attempt.refresh_from_db()
    txn.refresh_from_db()
    assert txn.status == Status.CONNECTING
    assert attempt.twilio_status != "completed"
    assert _status_events(attempt) == []
