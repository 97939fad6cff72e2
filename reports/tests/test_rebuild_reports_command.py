"""manage.py rebuild_reports: fills the rollup for past days."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from reports import figures
from reports.models import RollupDay

from .conftest import MONDAY, TUESDAY

pytestmark = pytest.mark.django_db


def _run(*args):
    out = StringIO()
    call_command("rebuild_reports", *args, stdout=out)
    return out.getvalue()


def test_it_recomputes_the_days_asked_for(ledger):
    assert _run("--from", "2026-03-02", "--to", "2026-03-03") == (
        "Recomputed 2 days, 2026-03-02 to 2026-03-03.\n"
    )
    assert set(RollupDay.objects.values_list("day", flat=True)) == {MONDAY, TUESDAY}
    stored = figures.report(MONDAY, TUESDAY)
    assert stored.total == figures.report(MONDAY, TUESDAY, rollup=False).total


def test_by_default_it_starts_at_the_first_alert_or_call(ledger, settings):
    out = _run("--to", "2026-03-03")
    assert out == "Recomputed 3 days, 2026-03-01 to 2026-03-03.\n"  # T8 arrived on 1 March


def test_the_last_n_days(ledger):
    assert _run("--to", "2026-03-03", "--days", "1") == (
        "Recomputed 1 days, 2026-03-03 to 2026-03-03.\n"
    )


@pytest.mark.parametrize(
    "args", [("--from", "yesterday"), ("--from", "2026-03-04", "--to", "2026-03-03")]
)
def test_it_refuses_bad_dates(db, args):
    with pytest.raises(CommandError):
        _run(*args)
