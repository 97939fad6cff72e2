"""The engine task: queued by the REST view, it plays each call on a thread of the worker."""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from simulator import engine
from simulator.models import LOST_AFTER, SimCall
from simulator.tasks import run_simulated_call, wait_for_calls, watch_simulated_call

from . import twiml_app

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("simulator.tests.twiml_app"),
    pytest.mark.usefixtures("twiml_log"),
]
WATCH = "simulator.tasks.watch_simulated_call"


def _call(live, **fields):
    values = {
        "account_sid": settings.TWILIO_SID,
        "to": "+14155550100",
        "from_number": "+15005550006",
        "url": f"{live.url}/twiml/start",
        "status_callback": f"{live.url}/twiml/status",
        "status_callback_events": ["initiated", "ringing", "answered", "completed"],
        "persona": "0",
    }
    return SimCall.objects.create(**{**values, **fields})


def _left_by_a_dead_worker(server, state, **fields):
    """A call as a worker that died mid-call leaves it: unfinished, its engine silent."""
    seen = timezone.now() - LOST_AFTER - timedelta(seconds=5)
    call = _call(server, state=state, engine_started_at=seen, engine_seen_at=seen, **fields)
    return call, seen


def _callbacks():
    return [r["params"] for r in twiml_app.received if r["name"] == "status"]


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


def test_each_call_is_watched_from_its_start(live, settings):
    settings.SIMULATOR_PICKUP_SECONDS = 0
    call = _call(live, persona="4")  # busy: over at once
    began = timezone.now()

    run_simulated_call.call(call.sid)

    watch = DBTaskResult.objects.get(task_path=WATCH, args_kwargs__args=[call.sid])
    assert began + LOST_AFTER <= watch.run_after <= timezone.now() + LOST_AFTER
    assert wait_for_calls(timeout=20)


def test_a_ringing_call_whose_worker_died_ends_unanswered(app_server):
    call, seen = _left_by_a_dead_worker(app_server, "ringing", ringing_on_softphone=True)

    assert watch_simulated_call.call(call.sid) == "no-answer"

    [final] = _callbacks()
    assert final["CallStatus"] == "no-answer"
    assert (final["CallDuration"], final["SipResponseCode"]) == ("0", "480")
    assert final["CallSid"] == call.sid
    assert all(r["valid"] for r in twiml_app.received)
    call.refresh_from_db()
    assert (call.state, call.end_time, call.ringing_on_softphone) == ("no-answer", seen, False)


def test_an_answered_call_whose_worker_died_completes(app_server):
    call, seen = _left_by_a_dead_worker(
        app_server, "in-progress", answered_at=timezone.now() - timedelta(minutes=3)
    )

    assert watch_simulated_call.call(call.sid) == "completed"

    [final] = _callbacks()
    assert final["CallStatus"] == "completed"
    assert final["CallDuration"] == str(round((seen - call.answered_at).total_seconds()))
    assert "The call was cut off: the worker playing it stopped." in [
        line["text"] for line in SimCall.objects.get(pk=call.pk).transcript
    ]


def test_a_lost_call_is_ended_once(app_server):
    call, _ = _left_by_a_dead_worker(app_server, "in-progress")

    watch_simulated_call.call(call.sid)
    assert watch_simulated_call.call(call.sid) == "completed"

    assert len(_callbacks()) == 1


def test_a_call_still_playing_is_watched_again_later(app_server):
    seen = timezone.now()
    call = _call(app_server, state="in-progress", engine_started_at=seen, engine_seen_at=seen)

    assert watch_simulated_call.call(call.sid) == "watching"

    assert _callbacks() == []
    assert SimCall.objects.get(pk=call.pk).state == "in-progress"
    again = DBTaskResult.objects.get(task_path=WATCH, args_kwargs__args=[call.sid])
    assert again.run_after == seen + LOST_AFTER


def test_an_engine_that_finds_its_call_ended_stops_without_a_word(live, settings, monkeypatch):
    monkeypatch.setattr(engine, "HEARTBEAT_SECONDS", 0)
    settings.SIMULATOR_PICKUP_SECONDS = 30  # rings on the softphone until the test acts
    call = _call(live)
    run_simulated_call.call(call.sid)
    _wait_until(lambda: SimCall.objects.filter(pk=call.pk, ringing_on_softphone=True).exists())

    # Taken for lost (a stall longer than LOST_AFTER) and ended while the engine still ran.
    SimCall.objects.filter(pk=call.pk).update(state="no-answer")

    assert wait_for_calls(timeout=10)
    assert [c["CallStatus"] for c in _callbacks()] == ["initiated", "ringing"]
    assert SimCall.objects.get(pk=call.pk).state == "no-answer"
