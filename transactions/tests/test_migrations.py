"""Migrations keep what the ORM does not know of: SQLite's search and count triggers.

SQLite rebuilds a table for many schema changes (a NOT NULL column, a constraint)
and the rebuild drops the table's triggers: a migration that rebuilds the
transactions table must put them back, or search and status counts go stale.
"""

from importlib import import_module

import pytest
from django.db import connection

SEARCH_AND_COUNTS = import_module("transactions.migrations.0003_perf_search_and_counts")


def _expected(kind: str) -> set[str]:
    return {
        sql.split()[2]
        for sql in SEARCH_AND_COUNTS.SQLITE_FORWARD
        if sql.startswith(f"CREATE {kind.upper()}")
    }


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers only")
@pytest.mark.parametrize("kind", ["trigger", "index"])
def test_every_search_and_count_trigger_survives_the_migrations(db, kind):
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = %s", [kind])
        present = {name for (name,) in cursor.fetchall()}
    expected = _expected(kind)
    assert expected, f"migration 0003 creates no {kind}"
    assert expected <= present, f"missing after migrate: {sorted(expected - present)}"
