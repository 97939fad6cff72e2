from django.contrib.auth.management import create_permissions
from django.db import migrations, models

from transactions.roles import sync_roles


def give_roles_the_reports(apps, schema_editor):
    # view_reports exists only once this app's models are: create it, then sync both roles.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("transactions", "0002_roles"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.CreateModel(
            name="RollupDay",
            fields=[
                ("day", models.DateField(primary_key=True, serialize=False)),
                ("computed_at", models.DateTimeField()),
            ],
        ),
        migrations.CreateModel(
            name="DailyFigures",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("bank", models.CharField(max_length=200)),
                ("figures", models.JSONField()),
                ("rules", models.JSONField(default=dict)),
            ],
            options={
                "verbose_name_plural": "daily figures",
                "permissions": [
                    ("view_reports", "Can view the reports and the contact-rules report")
                ],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("day", "bank"), name="daily_figures_one_per_bank"
                    )
                ],
            },
        ),
        migrations.RunPython(give_roles_the_reports, migrations.RunPython.noop),
    ]
