"""WebhookEndpoint: its URL rule and its signing secret's rotation."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from transactions.models import SecretChanged, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook():
    return WebhookEndpoint.objects.create(url="https://bank.example/ivr")


def test_a_rotation_gives_a_new_secret_and_keeps_the_old_one_signing_for_a_day(hook):
    old = hook.secret
    before = timezone.now()

    new = hook.rotate_secret()

    hook.refresh_from_db()
    assert new != old and new.startswith("whsec_")
    assert (hook.secret, hook.previous_secret) == (new, old)
    overlap = hook.previous_secret_until - before
    assert timedelta(hours=23, minutes=59) < overlap <= timedelta(hours=24, seconds=5)
    assert hook.signing_secrets(timezone.now()) == [new, old]


def test_once_the_overlap_is_over_only_the_new_secret_signs(hook):
    new = hook.rotate_secret()

    assert hook.signing_secrets(hook.previous_secret_until) == [new]


def test_a_new_endpoint_signs_with_one_secret(hook):
    assert hook.signing_secrets(timezone.now()) == [hook.secret]


def test_the_overlap_follows_its_setting(hook, settings):
    settings.WEBHOOK_SECRET_OVERLAP_HOURS = 2
    hook.rotate_secret()

    assert hook.previous_secret_until - timezone.now() < timedelta(hours=2, seconds=5)


def test_a_rotation_from_a_stale_copy_changes_nothing(hook):
    stale = WebhookEndpoint.objects.get(pk=hook.pk)
    first = hook.rotate_secret()

    with pytest.raises(SecretChanged):
        stale.rotate_secret()

    hook.refresh_from_db()
    assert hook.secret == first


@pytest.mark.parametrize("url", ["http://bank.example/ivr", "http://10.0.0.5/", "ftp://bank/"])
def test_only_https_or_this_machine_is_a_valid_url(url):
    with pytest.raises(ValidationError):
        WebhookEndpoint(url=url, event_types=["alert.resolved"]).full_clean()


@pytest.mark.parametrize("url", ["https://bank.example/ivr", "http://127.0.0.1:9000/events"])
def test_https_and_local_http_are_valid(url):
    WebhookEndpoint(url=url, event_types=["alert.resolved"]).full_clean()
