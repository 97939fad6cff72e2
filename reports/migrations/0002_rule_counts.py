from django.db import migrations

# As reports.figures.MUST_BE_NONE when this was written.
MUST_BE_NONE = ("over_limit", "auto_outside_hours", "auto_after_opt_out")


def count_rules(apps, schema_editor):
    # Rollup rows from before rule_counts: count their lists once, as store_day now does.
    DailyFigures = apps.get_model("reports", "DailyFigures")
    batch = []
    for row in DailyFigures.objects.order_by("pk").iterator(chunk_size=200):
        row.figures["rule_counts"] = {rule: len(entries) for rule, entries in row.rules.items()}
        row.figures["rule_alerts"] = {
            rule: sorted({entry[2] for entry in row.rules.get(rule, [])}) for rule in MUST_BE_NONE
        }
        batch.append(row)
        if len(batch) == 200:
            DailyFigures.objects.bulk_update(batch, ["figures"])
            batch = []
    DailyFigures.objects.bulk_update(batch, ["figures"])


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(count_rules, migrations.RunPython.noop),
    ]
