"""The call engine against a tiny TwiML app of our own, over real HTTP."""

import math
import time

import pytest
from django.conf import settings

from simulator import rest
from simulator.engine import run_call
from simulator.models import SimCall

from . import twiml_app

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.urls("simulator.tests.twiml_app"),
    pytest.mark.usefixtures("twiml_log"),
]

ALL_EVENTS = ["initiated", "ringing", "answered", "completed"]


def _call(server, *, to="+14155550100", mode="", events=ALL_EVENTS, **fields):
    values = {
        "account_sid": settings.TWILIO_SID,
        "to": to,
        "from_number": "+15005550006",
        "url": f"{server.url}/twiml/start" + (f"?mode={mode}" if mode else ""),
        "status_callback": f"{server.url}/twiml/status",
        "status_callback_events": events,
        "persona": fields.pop("persona", to[-1]),
    }
    values.update(fields)
    return SimCall.objects.create(**values)


def _requests(name):
    return [r for r in twiml_app.received if r["name"] == name]


def _statuses():
    return [r["params"]["CallStatus"] for r in _requests("status")]


def test_every_request_is_signed_as_twilio_signs(app_server):
    run_call(_call(app_server).sid)

    assert len(twiml_app.received) >= 6
    assert all(r["valid"] for r in twiml_app.received)


def test_it_sends_the_status_callbacks_asked_for_in_sequence(app_server):
    call = _call(app_server)

    assert run_call(call.sid) == "completed"

    callbacks = _requests("status")
    assert _statuses() == ["initiated", "ringing", "in-progress", "completed"]
    assert [r["params"]["SequenceNumber"] for r in callbacks] == ["0", "1", "2", "3"]
    first = callbacks[0]["params"]
    assert first["CallSid"] == call.sid
    assert first["AccountSid"] == settings.TWILIO_SID
    assert first["Direction"] == "outbound-api"
    assert first["ApiVersion"] == "2010-04-01"
    assert first["CallbackSource"] == "call-progress-events"
    assert first["Timestamp"].endswith("+0000")
    assert (first["From"], first["To"]) == ("+15005550006", "+14155550100")
    assert "CallDuration" in callbacks[-1]["params"]


def test_the_call_duration_is_the_wall_clock_time_from_answer_to_end(app_server, settings):
    # A scripted customer's waits are time-scaled: at scale 0 the talk is several seconds of
    # call time but a blink of the clock. Twilio reports what the clock says.
    settings.SIMULATOR_TIME_SCALE = 0
    call = _call(app_server)
    began = time.monotonic()

    run_call(call.sid)

    elapsed = time.monotonic() - began
    call.refresh_from_db()
    reported = int(_requests("status")[-1]["params"]["CallDuration"])
    assert reported == call.duration <= math.ceil(elapsed)
    assert reported == round((call.end_time - call.answered_at).total_seconds())
    assert rest.call_resource(call)["duration"] == str(reported)


def test_with_no_events_named_only_completed_is_sent(app_server):
    run_call(_call(app_server, events=[]).sid)

    assert _statuses() == ["completed"]
    assert _requests("status")[0]["params"]["SequenceNumber"] == "0"


def test_it_fetches_the_url_with_twilios_params(app_server):
    call = _call(app_server, machine_detection="DetectMessageEnd")

    run_call(call.sid)

    params = _requests("start")[0]["params"]
    assert params["CallStatus"] == "in-progress"
    assert params["CallSid"] == call.sid
    assert params["Caller"] == "+15005550006"
    assert params["Called"] == "+14155550100"
    assert params["AnsweredBy"] == "human"


def test_a_speech_answer_goes_to_the_relative_action(app_server):
    call = _call(app_server, to="+14155550100")  # persona 0: says yes

    run_call(call.sid)

    answer = _requests("answer")[0]
    assert answer["query"] == {"step": "1"}
    assert answer["params"]["SpeechResult"] == "yes"
    assert 0 < float(answer["params"]["Confidence"]) <= 1
    call.refresh_from_db()
    said = [line["text"] for line in call.transcript]
    assert "Did you make a payment of <ten> rupees & more? Say yes or no." in said
    assert "You said yes." in said
    # <Hangup> ends the call: nothing after it is played.
    assert "Never spoken." not in said


def test_a_keypad_answer_posts_digits(app_server):
    run_call(_call(app_server, to="+14155550108").sid)  # persona 8: presses 1

    params = _requests("answer")[0]["params"]
    assert params["Digits"] == "1"
    assert "SpeechResult" not in params


def test_silence_runs_the_verbs_after_gather_without_calling_the_action(app_server):
    call = _call(app_server, to="+14155550106")  # persona 6: silent

    assert run_call(call.sid) == "completed"

    assert _requests("answer") == []
    call.refresh_from_db()
    said = [line["text"] for line in call.transcript]
    assert said[-3:] == ["We did not hear you.", "Goodbye.", "Final status: completed."]


def test_silence_with_action_on_empty_result_calls_the_action_empty(app_server):
    run_call(_call(app_server, to="+14155550106", mode="empty").sid)

    params = _requests("answer")[0]["params"]
    assert "SpeechResult" not in params
    assert "Digits" not in params


def test_it_follows_a_redirect(app_server):
    call = _call(app_server, to="+14155550106", mode="redirect")

    run_call(call.sid)

    assert len(_requests("second")) == 1
    call.refresh_from_db()
    assert "Second document." in [line["text"] for line in call.transcript]


def test_mumbling_is_never_a_clear_answer(app_server):
    run_call(_call(app_server, to="+14155550107").sid)

    params = _requests("answer")[0]["params"]
    assert params["SpeechResult"] not in ("yes", "no")
    assert float(params["Confidence"]) < 0.5


@pytest.mark.parametrize(
    ("to", "state", "statuses"),
    [
        ("+14155550104", "busy", ["initiated", "ringing", "busy"]),
        ("+14155550103", "no-answer", ["initiated", "ringing", "no-answer"]),
        ("+14155550000", "failed", ["initiated", "failed"]),
    ],
)
def test_unanswered_calls_end_with_their_status(app_server, to, state, statuses):
    call = _call(app_server, to=to, persona="failed" if to.endswith("0000") else to[-1])

    assert run_call(call.sid) == state

    assert _statuses() == statuses
    assert _requests("start") == []
    call.refresh_from_db()
    assert call.state == state
    assert call.duration == 0


def test_voicemail_answers_as_a_machine(app_server):
    call = _call(app_server, to="+14155550105", machine_detection="DetectMessageEnd")

    assert run_call(call.sid) == "completed"

    assert _requests("start")[0]["params"]["AnsweredBy"] == "machine_end_beep"
    assert _requests("answer") == []
    assert _requests("status")[-1]["params"]["AnsweredBy"] == "machine_end_beep"


def test_async_machine_detection_posts_its_result(app_server):
    call = _call(
        app_server,
        to="+14155550105",
        machine_detection="Enable",
        async_amd=True,
        async_amd_status_callback=f"{app_server.url}/twiml/status?amd=1",
    )

    run_call(call.sid)

    amd = [r for r in _requests("status") if r["query"] == {"amd": "1"}]
    assert amd[0]["params"]["AnsweredBy"] == "machine_start"
    assert amd[0]["valid"]


def test_a_failing_webhook_ends_the_call_with_an_application_error(app_server):
    call = _call(app_server, url=f"{app_server.url}/twiml/broken")

    assert run_call(call.sid) == "completed"

    call.refresh_from_db()
    assert "Call ended: an application error has occurred." in [
        line["text"] for line in call.transcript
    ]
    assert _statuses()[-1] == "completed"


def test_an_unreachable_server_ends_the_call(app_server):
    call = _call(app_server, url="http://127.0.0.1:9/nothing", status_callback="")

    assert run_call(call.sid) == "completed"


def test_a_call_is_played_only_once(app_server):
    call = _call(app_server)
    run_call(call.sid)
    count = len(twiml_app.received)

    assert run_call(call.sid) == "completed"

    assert len(twiml_app.received) == count


def test_scripted_replies_come_before_the_persona(app_server):
    replies = [{"digits": "2"}]
    call = _call(app_server, to="+14155550100", persona="scripted", scripted_replies=replies)

    run_call(call.sid)

    assert _requests("answer")[0]["params"]["Digits"] == "2"
