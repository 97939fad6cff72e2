"""Start the automatic-calling tick (retries, calling hours, throttle, sweeps) if it is not running.

`make run` runs this before starting the worker; running it again, or on
several machines, is harmless: at most one tick chain exists.
"""

from django.core.management.base import BaseCommand

from voiceflow.tasks import ensure_ticking, run_tick


class Command(BaseCommand):
    help = "Start the periodic automatic-calling tick on the task worker (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once",
            action="store_true",
            help="Run one tick here and now instead (for cron or a quick look), and print it.",
        )

    def handle(self, *args, once=False, **options):
        from django.utils import timezone

        if once:
            report = run_tick(timezone.now())
            self.stdout.write(" ".join(f"{k}={v}" for k, v in report.items()))
            return
        if ensure_ticking():
            self.stdout.write("Automatic calling: tick started; a db_worker will run it.")
        else:
            self.stdout.write("Automatic calling: the tick is already running.")
