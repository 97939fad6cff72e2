"""Placing calls by hand is rate limited per analyst."""

import pytest
from django.urls import reverse

from transactions.models import CallAttempt, Status


@pytest.fixture
def strict(settings):
    settings.CALL_RATE_LIMIT = "3/1m"
    return settings


def test_it_refuses_an_analyst_past_the_limit_before_placing_anything(analyst_client, txn, strict):
    # Three requests use the allowance (for rows that do not exist: nothing is called).
    for _ in range(3):
        assert analyst_client.post(reverse("call", args=["NOPE"])).status_code == 404
    refused = analyst_client.post(reverse("call", args=[txn.public_id]))
    assert refused.status_code == 429
    assert refused.json()["ok"] is False
    assert int(refused["Retry-After"]) > 0
    txn.refresh_from_db()
    assert txn.status == Status.PENDING
    assert not CallAttempt.objects.exists()


def test_the_limit_is_per_user(client, alice, sam, strict):
    client.force_login(alice)
    for _ in range(4):
        client.post(reverse("call", args=["NOPE"]))
    assert client.post(reverse("call", args=["NOPE"])).status_code == 429
    client.force_login(sam)
    assert client.post(reverse("call", args=["NOPE"])).status_code == 404


def test_it_answers_htmx_with_a_plain_message(analyst_client, strict):
    for _ in range(3):
        analyst_client.post(reverse("call", args=["NOPE"]))
    refused = analyst_client.post(reverse("call", args=["NOPE"]), headers={"HX-Request": "true"})
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("text/plain")
    assert "Too many calls" in refused.content.decode()


def test_anonymous_and_forbidden_requests_do_not_reach_the_limit(client, eve, strict):
    assert client.post(reverse("call", args=["NOPE"])).status_code == 302
    client.force_login(eve)
    for _ in range(5):
        assert client.post(reverse("call", args=["NOPE"])).status_code == 403
