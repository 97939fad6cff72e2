"""The simulator's test kit: a live server, the real twilio client aimed at it, fast clocks."""

import pytest
from django.conf import settings
from twilio.rest import Client


@pytest.fixture(autouse=True)
def roles(request):
    """Transactional tests flush the groups the roles migration made: put them back."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    request.getfixturevalue("transactional_db" if marker.kwargs.get("transaction") else "db")
    from django.contrib.auth.models import Group, Permission

    from transactions.roles import sync_roles

    if not Group.objects.exists():
        sync_roles(Group, Permission)


@pytest.fixture(autouse=True)
def fast_simulator(settings):
    # Scripted customers answer at once and nobody waits for a softphone.
    settings.SIMULATOR_TIME_SCALE = 0
    settings.SIMULATOR_PICKUP_SECONDS = 0
    settings.SIMULATOR_PERSON_TIME_SCALE = 0
    # Pages render {% static %} without a collectstatic manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def live(live_server, settings):
    """The live server as PUBLIC_URL and as Twilio's REST base URL, as in `make run`."""
    settings.PUBLIC_URL = live_server.url
    settings.TWILIO_API_BASE_URL = live_server.url + "/simulator/api"
    return live_server


def twilio_client(sid=None, token=None) -> Client:
    client = Client(sid or settings.TWILIO_SID, token or settings.TWILIO_AUTH_TOKEN)
    client.api.base_url = settings.TWILIO_API_BASE_URL
    return client


@pytest.fixture
def twilio(live):
    return twilio_client()
