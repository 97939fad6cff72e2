"""The softphone in a real browser (the root conftest's shared headless Chromium)."""

import pytest
from django.conf import settings as django_settings
from django.test import Client


@pytest.fixture
def page_for(browser, live):
    """page_for(user): a fresh browser context logged in as `user`."""
    contexts = []

    def make(user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[django_settings.SESSION_COOKIE_NAME].value
        context = browser.new_context(base_url=live.url, viewport={"width": 1100, "height": 900})
        context.set_default_timeout(15_000)
        context.add_cookies(
            [{"name": django_settings.SESSION_COOKIE_NAME, "value": cookie, "url": live.url}]
        )
        contexts.append(context)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
        return page

    yield make
    # Closed before the database is flushed: no poll may arrive after.
    for context in contexts:
        context.close()
