"""manage.py simulate_call: one call, played through the real HTTP stack in this process."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from simulator.models import SimCall
from transactions.models import Status

pytestmark = pytest.mark.django_db
# The command serves our app on its own thread: the database must not hide in a transaction.
over_http = pytest.mark.django_db(transaction=True)


def _simulate(*args):
    out = StringIO()
    call_command("simulate_call", *args, stdout=out)
    return out.getvalue()


@over_http
def test_it_plays_the_replies_given_and_prints_the_conversation(txn):
    out = _simulate("TXN001", "--say", "no", "--say", "no", "--say", "yes", "--say", "virtual")

    txn.refresh_from_db()
    assert txn.status == Status.FRAUD
    assert txn.card_delivery == "virtual"
    assert "Did you make this payment?" in out
    assert "Customer  virtual" in out
    assert "TXN001 is now Mark As Fraud" in out
    assert "card_delivery=virtual" in out
    # Played here: nothing was left queued for a worker to play a second time.
    assert not DBTaskResult.objects.exists()


@over_http
def test_it_presses_keys(txn):
    out = _simulate("TXN001", "--press", "1")

    txn.refresh_from_db()
    assert txn.status == Status.RESOLVED
    assert "(presses 1)" in out


@over_http
def test_it_plays_a_chosen_persona(txn):
    out = _simulate("TXN001", "--persona", "4")

    txn.refresh_from_db()
    assert txn.status == Status.NOT_ANSWERED
    assert "The line is busy." in out
    assert SimCall.objects.get().state == "busy"


def test_it_refuses_an_unknown_transaction(db):
    with pytest.raises(CommandError, match="No transaction TXN404"):
        _simulate("TXN404")


def test_it_refuses_a_row_that_may_not_be_called(make_transaction):
    make_transaction(public_id="TXN009", status=Status.RESOLVED)

    with pytest.raises(CommandError, match="resolved"):
        _simulate("TXN009")
    assert not SimCall.objects.exists()


@over_http
def test_it_explains_a_number_twilio_rejects(make_transaction):
    make_transaction(public_id="TXN010", phone="+15005550002")

    with pytest.raises(CommandError, match="21214"):
        _simulate("TXN010")


def test_it_needs_the_simulator(txn, settings):
    settings.SIMULATION = False

    with pytest.raises(CommandError, match="unset TWILIO_SID"):
        _simulate("TXN001")
