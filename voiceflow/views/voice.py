"""The call's TwiML: /voice/<id>/step0 when the customer picks up, then one response per answer.

The views only translate: Twilio's form → voiceflow.flow → a Reply → TwiML,
written by voiceflow.twiml exactly as twilio's VoiceResponse writes it
(every word we say escaped).
"""

from django.http import HttpResponse
from django.urls import path

from voiceflow import flow
from voiceflow.security import twilio_webhook
from voiceflow.twiml import reply_xml


def twiml(reply: flow.Reply, public_id: str, *, status: int = 200) -> HttpResponse:
    body = reply_xml(reply.lines, reply.ask, public_id)
    return HttpResponse(body, content_type="text/xml; charset=utf-8", status=status)


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
