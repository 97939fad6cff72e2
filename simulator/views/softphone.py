"""The softphone: a person answers a simulated call in the browser and plays the customer.

The call itself runs on the worker (simulator/engine.py); these views only
read its state and hand it the person's actions through conditional updates,
so two people, a double click or a late click never take the same call twice.
"""

from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from simulator.models import SimCall, engine_alive
from simulator.personas import PERSONAS

MAX_REPLY = 300
RECENT = timedelta(hours=1)
DIGITS = set("0123456789*#")


def simulation_only(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not settings.SIMULATION:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def softphone_view(view):
    """Simulation on, logged in, allowed to place calls (analysts and supervisors)."""
    return simulation_only(
        login_required(permission_required("transactions.place_call", raise_exception=True)(view))
    )


@softphone_view
@require_GET
def softphone(request):
    personas = [p for key, p in PERSONAS.items() if key != "scripted"]
    ctx = {
        "personas": personas,
        "pickup_seconds": round(float(settings.SIMULATOR_PICKUP_SECONDS)),
    }
    return render(request, "simulator/softphone.html", ctx)


def _call_json(call: SimCall) -> dict:
    return {
        "sid": call.sid,
        "to": call.to,
        "state": call.state,
        "ended": call.ended,
        "transcript": call.transcript,
        "awaiting": call.awaiting,
        "replied": call.reply is not None,
    }


@softphone_view
@require_GET
@never_cache
def state(request):
    now = timezone.now()
    # A call whose worker died is gone from here at once; its watch task ends it soon after.
    ringing = SimCall.objects.filter(
        engine_alive(now), ringing_on_softphone=True, softphone_user__isnull=True
    )
    # The person's latest call: ended (to read back), or live.
    mine = (
        SimCall.objects.filter(softphone_user=request.user, created_at__gte=now - RECENT)
        .filter(Q(state__in=SimCall.ENDED) | engine_alive(now))
        .order_by("-created_at", "-id")
        .first()
    )
    return JsonResponse(
        {
            "ringing": [{"sid": c.sid, "to": c.to} for c in ringing.order_by("created_at")[:5]],
            "call": _call_json(mine) if mine else None,
        }
    )


def _refused(message: str, status: int = 409) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


@softphone_view
@require_POST
def answer(request, sid):
    call = get_object_or_404(SimCall, sid=sid)
    if not call.pick_up(request.user):
        return _refused("This call is no longer ringing here (answered elsewhere or timed out).")
    return JsonResponse({"ok": True, "call": _call_json(call)})


@softphone_view
@require_POST
def reply(request, sid):
    call = get_object_or_404(SimCall, sid=sid, softphone_user=request.user)
    speech = " ".join(request.POST.get("speech", "").split())
    digits = request.POST.get("digits", "").strip()
    if bool(speech) == bool(digits):
        return _refused("Send either words (speech) or keys (digits).", 400)
    if len(speech) > MAX_REPLY or len(digits) > 20 or not set(digits) <= DIGITS:
        return _refused("That answer is too long or has keys a phone does not have.", 400)
    given = {"speech": speech, "confidence": 0.9} if speech else {"digits": digits}
    if not call.give_reply(request.user, given):
        return _refused("The call is not waiting for an answer just now.")
    return JsonResponse({"ok": True})


@softphone_view
@require_POST
def speaking(request, sid):
    """The person started typing: like speech starting, it stops the Gather timeout."""
    call = get_object_or_404(SimCall, sid=sid, softphone_user=request.user)
    return JsonResponse({"ok": call.start_speaking(request.user)})


@softphone_view
@require_POST
def hangup(request, sid):
    call = get_object_or_404(SimCall, sid=sid, softphone_user=request.user)
    if not call.hang_up(request.user):
        return _refused("The call has already ended.")
    return JsonResponse({"ok": True})


urlpatterns = [
    path("softphone/", softphone, name="softphone"),
    path("softphone/state", state, name="softphone-state"),
    path("softphone/<str:sid>/answer", answer, name="softphone-answer"),
    path("softphone/<str:sid>/reply", reply, name="softphone-reply"),
    path("softphone/<str:sid>/speaking", speaking, name="softphone-speaking"),
    path("softphone/<str:sid>/hangup", hangup, name="softphone-hangup"),
]
