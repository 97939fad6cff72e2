"""The dashboard in a real browser: Debian's headless Chromium driven by Playwright.

The root conftest's one browser for the whole session; each test gets a fresh
context (cookies, storage) against pytest-django's live server.
"""

import pytest
from django.db import connections


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
def new_page(browser_pages, live, transactional_db):
    """new_page(user=None, width=1440): a page in a fresh context, logged in as `user` when given.

    `page.console_errors` collects the console's errors; `page.csp_violations()`
    lists those that are a Content-Security-Policy violation (an inline style or
    script some swap brought in).
    """

    def make(user=None, width=1440):
        page = browser_pages(
            live.url, user, viewport={"width": width, "height": 900}, accept_downloads=True
        )
        page.console_errors = []
        page.on(
            "console",
            lambda message: message.type == "error" and page.console_errors.append(message.text),
        )
        page.csp_violations = lambda: [
            text for text in page.console_errors if "Content Security Policy" in text
        ]
        return page

    return make
