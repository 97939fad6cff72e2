"""The engine task: queued by the REST view, it plays each call on a thread of the worker."""

import time

import pytest
from django.conf import settings

from simulator.models import SimCall
from simulator.tasks import run_simulated_call, wait_for_calls

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("simulator.tests.twiml_app"),
]


def _call(live):
    return SimCall.objects.create(
        account_sid=settings.TWILIO_SID,
        to="+14155550100",
        from_number="+15005550006",
        url=f"{live.url}/twiml/start",
        persona="0",
    )


def _wait_until(predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_calls_run_side_by_side_on_one_worker(live, settings, alice):
    settings.SIMULATOR_PICKUP_SECONDS = 30  # both ring until someone acts
    first, second = _call(live), _call(live)

    # Each task returns at once: the worker is free for the next one.
    assert run_simulated_call.call(first.sid) == first.sid
    assert run_simulated_call.call(second.sid) == second.sid

    _wait_until(lambda: SimCall.objects.filter(ringing_on_softphone=True).count() == 2)
    for call in (first, second):
        assert call.pick_up(alice)
        assert call.hang_up(alice)
    assert wait_for_calls(timeout=20)
    assert set(SimCall.objects.values_list("state", flat=True)) == {"completed"}
