"""Add an endpoint for outcome events from a terminal; prints its signing secret last.

manage.py add_webhook_endpoint https://bank.example/ivr-events
manage.py add_webhook_endpoint https://bank.example/ivr --events alert.resolved alert.opted_out
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from transactions.models import EventType, WebhookEndpoint, validate_endpoint_url


class Command(BaseCommand):
    help = (
        "Add a webhook endpoint for outcome events. The signing secret (whsec_...) is the "
        "last line printed, and is shown only this once."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "url", help="Where the events are POSTed: https (http only to localhost)."
        )
        parser.add_argument(
            "--events",
            nargs="+",
            choices=EventType.values,
            default=EventType.values,
            metavar="TYPE",
            help=f"Event types to send (default: all): {', '.join(EventType.values)}.",
        )

    def handle(self, *args, url, events, **options):
        try:
            validate_endpoint_url(url)
        except ValidationError as e:
            raise CommandError(f"{url}: {' '.join(e.messages)}") from None
        types = [t for t in EventType.values if t in events]  # one order, no repeats
        endpoint = WebhookEndpoint.objects.create(url=url, event_types=types)
        self.stdout.write(f"Added webhook endpoint #{endpoint.pk} for {url}: {', '.join(types)}.")
        self.stdout.write("Its signing secret (shown only now; verify events with it):")
        self.stdout.write(endpoint.secret)
