"""sweep_stale_calls and `manage.py sweep_stale_calls`: calls Twilio never reported on."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from transactions.models import CallAttempt, CallEvent, CallOutcome, Status, Transaction
from voiceflow.calls import sweep_stale_calls


def _age(txn, attempt, minutes):
    then = timezone.now() - timedelta(minutes=minutes)
    Transaction.objects.filter(pk=txn.pk).update(updated_at=then)
    if attempt is not None:
        CallAttempt.objects.filter(pk=attempt.pk).update(created_at=then)
        CallEvent.objects.filter(call=attempt).update(created_at=then)


def _status(txn):
    txn.refresh_from_db()
    return txn.status


def test_a_call_with_no_word_for_ten_minutes_is_disconnected(call, txn):
    _age(txn, call, 11)
    assert sweep_stale_calls() == 1
    assert _status(txn) == Status.DISCONNECTED
    call.refresh_from_db()
    assert call.outcome == CallOutcome.FAILED
    assert "No word from Twilio" in call.error_message
    assert call.ended_at is not None


def test_a_recent_call_is_left_alone(call, txn):
    _age(txn, call, 5)
    assert sweep_stale_calls() == 0
    assert _status(txn) == Status.CONNECTING


def test_a_call_still_talking_is_left_alone(call, txn, twilio_post):
    _age(txn, call, 30)
    # The customer is answering questions right now: recent events.
    twilio_post("/voice/TXN001/step0", {"CallSid": call.call_sid})
    Transaction.objects.filter(pk=txn.pk).update(updated_at=timezone.now() - timedelta(minutes=30))
    assert sweep_stale_calls() == 0
    assert _status(txn) == Status.CONNECTING


def test_a_stale_re_call_of_a_fraud_row_ends_and_the_verdict_stays(call, txn):
    Transaction.objects.filter(pk=txn.pk).update(status=Status.FRAUD)
    _age(txn, call, 11)
    assert sweep_stale_calls() == 1
    assert _status(txn) == Status.FRAUD
    call.refresh_from_db()
    assert call.ended_at is not None  # the row may be called again


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.FRAUD, Status.PENDING])
def test_rows_not_connecting_are_never_touched(make_transaction, status):
    txn = make_transaction(status=status)
    _age(txn, None, 60)
    assert sweep_stale_calls() == 0
    assert _status(txn) == status


def test_the_window_is_a_setting(call, txn, settings):
    settings.STALE_CALL_MINUTES = 2
    _age(txn, call, 3)
    assert sweep_stale_calls() == 1


def test_the_command_reports_how_many(call, txn):
    _age(txn, call, 11)
    out = StringIO()
    call_command("sweep_stale_calls", stdout=out)
    assert out.getvalue().strip() == "1 stale call(s) marked Disconnected."
    assert _status(txn) == Status.DISCONNECTED
