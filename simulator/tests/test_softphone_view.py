"""The softphone: a person answers a simulated call in the browser (here: the test client)."""

import re
import threading
import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from simulator.engine import run_call
from simulator.models import LOST_AFTER, SimCall

from . import twiml_app

pytestmark = [pytest.mark.django_db, pytest.mark.urls("simulator.tests.twiml_app")]
# The engine on its own thread and the live server share the database: no wrapping transaction.
over_http = pytest.mark.django_db(transaction=True)


def _ringing_call(**fields):
    values = {
        "account_sid": settings.TWILIO_SID,
        "to": "+14155550106",
        "from_number": "+15005550006",
        "url": "http://testserver/twiml/start",
        "persona": "6",
        "state": "ringing",
        "ringing_on_softphone": True,
        "engine_seen_at": timezone.now(),  # an engine is playing it
    }
    values.update(fields)
    return SimCall.objects.create(**values)


def _url(name, call=None):
    return reverse(f"simulator:softphone-{name}", args=[call.sid] if call else [])


# --- access


def test_the_page_needs_a_login(client):
    response = client.get(reverse("simulator:softphone"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", ["state"])
def test_the_state_needs_a_login(client, name):
    assert client.get(_url(name)).status_code == 302


def test_it_refuses_a_user_without_a_role(client, eve):
    client.force_login(eve)
    call = _ringing_call()

    assert client.get(reverse("simulator:softphone")).status_code == 403
    assert client.get(_url("state")).status_code == 403
    for name in ("answer", "reply", "speaking", "hangup"):
        assert client.post(_url(name, call), {"speech": "yes"}).status_code == 403
    call.refresh_from_db()
    assert call.softphone_user is None


def test_actions_reject_get(analyst_client):
    call = _ringing_call()

    for name in ("answer", "reply", "speaking", "hangup"):
        assert analyst_client.get(_url(name, call)).status_code == 405


def test_state_rejects_post(analyst_client):
    assert analyst_client.post(_url("state")).status_code == 405


def test_actions_need_the_csrf_token(client, alice):
    client.handler.enforce_csrf_checks = True
    client.force_login(alice)
    call = _ringing_call()

    assert client.post(_url("answer", call)).status_code == 403
    call.refresh_from_db()
    assert call.softphone_user is None


def test_it_is_404_when_simulation_is_off(analyst_client, settings):
    settings.SIMULATION = False

    assert analyst_client.get(reverse("simulator:softphone")).status_code == 404
    assert analyst_client.get(_url("state")).status_code == 404


# --- the page


def test_the_page_has_no_inline_script_or_style(analyst_client):
    response = analyst_client.get(reverse("simulator:softphone"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert re.findall(r"<script(?![^>]*\bsrc=)", html) == []
    assert " style=" not in html and "<style" not in html
    assert "js/softphone.js" in html
    assert "last digit 5" in html and "Voicemail" in html


# --- answering and replying


def test_state_lists_the_ringing_call(analyst_client):
    call = _ringing_call()
    _ringing_call(ringing_on_softphone=False)  # nobody may take this one any more

    state = analyst_client.get(_url("state")).json()

    assert state == {"ringing": [{"sid": call.sid, "to": call.to}], "call": None}


def test_a_person_answers_a_ringing_call(analyst_client, alice):
    call = _ringing_call()

    response = analyst_client.post(_url("answer", call))

    assert response.status_code == 200
    call.refresh_from_db()
    assert call.softphone_user == alice
    assert analyst_client.get(_url("state")).json()["call"]["sid"] == call.sid


def test_a_call_whose_worker_died_does_not_hold_the_softphone(analyst_client, alice):
    _ringing_call(
        softphone_user=alice,
        state="in-progress",
        ringing_on_softphone=False,
        engine_seen_at=timezone.now() - LOST_AFTER - timedelta(seconds=1),
    )

    assert analyst_client.get(_url("state")).json()["call"] is None


def test_a_call_whose_worker_died_leaves_the_ringing_list(analyst_client):
    lost = _ringing_call(engine_seen_at=timezone.now() - LOST_AFTER - timedelta(seconds=1))

    assert analyst_client.get(_url("state")).json()["ringing"] == []
    assert analyst_client.post(_url("answer", lost)).status_code == 409


def test_only_one_person_gets_the_call(analyst_client, client, make_transaction, sam):
    call = _ringing_call()
    analyst_client.post(_url("answer", call))
    client.force_login(sam)

    response = client.post(_url("answer", call))

    assert response.status_code == 409
    assert "no longer ringing" in response.json()["error"]


def test_a_call_that_stopped_ringing_cannot_be_answered(analyst_client):
    call = _ringing_call(ringing_on_softphone=False)

    assert analyst_client.post(_url("answer", call)).status_code == 409


def test_a_reply_waits_for_a_question(analyst_client, alice):
    call = _ringing_call(softphone_user=alice, ringing_on_softphone=False)

    response = analyst_client.post(_url("reply", call), {"speech": "yes"})

    assert response.status_code == 409
    call.refresh_from_db()
    assert call.reply is None


def test_one_reply_per_question(analyst_client, alice):
    call = _ringing_call(softphone_user=alice, awaiting={"input": ["speech", "dtmf"]})

    first = analyst_client.post(_url("reply", call), {"speech": "  no   thanks "})
    second = analyst_client.post(_url("reply", call), {"digits": "1"})

    assert (first.status_code, second.status_code) == (200, 409)
    call.refresh_from_db()
    assert call.reply == {"speech": "no thanks", "confidence": 0.9}


@pytest.mark.parametrize(
    "data", [{}, {"speech": "yes", "digits": "1"}, {"digits": "12a"}, {"speech": "x" * 301}]
)
def test_it_rejects_a_bad_reply(analyst_client, alice, data):
    call = _ringing_call(softphone_user=alice, awaiting={"input": ["speech", "dtmf"]})

    response = analyst_client.post(_url("reply", call), data)

    assert response.status_code == 400
    assert response.json()["error"]
    call.refresh_from_db()
    assert call.reply is None


def test_someone_elses_call_is_not_found(client, sam, alice):
    call = _ringing_call(softphone_user=alice, awaiting={"input": ["speech"]})
    client.force_login(sam)

    assert client.post(_url("reply", call), {"speech": "yes"}).status_code == 404
    assert client.post(_url("hangup", call)).status_code == 404


def test_an_ended_call_cannot_be_hung_up_again(analyst_client, alice):
    call = _ringing_call(softphone_user=alice, state="completed")

    assert analyst_client.post(_url("hangup", call)).status_code == 409


# --- a whole call with a person on the softphone (engine on a thread, real HTTP)


def _engine_thread(call):
    def run():
        try:
            run_call(call.sid)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_for(client, predicate, seconds=10):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        state = client.get(_url("state")).json()
        if predicate(state):
            return state
        time.sleep(0.05)
    raise AssertionError(f"softphone never reached the expected state: {state}")


@pytest.fixture
def person_call(live, settings, twiml_log):
    settings.SIMULATOR_PICKUP_SECONDS = 10

    def make(query=""):
        return SimCall.objects.create(
            account_sid=settings.TWILIO_SID,
            to="+14155550106",  # the scripted customer would stay silent
            from_number="+15005550006",
            url=f"{live.url}/twiml/start{query}",
            status_callback=f"{live.url}/twiml/status",
            status_callback_events=["initiated", "ringing", "answered", "completed"],
            persona="6",
        )

    return make


@over_http
def test_a_person_answers_and_replies_on_the_softphone(analyst_client, person_call):
    call = person_call()
    thread = _engine_thread(call)

    _wait_for(analyst_client, lambda s: s["ringing"])
    assert analyst_client.post(_url("answer", call)).status_code == 200
    state = _wait_for(analyst_client, lambda s: s["call"] and s["call"]["awaiting"])
    assert "Say yes or no." in state["call"]["awaiting"]["prompt"]
    assert analyst_client.post(_url("reply", call), {"speech": "yes I did"}).status_code == 200
    thread.join(10)

    call.refresh_from_db()
    assert call.state == "completed"
    assert [
        r["params"].get("SpeechResult") for r in twiml_app.received if r["name"] == "answer"
    ] == ["yes I did"]
    assert "You said yes I did." in [line["text"] for line in call.transcript]


@over_http
def test_a_silent_person_gets_the_gather_timeout(analyst_client, person_call):
    call = person_call("?timeout=1")
    thread = _engine_thread(call)

    _wait_for(analyst_client, lambda s: s["ringing"])
    analyst_client.post(_url("answer", call))
    thread.join(10)

    call.refresh_from_db()
    assert call.state == "completed"
    assert [r for r in twiml_app.received if r["name"] == "answer"] == []
    assert "We did not hear you." in [line["text"] for line in call.transcript]


@over_http
def test_a_person_hangs_up(analyst_client, person_call):
    call = person_call("?timeout=30")
    thread = _engine_thread(call)

    _wait_for(analyst_client, lambda s: s["ringing"])
    analyst_client.post(_url("answer", call))
    _wait_for(analyst_client, lambda s: s["call"] and s["call"]["awaiting"])
    assert analyst_client.post(_url("hangup", call)).status_code == 200
    thread.join(10)

    call.refresh_from_db()
    assert call.state == "completed"
    assert "Call ended: the customer hung up." in [line["text"] for line in call.transcript]
    status = [r["params"]["CallStatus"] for r in twiml_app.received if r["name"] == "status"]
    assert status[-1] == "completed"


@over_http
def test_a_person_may_answer_while_the_prompt_plays(analyst_client, person_call, settings):
    settings.SIMULATOR_PERSON_TIME_SCALE = 1  # the prompt takes seconds to say
    call = person_call()
    thread = _engine_thread(call)

    _wait_for(analyst_client, lambda s: s["ringing"])
    analyst_client.post(_url("answer", call))
    state = _wait_for(analyst_client, lambda s: s["call"] and s["call"]["awaiting"])
    assert state["call"]["awaiting"]["prompt_done"] is False
    assert analyst_client.post(_url("reply", call), {"digits": "2"}).status_code == 200
    thread.join(15)

    call.refresh_from_db()
    assert call.state == "completed"
    assert [r["params"].get("Digits") for r in twiml_app.received if r["name"] == "answer"] == ["2"]
