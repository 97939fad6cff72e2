"""/status/<id>: Twilio's call-progress callbacks (initiated, ringing, answered, completed...)."""

from django.http import HttpResponse
from django.urls import path
from twilio.twiml.voice_response import VoiceResponse

from voiceflow import flow
from voiceflow.security import twilio_webhook


@twilio_webhook
def status_callback(request, public_id):
    # Repeated, late and unknown callbacks are answered alike: 200, nothing changed.
    flow.apply_status(public_id, request.POST)
    return HttpResponse(str(VoiceResponse()), content_type="text/xml; charset=utf-8")


urlpatterns = [path("status/<str:public_id>", status_callback, name="status")]
