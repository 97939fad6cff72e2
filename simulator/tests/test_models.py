"""SimCall: Twilio-shaped SIDs and the compare-and-set steps the engine and softphone race on."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from simulator.models import LOST_AFTER, SimCall

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

    SimCall.objects.filter(pk=call.pk).update(
        ringing_on_softphone=True, engine_seen_at=timezone.now()
    )
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


# --- a call whose worker died


def _silent_since(seconds, **fields):
    """A call as a dead worker leaves it: its engine last seen `seconds` ago."""
    seen = timezone.now() - timedelta(seconds=seconds)
    return _call(engine_started_at=seen, engine_seen_at=seen, **fields), seen


@pytest.mark.parametrize(
    ("state", "final"),
    [
        ("in-progress", "completed"),
        ("ringing", "no-answer"),
        ("initiated", "failed"),
        ("queued", "failed"),
    ],
)
def test_a_lost_call_ends_where_it_got_to(state, final):
    call, seen = _silent_since(61, state=state, ringing_on_softphone=state == "ringing")

    assert call.end_if_lost(timezone.now()) is True

    call.refresh_from_db()
    assert (call.state, call.end_time) == (final, seen)
    assert call.ringing_on_softphone is False


def test_a_lost_call_lasted_from_its_answer_to_its_last_sign_of_life():
    call, seen = _silent_since(90, state="in-progress")
    SimCall.objects.filter(pk=call.pk).update(answered_at=seen - timedelta(seconds=42))

    call.end_if_lost(timezone.now())

    call.refresh_from_db()
    assert call.duration == 42


def test_a_call_whose_engine_was_seen_lately_is_not_lost():
    call, _ = _silent_since(LOST_AFTER.total_seconds() - 5, state="in-progress")

    assert call.end_if_lost(timezone.now()) is False
    call.refresh_from_db()
    assert call.state == "in-progress"


def test_an_ended_call_is_not_ended_again():
    call, _ = _silent_since(600, state="busy")

    assert call.end_if_lost(timezone.now()) is False
    call.refresh_from_db()
    assert call.state == "busy"


def test_an_engine_hears_that_its_call_was_ended_without_it():
    call, _ = _silent_since(120, state="in-progress")
    assert call.end_if_lost(timezone.now()) is True

    assert call.beat() is False


def test_a_call_lost_before_its_engine_started_is_never_claimed_late():
    call = _call()
    SimCall.objects.filter(pk=call.pk).update(created_at=timezone.now() - timedelta(minutes=2))

    assert call.end_if_lost(timezone.now()) is True
    assert call.state == "failed"
    assert call.claim_for_engine() is False
