"""A bad filter or token never comes back as markup: no page echoes what was sent, unescaped.

A link like /?status=<meta http-equiv="refresh" ...> used to answer with a
text/html 400 page holding the value as it was, which sent a signed-in
analyst to another site.
"""

from datetime import UTC, datetime

import pytest

from transactions.views.dashboard import poll_token

HTMX = {"HX-Request": "true"}
REFRESH = '<meta http-equiv="refresh" content="0;url=https://evil.example/">'
SCRIPT = "<script>alert(1)</script>"
HOSTILE = [REFRESH, SCRIPT, '"><img src=x onerror=alert(1)>']


def _assert_nothing_reflected(response, value):
    body = response.content.decode()
    assert value not in body
    assert "<meta http-equiv" not in body
    assert "<script>" not in body
    assert "<img src=x" not in body
    kind = response["Content-Type"]
    assert kind.startswith(("text/plain", "text/html", "application/json")), kind


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name", ["status", "sort", "review"])
def test_the_dashboard_shows_the_default_view_with_a_notice(supervisor_client, txn, name, value):
    response = supervisor_client.get("/", {name: value})
    assert response.status_code == 400
    _assert_nothing_reflected(response, value)
    page = response.content.decode()
    assert "row-TXN001" in page  # the default view, every row
    assert 'class="notice error"' in page
    assert response.context["status"] == ""
    assert response.context["sort"] == "-date"


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name", ["status", "sort"])
def test_the_dashboard_fragment_shows_the_default_view_and_its_address(
    supervisor_client, txn, name, value
):
    response = supervisor_client.get("/", {name: value}, headers=HTMX)
    assert response.status_code == 400
    _assert_nothing_reflected(response, value)
    assert "row-TXN001" in response.content.decode()
    assert response["HX-Push-Url"] == "/"


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name", ["status", "sort", "review"])
def test_the_export_refuses_in_plain_text(supervisor_client, txn, name, value):
    response = supervisor_client.get("/export.csv", {name: value})
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    _assert_nothing_reflected(response, value)


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("name", ["status", "sort", "review", "since"])
def test_the_poll_refuses_in_plain_text(supervisor_client, sam, txn, name, value):
    params = {"since": poll_token(sam.pk, datetime(2000, 1, 1, tzinfo=UTC)), "shown": "TXN001"}
    params[name] = value
    response = supervisor_client.get("/rows", params, headers=HTMX)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    _assert_nothing_reflected(response, value)


def test_the_poll_of_another_user_refuses_in_plain_text(analyst_client, sam, txn):
    since = poll_token(sam.pk, datetime(2000, 1, 1, tzinfo=UTC))
    response = analyst_client.get("/rows", {"since": since}, headers=HTMX)
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.parametrize("value", HOSTILE)
def test_the_api_does_not_repeat_a_hostile_id_or_filter(supervisor_client, txn, value):
    for response in (
        supervisor_client.get("/transactions", {"status": value}),
        supervisor_client.get("/transactions", {"limit": value}),
        supervisor_client.post("/update_phone/" + value, {"client_phone": "+919800000000"}),
        supervisor_client.post("/set_action/" + value, {"action": "Resolved"}),
    ):
        assert response.status_code in (400, 404)
        _assert_nothing_reflected(response, value)


def test_a_search_too_long_shows_the_default_view_without_repeating_it(supervisor_client, txn):
    value = REFRESH * 5
    for headers in ({}, HTMX):
        response = supervisor_client.get("/", {"q": value}, headers=headers)
        assert response.status_code == 400
        _assert_nothing_reflected(response, value)
        assert "row-TXN001" in response.content.decode()
