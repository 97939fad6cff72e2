"""A bank's receiver of outcome events, built in: so a newcomer sees events arrive.

POST /simulator/events/ verifies the Standard Webhooks signature with the
standardwebhooks library, exactly as a bank would, and keeps the event; an
unsigned or wrongly signed request gets 400 and nothing is kept. GET
/simulator/events/received lists what arrived (analysts may read it).
`manage.py register_event_receiver` makes it an endpoint (`make run` does).
"""

from datetime import UTC, datetime

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from simulator.models import ReceivedEvent
from simulator.views.softphone import simulation_only

SHOWN = 100


@csrf_exempt  # signed instead: a bank's endpoint takes no cookies
@simulation_only
@require_POST
def receive(request):
    try:
        event = Webhook(settings.SIMULATOR_EVENTS_SECRET).verify(request.body, request.headers)
    except (WebhookVerificationError, ValueError):
        return HttpResponseBadRequest("Signature not verified; event refused.")
    if not isinstance(event, dict):
        return HttpResponseBadRequest("Not an event.")
    timestamp = int(request.headers["webhook-timestamp"])
    ReceivedEvent.objects.create(
        msg_id=request.headers["webhook-id"][:64],
        type=str(event.get("type", ""))[:40],
        payload=event,
        signed_at=datetime.fromtimestamp(timestamp, tz=UTC),
    )
    return HttpResponse(status=204)


@simulation_only
@login_required
@permission_required("transactions.view_transaction", raise_exception=True)
@require_GET
def received(request):
    ctx = {"events": ReceivedEvent.objects.all()[:SHOWN], "shown": SHOWN}
    return render(request, "simulator/events.html", ctx)


urlpatterns = [
    path("events/", receive, name="events-receive"),
    path("events/received", received, name="events-received"),
]
