"""Two deliveries of the same answer at the same moment (Twilio retrying) count once."""

import threading

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from conftest import twilio_signature
from transactions.models import CallEvent, CallTrigger, Status

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_repeated_answer_arriving_together_is_recorded_once(call, txn, twilio_post):
    twilio_post("/voice/TXN001/step0", {"CallSid": call.call_sid})
    path = "/voice/TXN001/step0/response"
    params = {"CallSid": call.call_sid, "Digits": "2"}
    headers = {"X-Twilio-Signature": twilio_signature(settings.PUBLIC_URL + path, params)}
    start = threading.Barrier(4)
    codes = []

    def deliver():
        try:
            start.wait()
            codes.append(Client().post(path, params, headers=headers).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert codes == [200] * 4
    assert CallEvent.objects.filter(kind=CallEvent.Kind.ANSWER).count() == 1
    txn.refresh_from_db()
    assert txn.status == Status.FRAUD
    call.refresh_from_db()
    assert call.current_step == "1"


def test_webhooks_racing_before_the_sid_is_stored_all_find_the_call(txn):
    # request_call has claimed the row and created the attempt; Twilio's REST answer
    # is not back yet when the answer webhook and two callbacks arrive together.
    attempt = txn.begin_call(trigger=CallTrigger.MANUAL)
    sid = "CA" + "4" * 32
    requests = [
        ("/voice/TXN001/step0", {"CallSid": sid}),
        ("/status/TXN001", {"CallSid": sid, "CallStatus": "ringing", "SequenceNumber": "1"}),
        ("/status/TXN001", {"CallSid": sid, "CallStatus": "in-progress", "SequenceNumber": "2"}),
    ]
    start = threading.Barrier(len(requests))
    bodies = {}

    def deliver(path, params):
        signature = twilio_signature(settings.PUBLIC_URL + path, params)
        try:
            start.wait()
            response = Client().post(path, params, headers={"X-Twilio-Signature": signature})
            bodies[params.get("CallStatus", "voice")] = response.content.decode()
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=request) for request in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert "<Gather" in bodies["voice"]  # the customer is asked, not told goodbye
    attempt.refresh_from_db()
    assert attempt.call_sid == sid
    assert (attempt.twilio_status, attempt.last_sequence) == ("in-progress", 2)
    # Ringing is applied, or ignored when in-progress got there first (it is older).
    applied = CallEvent.objects.filter(kind=CallEvent.Kind.STATUS)
    assert set(applied.values_list("sequence_number", flat=True)) in ({1, 2}, {2})
