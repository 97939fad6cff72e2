"""A Reply as TwiML, written directly: the bytes twilio's VoiceResponse writes, but faster.

VoiceResponse builds an ElementTree and serialises it, which took a fifth of
a webhook's time. voiceflow/tests/test_twiml.py checks that every kind of
reply, hostile text included, comes out byte for byte as VoiceResponse
writes it, so escaping stays ElementTree's.
"""

import functools

from django.conf import settings
from django.urls import reverse

from voiceflow import script

HEAD = '<?xml version="1.0" encoding="UTF-8"?><Response>'
EMPTY_RESPONSE = '<?xml version="1.0" encoding="UTF-8"?><Response />'
ID_MARK, STEP_MARK = "PUBLICIDMARK", 987654321


def text(value: str) -> str:
    """Element text, escaped as ElementTree escapes it."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attribute(value) -> str:
    """An attribute value, escaped as ElementTree escapes it."""
    value = text(str(value)).replace('"', "&quot;")
    return value.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#09;")


@functools.cache
def _action_parts() -> tuple[str, str, str]:
    # reverse() once with markers: the URL's shape without its cost on every answer.
    url = reverse("voiceflow:step_response", args=[ID_MARK, STEP_MARK])
    before_id, after_id = url.split(ID_MARK)
    between, after_step = after_id.split(str(STEP_MARK))
    return before_id, between, after_step


def action_url(public_id: str, step: int) -> str:
    """PUBLIC_URL + reverse("voiceflow:step_response", args=[public_id, step])."""
    if not public_id.replace("-", "").replace("_", "").isalnum() or not public_id.isascii():
        return settings.PUBLIC_URL + reverse("voiceflow:step_response", args=[public_id, step])
    before_id, between, after_step = _action_parts()
    return f"{settings.PUBLIC_URL}{before_id}{public_id}{between}{step}{after_step}"


def _say(line: str) -> str:
    opening = f'<Say language="{attribute(script.LANGUAGE)}" voice="{attribute(script.VOICE)}"'
    return f"{opening}>{text(line)}</Say>" if line else f"{opening} />"


def reply_xml(lines, question, public_id: str) -> str:
    """What Twilio is told: say `lines`, then ask `question` (a flow.Question) or hang up."""
    parts = [HEAD, *(_say(line) for line in lines)]
    if question is None:
        parts.append("<Hangup /></Response>")
        return "".join(parts)
    gather = {
        "action": action_url(public_id, question.step),
        "actionOnEmptyResult": "true",
        "hints": question.hints,
        "input": "speech dtmf",
        "language": script.LANGUAGE,
        "method": "POST",
        "numDigits": 1,
        "speechModel": script.SPEECH_MODEL,
        "speechTimeout": script.SPEECH_TIMEOUT,
        "timeout": script.GATHER_TIMEOUT,
    }
    opening = " ".join(f'{name}="{attribute(value)}"' for name, value in gather.items())
    parts.append(f"<Gather {opening}>{_say(question.text)}</Gather></Response>")
    return "".join(parts)
