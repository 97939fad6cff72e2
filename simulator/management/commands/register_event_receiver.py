"""Make the simulator's built-in receiver an endpoint for every outcome event (`make run` does).

Idempotent: the endpoint is found again by its secret (derived from SECRET_KEY,
as the simulator's Twilio credentials are) and its URL follows PUBLIC_URL.
Does nothing with a real Twilio account, where the simulator does not exist.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from transactions.models import EventType, WebhookEndpoint


class Command(BaseCommand):
    help = "In simulation, send every outcome event to the simulator's built-in receiver."

    def handle(self, *args, **options):
        if not settings.SIMULATION:
            self.stdout.write("Real Twilio credentials are set; no built-in event receiver.")
            return
        url = settings.PUBLIC_URL + reverse("simulator:events-receive")
        secret = settings.SIMULATOR_EVENTS_SECRET
        endpoint = WebhookEndpoint.objects.filter(secret=secret).first()
        if endpoint is None:
            WebhookEndpoint.objects.create(url=url, secret=secret, event_types=EventType.values)
            verb = "sent to"
        elif endpoint.url != url:
            WebhookEndpoint.objects.filter(pk=endpoint.pk).update(url=url)
            verb = "now sent to"
        else:
            verb = "already sent to"
        page = settings.PUBLIC_URL + reverse("simulator:events-received")
        self.stdout.write(f"Outcome events: {verb} the built-in receiver; see them at {page}")
