from importlib import import_module

from django.db import migrations, models


def restore_sqlite_triggers(apps, schema_editor):
    # 0010's AddField rebuilt the table on SQLite, which drops its search and
    # status-count triggers (the dashboard's counts read 0): put them back, and
    # recount what changed meanwhile (0003's own statements).
    if schema_editor.connection.vendor != "sqlite":
        return
    import_module(
        "transactions.migrations.0007_verdicts_stand_and_queue_columns"
    ).restore_sqlite_triggers(apps, schema_editor)
    schema_editor.execute("DELETE FROM transactions_status_tally", params=None)
    schema_editor.execute(
        "INSERT INTO transactions_status_tally (status, n)"
        " SELECT status, count(*) FROM transactions_transaction GROUP BY status",
        params=None,
    )
    schema_editor.execute(
        "INSERT INTO transactions_search (transactions_search) VALUES ('rebuild')", params=None
    )


class Migration(migrations.Migration):
    # The reports' daily rollup reads a day's alerts and a day's calls by their time.
    dependencies = [
        ("transactions", "0010_external_ref"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="callattempt",
            index=models.Index(fields=["created_at"], name="call_created_idx"),
        ),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(fields=["created_at"], name="txn_created_idx"),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
