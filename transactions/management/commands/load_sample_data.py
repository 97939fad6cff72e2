"""Load fixtures/sample_transactions.json into an empty database (`make run` calls this)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand

from transactions.models import Transaction

FIXTURE = "sample_transactions.json"


class Command(BaseCommand):
    help = "Load the 20 sample transactions, only when there are no transactions yet."

    def handle(self, *args, **options):
        present = Transaction.objects.count()
        if present:
            self.stdout.write(f"{present} transaction(s) already present; sample data not loaded.")
            return
        call_command("loaddata", FIXTURE, verbosity=0)
        self.stdout.write(f"Loaded {Transaction.objects.count()} sample transactions.")
