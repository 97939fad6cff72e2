"""`manage.py check --deploy` warns of what would be unsafe in production."""

from django.core.checks import Error, Warning

from ivr_project import checks
from transactions.tests.test_settings import PRODUCTION, run_django


def deploy_check(**env):
    return run_django(["check", "--deploy"], **{**PRODUCTION, **env})


def test_it_warns_when_the_simulator_would_run_in_production():
    result = deploy_check(TWILIO_SID="", TWILIO_AUTH_TOKEN="")

    assert "ivr_project.W001" in result.stderr
    assert "simulator" in result.stderr


def test_it_warns_of_a_public_url_over_http():
    result = deploy_check(PUBLIC_URL="http://fraud.bank.example")

    assert "ivr_project.W002" in result.stderr
    assert "PUBLIC_URL" in result.stderr


def test_production_settings_raise_none_of_them():
    result = deploy_check()

    assert "ivr_project." not in result.stdout + result.stderr


def test_it_warns_when_sign_in_limits_would_count_per_process(settings):
    settings.AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
    settings.AXES_CACHE = "default"
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

    found = checks.rate_limits_are_shared(None)

    assert [w.id for w in found] == ["ivr_project.W003"]
    assert isinstance(found[0], Warning)


def test_a_shared_store_for_the_limits_is_fine(settings):
    assert checks.rate_limits_are_shared(None) == []  # the database: our settings

    settings.AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
    settings.AXES_CACHE = "shared"
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "c"},
    }
    assert checks.rate_limits_are_shared(None) == []


def test_a_malformed_rate_stops_start_up_with_its_name(settings):
    settings.CALL_RATE_LIMIT = "twenty a minute"

    found = checks.rates_are_valid(None)

    assert [e.id for e in found] == ["ivr_project.E001"]
    assert isinstance(found[0], Error)
    assert "CALL_RATE_LIMIT" in found[0].msg


def test_a_malformed_rate_is_reported_by_check():
    result = run_django(["check"], **PRODUCTION, LOGIN_RATE_LIMIT="5 per minute")

    assert result.returncode != 0
    assert "ivr_project.E001" in result.stderr
    assert "LOGIN_RATE_LIMIT" in result.stderr
