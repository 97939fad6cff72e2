"""Our replies as TwiML: what we say, how we ask, and every word escaped."""

import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from voiceflow import flow, script
from voiceflow.tests.twiml import read
from voiceflow.views.voice import twiml


def say_attributes(response) -> list[dict]:
    root = ET.fromstring(response.content)  # noqa: S314  (our own response, in a test)
    return [dict(say.attrib) for say in root.iter("Say")]


def test_a_question_says_the_lines_then_asks_with_our_gather_settings():
    question = flow.Question(2, "Did you share your card?", script.HINTS[2])
    response = twiml(flow.Reply(["Thank you.", "One more question."], question), "TXN001")
    answer = read(response)
    assert answer.said == ["Thank you.", "One more question.", "Did you share your card?"]
    assert answer.gather == {
        "input": "speech dtmf",
        "action": settings.PUBLIC_URL + "/voice/TXN001/step2/response",
        "method": "POST",
        "language": script.LANGUAGE,
        "hints": script.HINTS[2],
        "timeout": str(script.GATHER_TIMEOUT),
        "speechTimeout": str(script.SPEECH_TIMEOUT),
        "speechModel": script.SPEECH_MODEL,
        "numDigits": "1",
        "actionOnEmptyResult": "true",
    }
    assert not answer.hangup
    voice = {"voice": script.VOICE, "language": script.LANGUAGE}
    assert say_attributes(response) == [voice, voice, voice]


def test_a_goodbye_says_the_lines_and_hangs_up():
    answer = read(twiml(flow.Reply(["Goodbye."], None), "TXN001"))
    assert answer.said == ["Goodbye."]
    assert answer.hangup and answer.gather is None


HOSTILE = [
    "Plain words.",
    "<script>alert('x')</script> & \"quotes\" & 'apostrophes'",
    "]]> <!-- --> <![CDATA[ x ]]> &amp; &#10;",
    "</Say><Hangup/><Say>",
    "tab\there, new\nline",
    "हाँ, नहीं — ₹2,350.10 ✓ 😀",
]


@pytest.mark.parametrize("line", HOSTILE)
def test_markup_in_what_we_say_is_escaped(line):
    question = flow.Question(0, f"Hello {line}.", f'yes, "no", {line}')
    response = twiml(flow.Reply([line], question), "TXN001")
    answer = read(response)  # well-formed, and exactly the elements we wrote
    assert answer.said == [line, f"Hello {line}."]
    assert answer.gather["hints"] == f'yes, "no", {line}'
    assert not answer.hangup
    assert b"<Hangup" not in response.content


@pytest.mark.parametrize("public_id", ["TXN001", "a-b_C9", "with space", "ünï", "x?y=z#w", "100%"])
def test_the_action_url_is_public_url_and_the_steps_route(public_id):
    answer = read(twiml(flow.Reply([], flow.Question(4, "Which card?", "")), public_id))
    assert answer.gather["action"] == settings.PUBLIC_URL + reverse(
        "voiceflow:step_response", args=[public_id, 4]
    )


# XML 1.0 has no way to carry control characters (NUL is refused before any view);
# a lone carriage return in text is read back as a newline by any XML parser.
SAYABLE = st.text(st.characters(blacklist_categories=("Cs", "Cc"))) | st.just("tab\tnew\nline")


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(SAYABLE, max_size=3),
    asked=SAYABLE,
    hints=SAYABLE,
    step=st.sampled_from(sorted(script.QUESTION_STEPS)),
    ends=st.booleans(),
)
def test_any_text_is_said_as_written(lines, asked, hints, step, ends):
    question = None if ends else flow.Question(step, asked, hints)
    answer = read(twiml(flow.Reply(lines, question), "TXN001"))
    assert answer.said == [*lines, *([] if ends else [asked])]
    assert answer.hangup == ends
    if not ends:
        assert answer.gather["hints"] == hints


def test_a_status_callback_is_answered_with_an_empty_response(twilio_post, call):
    response = twilio_post("/status/TXN001", {"CallSid": call.call_sid, "CallStatus": "ringing"})
    assert response.status_code == 200
    assert response.content == b'<?xml version="1.0" encoding="UTF-8"?><Response />'
