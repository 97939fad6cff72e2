"""`manage.py register_event_receiver`: the built-in receiver as an endpoint, once."""

from io import StringIO

import pytest
from django.core.management import call_command

from transactions.models import EventType, WebhookEndpoint

pytestmark = pytest.mark.django_db


def _run() -> str:
    out = StringIO()
    call_command("register_event_receiver", stdout=out)
    return out.getvalue()


def test_it_registers_the_receiver_for_every_event_once(settings):
    _run()
    _run()

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.url == settings.PUBLIC_URL + "/simulator/events/"
    assert endpoint.secret == settings.SIMULATOR_EVENTS_SECRET
    assert endpoint.event_types == EventType.values


def test_it_follows_a_new_public_url(settings):
    _run()
    settings.PUBLIC_URL = "http://127.0.0.1:9000"

    assert "now sent to" in _run()
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:9000/simulator/events/"


def test_it_does_nothing_with_a_real_twilio_account(settings):
    settings.SIMULATION = False

    assert "no built-in event receiver" in _run()
    assert not WebhookEndpoint.objects.exists()
