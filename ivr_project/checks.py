"""System checks of our settings: `manage.py check`, and with --deploy what production needs."""

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from ivr_project.ratelimit import parse_rate

RATE_SETTINGS = ("LOGIN_RATE_LIMIT", "LOGIN_RATE_LIMIT_PER_ADDRESS", "CALL_RATE_LIMIT")

# Cache backends whose counts stay in one process (or one machine's files).
_PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
}


@register(Tags.security)
def rates_are_valid(app_configs, **kwargs):
    errors = []
    for name in RATE_SETTINGS:
        try:
            parse_rate(getattr(settings, name))
        except ValueError as exc:
            errors.append(Error(f"{name}: {exc}", id="ivr_project.E001"))
    if settings.TRUSTED_PROXY_COUNT < 0:
        errors.append(
            Error(
                "TRUSTED_PROXY_COUNT cannot be negative.",
                hint="The number of reverse proxies in front of the app; 0 for none.",
                id="ivr_project.E002",
            )
        )
    return errors


@register(Tags.security, deploy=True)
def simulator_is_off(app_configs, **kwargs):
    if settings.DEBUG or not settings.SIMULATION:
        return []
    return [
        Warning(
            "TWILIO_SID is not set, so the built-in simulator plays Twilio: no customer "
            "is called, and /simulator/ answers.",
            hint="Set TWILIO_SID, TWILIO_AUTH_TOKEN and TWILIO_NUMBER for production.",
            id="ivr_project.W001",
        )
    ]


@register(Tags.security, deploy=True)
def public_url_is_https(app_configs, **kwargs):
    if settings.DEBUG or settings.PUBLIC_URL.lower().startswith("https://"):
        return []
    return [
        Warning(
            f"PUBLIC_URL is {settings.PUBLIC_URL!r}: Twilio would send what customers "
            "answer over plain http, where it can be read and replayed.",
            hint="Set PUBLIC_URL to the site's https:// address.",
            id="ivr_project.W002",
        )
    ]


@register(Tags.security, deploy=True)
def rate_limits_are_shared(app_configs, **kwargs):
    # Ours count in the database; django-axes may be switched to a cache handler.
    if "cache" not in settings.AXES_HANDLER.rsplit(".", 1)[0]:
        return []
    alias = getattr(settings, "AXES_CACHE", "default")
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if backend not in _PER_PROCESS_CACHES:
        return []
    return [
        Warning(
            f"Failed sign-ins are counted in the {alias!r} cache ({backend.rsplit('.', 1)[-1]}), "
            "which each web process keeps for itself: every process allows the full limit.",
            hint="Leave AXES_HANDLER at ivr_project.ratelimit.SignInLimits (the database).",
            id="ivr_project.W003",
        )
    ]
