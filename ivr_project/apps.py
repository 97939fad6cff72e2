from django.apps import AppConfig


class IvrProjectConfig(AppConfig):
    """The project's own pieces: the rate-limit counts and the system checks."""

    name = "ivr_project"
    verbose_name = "Project"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from ivr_project import checks  # noqa: F401  (registers them)
