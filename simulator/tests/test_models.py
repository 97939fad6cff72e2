"""SimCall: Twilio-shaped SIDs and the compare-and-set steps the engine and softphone race on."""

import re

import pytest
from django.conf import settings

from simulator.models import SimCall

pytestmark = pytest.mark.django_db


def _call(**fields):
    return SimCall.objects.create(
        account_sid=settings.TWILIO_SID,
        to="+14155550100",
        from_number="+15005550006",
        url="http://testserver/voice/TXN001/step0",
        persona="0",
        **fields,
    )


def test_a_call_sid_looks_like_twilios():
    first, second = _call(), _call()

    assert re.fullmatch(r"CA[0-9a-f]{32}", first.sid)
    assert first.sid != second.sid


def test_only_one_runner_claims_a_call():
    call = _call()
    other = SimCall.objects.get(pk=call.pk)

    assert call.claim_for_engine() is True
    assert other.claim_for_engine() is False


def test_a_call_is_picked_up_only_while_it_rings_on_the_softphone(alice, sam):
    call = _call(ringing_on_softphone=False)
    assert call.pick_up(alice) is False

    SimCall.objects.filter(pk=call.pk).update(ringing_on_softphone=True)
    assert call.pick_up(alice) is True
    assert call.pick_up(sam) is False
    call.refresh_from_db()
    assert call.softphone_user == alice


def test_the_transcript_keeps_every_line_in_order():
    call = _call()

    call.say("bank", "Hello.")
    call.say("customer", "yes")

    call.refresh_from_db()
    assert call.transcript == [
        {"who": "bank", "text": "Hello."},
        {"who": "customer", "text": "yes"},
    ]
