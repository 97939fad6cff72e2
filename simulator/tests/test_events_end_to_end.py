"""In simulation, an outcome event travels over HTTP to the built-in receiver and is verified."""

import pytest
from django.core.management import call_command

from simulator.models import ReceivedEvent
from transactions.models import EventType, OutcomeEvent
from transactions.tests.events_kit import run_event_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_verdict_arrives_at_the_built_in_receiver_as_make_run_sets_it_up(live, make_transaction):
    call_command("register_event_receiver", verbosity=0)
    txn = make_transaction(external_ref="CASE-7")

    txn.record_answer(False)
    assert run_event_tasks() == ["delivered"]

    received = ReceivedEvent.objects.get()
    assert received.msg_id == OutcomeEvent.objects.get().msg_id
    assert received.type == EventType.FRAUD_CONFIRMED
    assert received.payload["data"]["external_ref"] == "CASE-7"
