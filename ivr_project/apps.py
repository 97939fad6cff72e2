from django.apps import AppConfig


class IvrProjectConfig(AppConfig):
    """The project's own pieces: the rate-limit counts."""

    name = "ivr_project"
    verbose_name = "Project"
    default_auto_field = "django.db.models.BigAutoField"
