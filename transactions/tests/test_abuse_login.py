"""Sign-in is rate limited: failed attempts per username and per address."""

import pytest
from django.urls import reverse

from conftest import PASSWORD


@pytest.fixture
def strict(settings):
    settings.LOGIN_RATE_LIMIT = "3/5m"
    settings.LOGIN_RATE_LIMIT_PER_ADDRESS = "5/5m"
    return settings


def _login(client, username, password, ip="10.0.0.1"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_it_refuses_a_username_after_too_many_failures(client, alice, strict):
    for _ in range(3):
        assert _login(client, "alice", "wrong").status_code == 200
    refused = _login(client, "alice", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    # Refused before the password was checked: no session was created.
    assert "_auth_user_id" not in client.session


def test_the_username_limit_ignores_case_and_spaces(client, alice, strict):
    for name in ("alice", "ALICE", " Alice "):
        _login(client, name, "wrong")
    assert _login(client, "alice", PASSWORD).status_code == 429


def test_successful_sign_ins_do_not_count(client, alice, strict):
    for _ in range(5):
        assert _login(client, "alice", PASSWORD).status_code == 302
        client.logout()
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_other_users_can_still_sign_in(client, alice, sam, strict):
    for _ in range(3):
        _login(client, "alice", "wrong")
    assert _login(client, "sam", PASSWORD).status_code == 302


def test_it_refuses_an_address_spraying_many_usernames(client, alice, strict):
    for n in range(5):
        _login(client, f"user{n}", "wrong", ip="10.9.9.9")
    assert _login(client, "alice", PASSWORD, ip="10.9.9.9").status_code == 429
    assert _login(client, "alice", PASSWORD, ip="10.0.0.2").status_code == 302


def test_it_allows_sign_in_again_in_the_next_window(client, alice, strict, monkeypatch):
    for _ in range(3):
        _login(client, "alice", "wrong")
    assert _login(client, "alice", PASSWORD).status_code == 429
    # Five minutes later (the clock is the boundary here, not our code).
    import time

    later = time.time() + 301
    monkeypatch.setattr(time, "time", lambda: later)
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_the_login_page_still_loads_when_limited(client, alice, strict):
    for _ in range(3):
        _login(client, "alice", "wrong")
    assert client.get(reverse("login")).status_code == 200
