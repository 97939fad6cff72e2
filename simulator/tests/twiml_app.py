"""A tiny TwiML app of our own, for testing the engine apart from the real voice flow.

It records every request it gets (with whether Twilio's signature checked
out) so tests can see exactly what the engine sent.
"""

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

received = []


def _record(request, name):
    url = settings.PUBLIC_URL + request.get_full_path()
    valid = RequestValidator(settings.TWILIO_AUTH_TOKEN).validate(
        url, request.POST, request.headers.get("X-Twilio-Signature", "")
    )
    received.append(
        {"name": name, "params": request.POST.dict(), "valid": valid, "query": request.GET.dict()}
    )


def _twiml(response):
    return HttpResponse(str(response), content_type="text/xml")


@csrf_exempt
def start(request):
    _record(request, "start")
    mode = request.GET.get("mode", "")
    r = VoiceResponse()
    gather = r.gather(
        input="speech dtmf",
        action="answer?step=1",
        timeout=int(request.GET.get("timeout", 5)),
        hints="yes, no",
        action_on_empty_result=mode == "empty",
    )
    gather.say("Did you make a payment of <ten> rupees & more? Say yes or no.")
    r.say("We did not hear you.")
    if mode == "redirect":
        r.redirect("/twiml/second")
    else:
        r.say("Goodbye.")
    return _twiml(r)


@csrf_exempt
def answer(request):
    _record(request, "answer")
    r = VoiceResponse()
    heard = request.POST.get("SpeechResult") or request.POST.get("Digits") or "nothing"
    r.say(f"You said {heard}.")
    r.hangup()
    r.say("Never spoken.")
    return _twiml(r)


@csrf_exempt
def second(request):
    _record(request, "second")
    r = VoiceResponse()
    r.pause(length=1)
    r.say("Second document.")
    return _twiml(r)


@csrf_exempt
def broken(request):
    _record(request, "broken")
    return HttpResponse("oops", status=500)


@csrf_exempt
def status(request):
    _record(request, "status")
    return HttpResponse(status=204)


urlpatterns = [
    path("twiml/start", start),
    path("twiml/answer", answer),
    path("twiml/second", second),
    path("twiml/broken", broken),
    path("twiml/status", status),
    path("simulator/", include("simulator.urls")),
    path("admin/", admin.site.urls),
    path("", include("transactions.urls")),
]
