"""The simulator's test kit: a live server, the real twilio client aimed at it, fast clocks."""

import threading
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
from django.db import connection
from twilio.rest import Client


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
    # The twilio client keeps its HTTP connection alive, and with it the server thread that
    # answers it: that thread must not keep a database session open past each request, or
    # PostgreSQL refuses to drop the test database at the end.
    db_settings = connection.settings_dict
    kept = db_settings.get("CONN_MAX_AGE", 0)
    db_settings["CONN_MAX_AGE"] = 0
    yield live_server
    db_settings["CONN_MAX_AGE"] = kept


@pytest.fixture
def twiml_log():
    """What the tiny TwiML app (twiml_app.py) received, empty at the start of the test."""
    from . import twiml_app

    twiml_app.received.clear()
    return twiml_app.received


def twilio_client(sid=None, token=None) -> Client:
    client = Client(sid or settings.TWILIO_SID, token or settings.TWILIO_AUTH_TOKEN)
    client.api.base_url = settings.TWILIO_API_BASE_URL
    return client


@pytest.fixture
def twilio(live):
    return twilio_client()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def _app_server():
    server = ThreadedWSGIServer(("127.0.0.1", 0), _QuietHandler, allow_reuse_address=False)
    server.set_app(get_wsgi_application())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_server(_app_server, settings):
    """Our app over real HTTP for pages that never touch the database (the tiny TwiML app),
    so the engine's tests keep the fast, rolled-back test transaction."""
    settings.PUBLIC_URL = _app_server.url
    return _app_server
