"""The reports in a real browser: the dashboard's browser fixtures (live server, pages)."""

from transactions.tests.browser.conftest import live, new_page  # noqa: F401
