"""Fill the reports' daily rollup for past days (the worker keeps recent ones fresh)."""

from datetime import date, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Min
from django.utils import timezone

from reports import figures
from transactions.models import CallAttempt, Transaction


class Command(BaseCommand):
    help = "Recompute the reports' daily figures, by default from the first alert to today."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", help="first day (YYYY-MM-DD)")
        parser.add_argument("--to", dest="end", help="last day (YYYY-MM-DD), default today")
        parser.add_argument("--days", type=int, help="the last N days, today included")

    def handle(self, *args, start=None, end=None, days=None, **options):
        today = timezone.localdate()
        try:
            last = date.fromisoformat(end) if end else today
            if days:
                first = last - timedelta(days=days - 1)
            elif start:
                first = date.fromisoformat(start)
            else:
                first = self._first_day() or last
        except ValueError as e:
            raise CommandError(f"Use dates as YYYY-MM-DD: {e}") from None
        if first > last:
            raise CommandError("--from is after --to.")
        day, done = first, 0
        while day <= last:
            figures.store_day(day)
            day += timedelta(days=1)
            done += 1
        self.stdout.write(f"Recomputed {done} days, {first} to {last}.")

    def _first_day(self):
        earliest = [
            Transaction.objects.aggregate(at=Min("created_at"))["at"],
            CallAttempt.objects.aggregate(at=Min("created_at"))["at"],
        ]
        earliest = [at for at in earliest if at]
        return timezone.localdate(min(earliest)) if earliest else None
