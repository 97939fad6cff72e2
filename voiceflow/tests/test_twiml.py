"""voiceflow.twiml writes every reply byte for byte as twilio's VoiceResponse would."""

import pytest
from django.conf import settings
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from twilio.twiml.voice_response import VoiceResponse

from voiceflow import flow, script
from voiceflow.twiml import EMPTY_RESPONSE, action_url, reply_xml


def voice_response(lines, question, public_id) -> str:
    """The reference: the TwiML as the twilio library builds it."""
    response = VoiceResponse()
    for line in lines:
        response.say(line, voice=script.VOICE, language=script.LANGUAGE)
    if question is None:
        response.hangup()
        return str(response)
    gather = response.gather(
        input="speech dtmf",
        action=settings.PUBLIC_URL
        + reverse("voiceflow:step_response", args=[public_id, question.step]),
        method="POST",
        language=script.LANGUAGE,
        hints=question.hints,
        timeout=script.GATHER_TIMEOUT,
        speech_timeout=script.SPEECH_TIMEOUT,
        speech_model=script.SPEECH_MODEL,
        num_digits=1,
        action_on_empty_result=True,
    )
    gather.say(question.text, voice=script.VOICE, language=script.LANGUAGE)
    return str(response)


HOSTILE = [
    "",
    "Plain words.",
    "<script>alert('x')</script> & \"quotes\" & 'apostrophes'",
    "]]> <!-- --> <![CDATA[ x ]]> &amp; &#10;",
    "tab\there, new\nline, return\rhere",
    "हाँ, नहीं — ₹2,350.10 ✓ 😀",
]


@pytest.mark.parametrize("line", HOSTILE)
@pytest.mark.parametrize("step", sorted(script.QUESTION_STEPS))
def test_a_question_matches_voice_response(line, step):
    question = flow.Question(step, f"Question {step}: {line}", script.HINTS[step])
    lines = [line, "Second line."]
    assert reply_xml(lines, question, "TXN001") == voice_response(lines, question, "TXN001")


@pytest.mark.parametrize("line", HOSTILE)
def test_a_goodbye_matches_voice_response(line):
    assert reply_xml([line], None, "TXN001") == voice_response([line], None, "TXN001")
    assert reply_xml([], None, "TXN001") == voice_response([], None, "TXN001")


def test_hints_with_markup_are_escaped_as_attributes():
    question = flow.Question(0, "Did you?", 'yes, "no", <maybe> & \n haan')
    assert reply_xml([], question, "A-1_b") == voice_response([], question, "A-1_b")


@pytest.mark.parametrize("public_id", ["TXN001", "a-b_C9", "with space", "ünï", "x?y=z#w", "100%"])
def test_the_action_url_is_the_one_reverse_builds(public_id):
    assert action_url(public_id, 4) == settings.PUBLIC_URL + reverse(
        "voiceflow:step_response", args=[public_id, 4]
    )


def test_the_empty_response_matches_voice_response():
    assert str(VoiceResponse()) == EMPTY_RESPONSE


@hypothesis_settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(st.text(), max_size=3),
    asked=st.text(),
    hints=st.text(),
    step=st.sampled_from(sorted(script.QUESTION_STEPS)),
    ends=st.booleans(),
)
def test_any_text_matches_voice_response(lines, asked, hints, step, ends):
    question = None if ends else flow.Question(step, asked, hints)
    assert reply_xml(lines, question, "TXN001") == voice_response(lines, question, "TXN001")
