"""The call's state machine on its own: no HTTP, all state in the database."""

import pytest
from django.db import transaction
from django.utils import timezone

from transactions.models import CallAttempt, CallEvent, CallOutcome, Status
from voiceflow import flow, script
from voiceflow.intents import Intent


@pytest.fixture
def started(call):
    reply = flow.start("TXN001", {"CallSid": call.call_sid})
    assert reply.ask.step == 0
    return call


def _answer(call, step, **params):
    return flow.answer("TXN001", step, {"CallSid": call.call_sid, **params})


def test_the_reply_asks_the_next_question_with_its_hints(started):
    reply = _answer(started, 0, Digits="2")
    assert reply.lines == []
    assert reply.ask == flow.Question(1, reply.ask.text, script.HINTS[1])
    assert "shared your card details" in reply.ask.text


def test_step2_says_the_block_before_asking_for_the_card(started, txn):
    _answer(started, 0, Digits="2")
    _answer(started, 1, Digits="2")
    reply = _answer(started, 2, Digits="2")
    assert reply.lines == [script.prompt(3, txn)]
    assert reply.ask.step == 4


def test_re_asks_are_counted_from_the_database_not_memory(started):
    _answer(started, 0, SpeechResult="hmm")
    _answer(started, 0, SpeechResult="hmm")
    # A fresh object, as another web process would load it.
    again = CallAttempt.objects.get(pk=started.pk)
    reply = _answer(again, 0, SpeechResult="hmm")
    assert reply.ask is None
    unclear = CallEvent.objects.filter(call=started, intent=Intent.UNCLEAR)
    assert unclear.count() == script.MAX_REASKS + 1


def test_a_denial_is_kept_even_if_a_yes_follows_in_a_stray_request(started, txn):
    _answer(started, 0, Digits="2")
    CallAttempt.objects.filter(pk=started.pk).update(current_step="0")  # as if replayed
    _answer(started, 0, Digits="1")
    txn.refresh_from_db()
    assert txn.status == Status.FRAUD
    assert txn.authorized is False


def test_a_status_change_on_the_row_during_the_call_is_respected(started, txn, sam):
    txn.set_status_by(sam, Status.RESOLVED)
    reply = _answer(started, 0, Digits="2")
    txn.refresh_from_db()
    started.refresh_from_db()
    assert txn.status == Status.RESOLVED  # a verdict is never overwritten by a call
    assert txn.authorized is None  # nor are the answers of a contradicting call applied
    assert txn.needs_review is True  # a supervisor decides
    assert started.outcome == CallOutcome.DENIED  # the attempt keeps what was said
    assert reply.ask is None and reply.lines == [script.say(script.GOODBYE_REVIEW, txn)]


def test_an_unknown_step_raises(started):
    with pytest.raises(flow.UnknownStep):
        _answer(started, 5, Digits="1")


def test_the_voicemail_only_moves_a_row_waiting_on_this_call(call, txn):
    CallAttempt.objects.filter(pk=call.pk).update(
        outcome=CallOutcome.FAILED, ended_at=timezone.now()
    )
    txn.refresh_from_db()
    newer = CallAttempt.objects.create(transaction=txn, call_sid="CA" + "3" * 32)
    reply = flow.start("TXN001", {"CallSid": call.call_sid, "AnsweredBy": "machine_start"})
    assert reply.ask is None
    txn.refresh_from_db()
    assert txn.status == Status.CONNECTING  # the newer call is the one that counts
    assert newer.pk > call.pk


def test_apply_status_ignores_an_unknown_status(call):
    exploded = {"CallSid": call.call_sid, "CallStatus": "exploded"}
    assert flow.apply_status("TXN001", exploded) is False
    assert flow.apply_status("TXN001", {"CallStatus": "completed"}) is False


def test_find_call_finds_the_attempt_by_sid_and_transaction_id(call, txn):
    with transaction.atomic():
        found = flow.find_call("TXN001", call.call_sid)
        assert flow.find_call("TXN002", call.call_sid) is None  # another row's id
        assert flow.find_call("TXN001", "CA" + "9" * 32) is None  # an unknown SID
    assert (found.pk, found.transaction.pk) == (call.pk, txn.pk)
