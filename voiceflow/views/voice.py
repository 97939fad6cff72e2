"""The call's TwiML: /voice/<id>/step0 when the customer picks up, then one response per answer.

The views only translate: Twilio's form → voiceflow.flow → a Reply → TwiML,
written by twilio's VoiceResponse (which escapes every word we say).
"""

from django.conf import settings
from django.http import HttpResponse
from django.urls import path, reverse
from twilio.twiml.voice_response import VoiceResponse

from voiceflow import flow, script
from voiceflow.security import twilio_webhook


def twiml(reply: flow.Reply, public_id: str, *, status: int = 200) -> HttpResponse:
    """Say the reply's lines, then ask its question (answers go to the step's URL) or hang up."""
    response = VoiceResponse()
    for line in reply.lines:
        response.say(line, voice=script.VOICE, language=script.LANGUAGE)
    question = reply.ask
    if question is None:
        response.hangup()
    else:
        action = reverse("voiceflow:step_response", args=[public_id, question.step])
        gather = response.gather(
            input="speech dtmf",
            action=settings.PUBLIC_URL + action,
            method="POST",
            language=script.LANGUAGE,
            hints=question.hints,
            timeout=script.GATHER_TIMEOUT,
            speech_timeout=script.SPEECH_TIMEOUT,
            speech_model=script.SPEECH_MODEL,
            num_digits=1,
            action_on_empty_result=True,  # silence comes back to us, to ask again
        )
        gather.say(question.text, voice=script.VOICE, language=script.LANGUAGE)
    return HttpResponse(str(response), content_type="text/xml; charset=utf-8", status=status)


@twilio_webhook
def step0(request, public_id):
    return twiml(flow.start(public_id, request.POST), public_id)


@twilio_webhook
def step_response(request, public_id, step):
    try:
        reply = flow.answer(public_id, step, request.POST)
    except flow.UnknownStep:
        # Twilio only follows our own action URLs; anything else gets a goodbye, not a 500.
        return twiml(flow.goodbye_unknown(), public_id, status=404)
    return twiml(reply, public_id)


urlpatterns = [
    path("voice/<str:public_id>/step0", step0, name="step0"),
    path("voice/<str:public_id>/step<int:step>/response", step_response, name="step_response"),
]
