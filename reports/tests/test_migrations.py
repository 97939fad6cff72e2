"""Rollup rows stored before a migration changed their shape are brought up to date."""

from importlib import import_module

import pytest
from django.apps import apps

from reports import figures
from reports.models import DailyFigures

from .conftest import MONDAY

RULE_COUNTS = import_module("reports.migrations.0002_rule_counts")


@pytest.mark.django_db
def test_0002_counts_the_rules_of_rows_stored_before_it(ledger):
    figures.store_day(MONDAY)
    before = {row.pk: row.figures for row in DailyFigures.objects.all()}
    for row in DailyFigures.objects.all():  # as 0001 stored them
        del row.figures["rule_counts"], row.figures["rule_alerts"]
        row.save()

    RULE_COUNTS.count_rules(apps, None)

    after = {row.pk: row.figures for row in DailyFigures.objects.all()}
    assert after == before
    assert any(any(f["rule_counts"].values()) for f in after.values())
