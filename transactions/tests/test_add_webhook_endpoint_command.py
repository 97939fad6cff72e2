"""`manage.py add_webhook_endpoint URL`: an endpoint from a terminal, its secret the last line."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from standardwebhooks import Webhook

from transactions.models import EventType, WebhookEndpoint

pytestmark = pytest.mark.django_db


def _run(*args) -> list[str]:
    out = StringIO()
    call_command("add_webhook_endpoint", *args, stdout=out)
    return out.getvalue().splitlines()


def test_it_adds_an_endpoint_for_every_event_and_prints_the_secret_last():
    lines = _run("https://bank.example/ivr-events")

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.url == "https://bank.example/ivr-events"
    assert endpoint.event_types == EventType.values
    assert lines[-1] == endpoint.secret
    assert lines[-1].startswith("whsec_")
    Webhook(lines[-1])  # a secret the standardwebhooks library takes


def test_it_takes_the_event_types_asked_for():
    _run("https://bank.example/", "--events", "alert.opted_out", "alert.resolved")

    assert WebhookEndpoint.objects.get().event_types == [EventType.RESOLVED, EventType.OPTED_OUT]


def test_it_refuses_an_unknown_event_type():
    with pytest.raises(CommandError):
        _run("https://bank.example/", "--events", "alert.everything")
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", ["ftp://bank.example/", "bank.example/ivr", "https://"])
def test_it_refuses_something_that_is_not_an_http_url(url):
    with pytest.raises(CommandError, match="Enter a valid URL"):
        _run(url)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", ["http://bank.example/ivr", "http://10.0.0.5/ivr"])
def test_it_refuses_plain_http_to_another_machine(url):
    with pytest.raises(CommandError, match="Use an https URL"):
        _run(url)
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", ["http://localhost:9000/e", "http://127.0.0.1/e", "http://[::1]/e"])
def test_it_takes_plain_http_to_this_machine(url):
    _run(url)
    assert WebhookEndpoint.objects.get().url == url
