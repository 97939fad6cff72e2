from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("transactions", "0003_perf_search_and_counts"),
    ]

    operations = [
        migrations.CreateModel(
            name="WorkerClock",
            fields=[
                ("name", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("at", models.DateTimeField()),
            ],
        ),
    ]
