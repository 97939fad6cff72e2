"""Sign-in is rate limited: failed attempts per name and per address, counted in the database."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.db.models import F
from django.urls import reverse

from conftest import PASSWORD
from ivr_project.tests.another_process import in_another_process

PROXY = "10.0.0.254"


@pytest.fixture
def strict(settings):
    settings.LOGIN_RATE_LIMIT = "3/5m"
    settings.LOGIN_RATE_LIMIT_PER_ADDRESS = "5/5m"
    return settings


def _login(client, username, password, ip="10.0.0.1", path=None, **headers):
    return client.post(
        path or reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        headers=headers,
    )


def _forwarded(client, username, password, chain):
    """A sign-in through the reverse proxy: it connects from PROXY and adds X-Forwarded-For."""
    return _login(client, username, password, ip=PROXY, **{"X-Forwarded-For": chain})


def test_it_refuses_a_name_once_its_failures_reach_the_limit(client, alice, strict):
    assert _login(client, "alice", "wrong").status_code == 200
    assert _login(client, "alice", "wrong").status_code == 200
    assert _login(client, "alice", "wrong").status_code == 429

    refused = _login(client, "alice", PASSWORD)
    assert refused.status_code == 429
    assert "Too many failed sign-in attempts" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 300
    # Refused before the password was checked: no session was created.
    assert "_auth_user_id" not in client.session


def test_the_refusal_is_a_page_of_the_site_with_a_way_back(client, alice, strict):
    for _ in range(3):
        _login(client, "alice", "wrong")

    refused = _login(client, "alice", PASSWORD)

    page = refused.content.decode()
    assert refused["Content-Type"].startswith("text/html")
    assert 'class="brand"' in page  # the site's header: base.html
    assert f'href="{reverse("login")}"' in page
    assert "Try again in 5 minutes" in page


def test_a_look_alike_name_signs_in_as_the_user(client, sam):
    # Django folds a name (NFKC) before looking it up: a fullwidth "ｓ" is an "s".
    assert _login(client, "ｓam", PASSWORD).status_code == 302
    assert client.session["_auth_user_id"] == str(sam.pk)


def test_look_alike_names_share_one_count(client, sam, strict):
    for name in ("sam", "SAM", " Sam "):
        _login(client, name, "wrong")

    assert _login(client, "ｓam", PASSWORD).status_code == 429
    assert _login(client, "sam", PASSWORD).status_code == 429


def test_the_admin_sign_in_shares_the_count(client, sam, strict):
    admin_login = reverse("admin:login")
    for _ in range(2):
        assert _login(client, "sam", "wrong", path=admin_login).status_code == 200
    _login(client, "sam", "wrong")

    assert _login(client, "sam", PASSWORD, path=admin_login).status_code == 429


def test_successful_sign_ins_do_not_count(client, alice, strict):
    for _ in range(5):
        assert _login(client, "alice", PASSWORD).status_code == 302
        client.logout()
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_other_users_can_still_sign_in(client, alice, sam, strict):
    for _ in range(3):
        _login(client, "alice", "wrong")
    assert _login(client, "sam", PASSWORD).status_code == 302


def test_it_refuses_an_address_spraying_many_names(client, alice, strict):
    for n in range(5):
        _login(client, f"user{n}", "wrong", ip="10.9.9.9")
    assert _login(client, "alice", PASSWORD, ip="10.9.9.9").status_code == 429
    assert _login(client, "alice", PASSWORD, ip="10.0.0.2").status_code == 302


def test_without_a_proxy_setting_a_forwarded_header_is_ignored(client, alice, strict):
    for n in range(5):
        _forwarded(client, f"user{n}", "wrong", f"198.51.100.{n}")
    assert _forwarded(client, "alice", PASSWORD, "198.51.100.99").status_code == 429


def test_behind_a_proxy_each_client_has_its_own_count(client, alice, strict):
    strict.TRUSTED_PROXY_COUNT = 1
    for n in range(5):
        _forwarded(client, f"user{n}", "wrong", "198.51.100.7")

    assert _forwarded(client, "alice", PASSWORD, "198.51.100.7").status_code == 429
    assert _forwarded(client, "alice", PASSWORD, "203.0.113.9").status_code == 302


def test_behind_a_proxy_a_client_cannot_choose_its_address(client, alice, strict):
    strict.TRUSTED_PROXY_COUNT = 1
    # The proxy appends the address it saw to whatever the client sent.
    for n in range(5):
        _forwarded(client, f"user{n}", "wrong", f"192.0.2.{n}, 198.51.100.7")

    assert _forwarded(client, "alice", PASSWORD, "192.0.2.99, 198.51.100.7").status_code == 429


def test_behind_two_proxies_the_client_is_second_from_the_right(client, alice, strict):
    strict.TRUSTED_PROXY_COUNT = 2
    for n in range(5):
        _forwarded(client, f"user{n}", "wrong", f"192.0.2.{n}, 198.51.100.7, 10.0.0.253")

    assert _forwarded(client, "alice", PASSWORD, "198.51.100.7, 10.0.0.253").status_code == 429
    assert _forwarded(client, "alice", PASSWORD, "203.0.113.9, 10.0.0.253").status_code == 302


@pytest.mark.parametrize("chain", ["", "not-an-address", " , ,", "::::::, 999.1.1.1", "a" * 5000])
def test_a_malformed_forwarded_header_is_no_error(client, alice, strict, chain):
    strict.TRUSTED_PROXY_COUNT = 1

    assert _forwarded(client, "alice", "wrong", chain).status_code == 200
    assert _forwarded(client, "alice", PASSWORD, chain).status_code == 302


@pytest.mark.parametrize(
    "data",
    [
        {"username": "a" * 5000, "password": "wrong"},
        {"username": "alice"},
        {"password": "wrong"},
        {"username": ["alice", "sam"], "password": ["x", "y"]},
        {},
    ],
)
def test_bad_input_gets_the_form_back(client, alice, strict, data):
    response = client.post(reverse("login"), data)

    assert response.status_code == 200
    assert 'name="username"' in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_failures_in_another_web_process_count(client, alice, strict):
    statuses = in_another_process(
        "c = Client(REMOTE_ADDR='10.0.0.1')\n"
        "for _ in range(3):\n"
        "    print(c.post('/login/', {'username': 'alice', 'password': 'wrong'}).status_code)\n",
        LOGIN_RATE_LIMIT="3/5m",
        LOGIN_RATE_LIMIT_PER_ADDRESS="5/5m",
    )

    assert statuses == ["200", "200", "429"]
    assert _login(client, "alice", PASSWORD).status_code == 429


def test_it_allows_sign_in_again_once_the_cool_off_has_passed(client, alice, strict):
    for _ in range(3):
        _login(client, "alice", "wrong")
    # The clock is the boundary here: the failures are made 200 s older.
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(seconds=200))

    refused = _login(client, "alice", PASSWORD)
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 100

    AccessAttempt.objects.update(attempt_time=F("attempt_time") - timedelta(seconds=101))
    assert _login(client, "alice", PASSWORD).status_code == 302


def test_the_login_page_still_loads_when_limited(client, alice, strict):
    for _ in range(3):
        _login(client, "alice", "wrong")
    assert client.get(reverse("login")).status_code == 200
