"""The alerts API's Swagger UI page in a real browser, under the site's strict CSP."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_docs_page_shows_the_alerts_api_with_no_script_or_csp_error(new_page, alice):
    page = new_page(alice)
    page.goto("/api/v1/docs")
    expect(page.get_by_text("IVR fraud verification: alerts API")).to_be_visible()
    expect(page.locator("#operations-alerts-send_alerts")).to_be_visible()
    expect(page.locator("#operations-alerts-get_alert")).to_be_visible()
    assert page.js_errors == []
    assert page.csp_violations() == []
