"""The worker keeps the daily rollup fresh: recent days and any day touched, every few minutes.

On a queue of its own ("reports"): recomputing many days after a bulk change can
take minutes at a million alerts, and must never hold up placing calls.

The autocall tick (voiceflow/tasks.py) calls `refresh_if_due` each round; one
conditional update of the "reports" clock lets exactly one worker enqueue the
refresh per period, and the clock's old value says since when to look.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone

from transactions.models import WorkerClock

from . import figures

logger = logging.getLogger(__name__)

CLOCK = "reports"
QUEUE = "reports"


def refresh_if_due(now: datetime) -> bool:
    """Enqueue a refresh when the last one is REPORTS_ROLLUP_MINUTES old; True if enqueued."""
    period = timedelta(minutes=settings.REPORTS_ROLLUP_MINUTES)
    clock, _ = WorkerClock.objects.get_or_create(name=CLOCK, defaults={"at": now - period})
    if clock.at > now - period:
        return False
    if not WorkerClock.objects.filter(name=CLOCK, at=clock.at).update(at=now):
        return False  # another worker took this round
    refresh_reports.enqueue(clock.at.isoformat())
    return True


@task(queue_name=QUEUE)
def refresh_reports(since: str) -> list[str]:
    """Recompute today, yesterday and every day touched since `since`."""
    days = figures.refresh(datetime.fromisoformat(since), timezone.now())
    logger.info("Reports: recomputed %d days", len(days))
    return [day.isoformat() for day in days]
