"""The worker's rollup: refreshed once per period by one worker, for recent and touched days."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from reports import figures, tasks
from reports.models import DailyFigures, RollupDay
from transactions.models import CallAttempt, CallOutcome, CallTrigger, Transaction
from voiceflow.tasks import run_tick

from .conftest import MONDAY, TUESDAY, at

pytestmark = pytest.mark.django_db

REFRESH = tasks.refresh_reports.module_path


def test_the_refresh_is_enqueued_once_per_period(settings):
    settings.REPORTS_ROLLUP_MINUTES = 5
    now = timezone.now()
    assert tasks.refresh_if_due(now) is True
    assert tasks.refresh_if_due(now + timedelta(minutes=4)) is False
    assert tasks.refresh_if_due(now + timedelta(minutes=5)) is True
    assert DBTaskResult.objects.filter(task_path=REFRESH).count() == 2


def test_the_autocall_tick_asks_for_the_refresh(db):
    assert run_tick(timezone.now())["reports"] is True
    queued = DBTaskResult.objects.get(task_path=REFRESH)
    assert queued.args_kwargs["args"][0]  # since when to look: the clock's previous time
    # Its own worker's queue: a long recount never holds up the calls' worker.
    assert queued.queue_name == "reports"


def test_a_refresh_stores_the_days_touched_since_with_the_ledgers_figures(ledger):
    now = at(TUESDAY, 23, 50)
    days = figures.refresh(at(MONDAY, 0), now)
    # Today, yesterday, and every alert changed since (all of them: just written), T8's too.
    assert days == [MONDAY - timedelta(days=1), MONDAY, TUESDAY]
    assert set(RollupDay.objects.values_list("day", flat=True)) == set(days)
    stored = figures.report(MONDAY, TUESDAY)
    assert stored.total == figures.report(MONDAY, TUESDAY, rollup=False).total


def test_a_call_about_an_older_alert_refreshes_the_day_it_arrived(ledger):
    figures.store_day(TUESDAY)
    assert figures.report(TUESDAY, TUESDAY).total["called"] == 2  # T4, T6
    t7 = Transaction.objects.get(public_id="T7")
    before = timezone.now() - timedelta(seconds=1)
    CallAttempt.objects.create(
        transaction=t7,
        trigger=CallTrigger.MANUAL,
        outcome=CallOutcome.NO_ANSWER,
        ended_at=timezone.now(),
    )
    Transaction.objects.filter(pk=t7.pk).update(updated_at=before - timedelta(hours=1))
    assert TUESDAY in figures.refresh(before)
    assert figures.report(TUESDAY, TUESDAY).total["called"] == 3


def test_the_task_recomputes_and_answers_the_days(ledger):
    since = timezone.now() - timedelta(minutes=5)
    days = tasks.refresh_reports.call(since.isoformat())
    assert timezone.localdate().isoformat() in days
    assert MONDAY.isoformat() in days  # its alerts were written just now
    assert DailyFigures.objects.filter(day=MONDAY).count() == 2  # Alpha and Beta
