"""Load fixtures/sample_transactions.json into an empty database (`make run` calls this)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from transactions.models import Transaction

FIXTURE = "sample_transactions.json"


class Command(BaseCommand):
    help = (
        "Load the 20 sample transactions, only when there are no transactions yet "
        "and the simulator plays Twilio."
    )

    def handle(self, *args, **options):
        if not settings.SIMULATION:
            # The samples' numbers are valid Indian mobiles: with a real Twilio account,
            # "Call all pending" could ring whoever holds them.
            self.stdout.write("Real Twilio credentials are set; sample data not loaded.")
            return
        present = Transaction.objects.count()
        if present:
            self.stdout.write(f"{present} transaction(s) already present; sample data not loaded.")
            return
        call_command("loaddata", FIXTURE, verbosity=0)
        self.stdout.write(f"Loaded {Transaction.objects.count()} sample transactions.")
