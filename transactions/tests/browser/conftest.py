"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright.

The root conftest's one browser for the whole session; each test gets a fresh
context (cookies, storage) against pytest-django's live server.
"""

import pytest
from django.conf import settings as django_settings
from django.db import connections

TIMEOUT_MS = 15_000


@pytest.fixture
def live(live_server, settings, monkeypatch):
    """The live server as PUBLIC_URL and Twilio's REST base (the built-in simulator)."""
    # Keep-alive HTTP connections (the browser's, the twilio client's) keep a
    # server thread, and with CONN_MAX_AGE its database session, past the test:
    # close sessions after each request so the test database can be dropped.
    monkeypatch.setitem(connections.settings["default"], "CONN_MAX_AGE", 0)
    settings.PUBLIC_URL = live_server.url
    settings.TWILIO_API_BASE_URL = live_server.url + "/simulator/api"
    settings.DASHBOARD_POLL_SECONDS = 1
    # Tests run at any hour: no "outside the customer's calling hours" question.
    settings.CALLING_HOURS = "00:00-24:00"
    # Scripted customers answer at once; nobody waits for a softphone.
    settings.SIMULATOR_TIME_SCALE = 0
    settings.SIMULATOR_PICKUP_SECONDS = 0
    settings.SIMULATOR_PERSON_TIME_SCALE = 0
    return live_server


@pytest.fixture
def new_page(browser, live, transactional_db):
    """new_page(user=None): a page in a fresh context, logged in as `user` when given."""
    contexts = []

    def make(user=None):
        context = browser.new_context(
            base_url=live.url, viewport={"width": 1440, "height": 900}, accept_downloads=True
        )
        context.set_default_timeout(TIMEOUT_MS)
        if user is not None:
            context.add_cookies([_session_cookie(user, live.url)])
        contexts.append(context)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
        return page

    yield make
    # Closed before the database is flushed: no poll may arrive after.
    for context in contexts:
        context.close()


def _session_cookie(user, url):
    """A logged-in session for `user`, as the login form would leave it."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {
        "name": django_settings.SESSION_COOKIE_NAME,
        "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
        "url": url,
    }
