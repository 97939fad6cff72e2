from django.db import migrations, models


class Migration(migrations.Migration):
    # The reports' daily rollup reads a day's alerts and a day's calls by their time.
    dependencies = [
        ("transactions", "0012_api_keys"),
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
    ]
