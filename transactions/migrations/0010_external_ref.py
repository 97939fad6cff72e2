from importlib import import_module

from django.db import migrations, models


def restore_sqlite_triggers(apps, schema_editor):
    # SQLite rebuilds the table to add a NOT NULL column, which drops its triggers.
    import_module(
        "transactions.migrations.0007_verdicts_stand_and_queue_columns"
    ).restore_sqlite_triggers(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0009_fraud_reads_fraud"),
    ]

    operations = [
        migrations.AddField(
            model_name="transaction",
            name="external_ref",
            field=models.CharField(
                blank=True, default="", max_length=100, verbose_name="bank's case id"
            ),
        ),
        migrations.RunPython(restore_sqlite_triggers, migrations.RunPython.noop),
    ]
