from django.core.management.base import BaseCommand

from voiceflow.calls import sweep_stale_calls


class Command(BaseCommand):
    help = "Mark calls left Connecting with no word from Twilio (STALE_CALL_MINUTES) Disconnected."

    def handle(self, *args, **options):
        swept = sweep_stale_calls()
        self.stdout.write(f"{swept} stale call(s) marked Disconnected.")
