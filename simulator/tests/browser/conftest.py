"""The softphone in a real browser (the root conftest's shared headless Chromium)."""

import pytest


@pytest.fixture
def page_for(browser_pages, live):
    """page_for(user): a fresh browser context logged in as `user`."""
    return lambda user: browser_pages(live.url, user, viewport={"width": 1100, "height": 900})
