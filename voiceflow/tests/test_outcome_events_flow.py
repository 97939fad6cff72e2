"""Outcome events from real calls: signed Twilio webhooks in, one event per cause out.

Calls are placed by the real twilio client against the local stand-in; the
customer's answers and Twilio's status callbacks arrive as signed webhooks.
"""

import pytest

from transactions.models import CallTrigger, EventType, OutcomeEvent, Status
from transactions.tests.events_kit import Receiver, endpoint_for, run_event_tasks

INDIA = "+919876543210"


@pytest.fixture
def bank():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def _types(txn):
    events = OutcomeEvent.objects.filter(transaction=txn).order_by("id")
    return list(events.values_list("type", flat=True))


def _start(twilio_post, txn, call, **params):
    return twilio_post(f"/voice/{txn.public_id}/step0", {"CallSid": call.call_sid, **params})


def _answer(twilio_post, txn, call, step, **params):
    return twilio_post(
        f"/voice/{txn.public_id}/step{step}/response", {"CallSid": call.call_sid, **params}
    )


def _status(twilio_post, txn, call, call_status, sequence, **params):
    body = {"CallSid": call.call_sid, "CallStatus": call_status, "SequenceNumber": sequence}
    return twilio_post(f"/status/{txn.public_id}", {**body, **params})


def test_a_customers_yes_reaches_the_bank_once_however_often_twilio_repeats_it(
    txn, place, twilio_post, bank
):
    endpoint_for(bank)
    call = place(txn)
    _start(twilio_post, txn, call)
    _answer(twilio_post, txn, call, 0, Digits="1")
    _answer(twilio_post, txn, call, 0, Digits="1")  # Twilio retried the webhook
    _status(twilio_post, txn, call, "completed", 3, CallDuration="20")
    _status(twilio_post, txn, call, "completed", 3, CallDuration="20")

    assert run_event_tasks() == ["delivered"]

    [request] = bank.received
    assert request["verified"] is True
    event = request["event"]
    assert (event["type"], event["data"]["status"]) == (EventType.RESOLVED, Status.RESOLVED)
    assert event["data"]["attempts"][0]["outcome"] == "confirmed"


def test_a_denial_sends_fraud_confirmed_and_the_questions_after_send_nothing(
    txn, place, twilio_post
):
    call = place(txn)
    _start(twilio_post, txn, call)
    _answer(twilio_post, txn, call, 0, Digits="2")
    _answer(twilio_post, txn, call, 1, Digits="2")
    _answer(twilio_post, txn, call, 2, Digits="2")
    _answer(twilio_post, txn, call, 4, Digits="1")
    _status(twilio_post, txn, call, "completed", 4, CallDuration="60")

    assert _types(txn) == [EventType.FRAUD_CONFIRMED]
    data = OutcomeEvent.objects.get().payload["data"]
    assert data["answers"]["authorized"] is False


def test_pressing_9_sends_opted_out(txn, place, twilio_post):
    call = place(txn)
    _start(twilio_post, txn, call)
    _answer(twilio_post, txn, call, 0, Digits="9")

    assert _types(txn) == [EventType.OPTED_OUT]


def test_a_later_call_contradicting_the_verdict_sends_needs_review(txn, place, twilio_post):
    first = place(txn)
    _start(twilio_post, txn, first)
    _answer(twilio_post, txn, first, 0, Digits="2")
    _status(twilio_post, txn, first, "completed", 3, CallDuration="20")
    again = place(txn)  # an analyst may call a fraud row again
    _start(twilio_post, txn, again)
    _answer(twilio_post, txn, again, 0, Digits="1")
    _answer(twilio_post, txn, again, 0, Digits="1")  # repeated webhook

    assert _types(txn) == [EventType.FRAUD_CONFIRMED, EventType.NEEDS_REVIEW]


@pytest.fixture
def two_calls_a_series(settings, always_open):
    settings.CALL_RETRY_DELAYS_MINUTES = [15]  # a bulk call and one retry


def test_unanswered_automatic_calls_send_unreachable_after_the_last_only(
    make_transaction, place, twilio_post, two_calls_a_series
):
    txn = make_transaction(phone=INDIA)
    bulk = place(txn, trigger=CallTrigger.BULK)
    _status(twilio_post, txn, bulk, "no-answer", 1)
    assert _types(txn) == []  # a retry follows

    retry = place(txn, trigger=CallTrigger.RETRY)
    _status(twilio_post, txn, retry, "busy", 1)
    _status(twilio_post, txn, retry, "busy", 1)  # repeated callback

    assert _types(txn) == [EventType.UNREACHABLE]
    data = OutcomeEvent.objects.get().payload["data"]
    assert [a["outcome"] for a in data["attempts"]] == ["no-answer", "busy"]
    assert data["status"] == Status.NOT_ANSWERED


def test_a_voicemail_on_the_last_automatic_call_sends_unreachable(
    make_transaction, place, twilio_post, two_calls_a_series
):
    txn = make_transaction(phone=INDIA)
    bulk = place(txn, trigger=CallTrigger.BULK)
    _status(twilio_post, txn, bulk, "no-answer", 1)
    retry = place(txn, trigger=CallTrigger.RETRY)
    _start(twilio_post, txn, retry, AnsweredBy="machine_end_beep")
    assert _types(txn) == []  # the message is still being left

    _status(twilio_post, txn, retry, "completed", 3, CallDuration="15")

    assert _types(txn) == [EventType.UNREACHABLE]


def test_an_analysts_unanswered_call_sends_nothing(make_transaction, place, twilio_post):
    txn = make_transaction(phone=INDIA)
    call = place(txn)
    _status(twilio_post, txn, call, "no-answer", 1)

    assert _types(txn) == []


def test_the_webhook_never_waits_for_the_bank(txn, place, twilio_post, bank):
    from transactions.tests.events_kit import HANG

    endpoint_for(bank)
    bank.answers = [HANG]
    call = place(txn)
    _start(twilio_post, txn, call)

    response = _answer(twilio_post, txn, call, 0, Digits="1")

    assert response.status_code == 200
    assert bank.received == []  # sent later, by the events worker, never by the webhook
    assert _types(txn) == [EventType.RESOLVED]
