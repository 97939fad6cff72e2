"""PostgreSQL: the search indexes' pending-list limit moves from the indexes to the sessions.

0005 set 128 kB on each trigram index so searches never read a long pending
list. An index's own setting overrides every session's, so the importer had
to merge a 128 kB list every few hundred rows too, which cost a bulk import
40% of its speed. Web and task processes now ask for 128 kB when they
connect (settings.py), and the importer for 4 MB while it loads
(transactions/indexed.py). SQLite has nothing to change.
"""

from django.db import migrations

INDEXES = ("txn_name_trgm", "txn_merchant_trgm", "txn_bank_trgm", "txn_phone_trgm")


def _set(limit):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        option = (
            f"SET (gin_pending_list_limit = {limit})" if limit else "RESET (gin_pending_list_limit)"
        )
        for index in INDEXES:
            schema_editor.execute(f"ALTER INDEX {index} {option}", params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0005_small_search_pending_lists"),
    ]

    operations = [migrations.RunPython(_set(None), _set(128))]
