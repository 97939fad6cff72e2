"""Shared test people and data: alice the analyst, sam the supervisor, eve with no role.

Also the one headless Chromium that every browser test shares (Playwright's
sync API allows one instance per process).
"""

import itertools
import json
import os
from datetime import date
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from twilio.request_validator import RequestValidator

from transactions.models import Transaction
from transactions.roles import ANALYSTS, SUPERVISORS, sync_roles

PASSWORD = "correct-horse-battery-staple"


def _user(username, group=None, **extra):
    user = User.objects.create_user(username, f"{username}@bank.example", PASSWORD, **extra)
    if group:
        # Transactional tests flush the groups the roles migration made: put them back.
        if not Group.objects.filter(name=group).exists():
            sync_roles(Group, Permission)
        user.groups.add(Group.objects.get(name=group))
    return user


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium, headless, driven by Playwright; one for the whole run."""
    from playwright.sync_api import sync_playwright

    # The sync API runs an event loop in this thread; ORM calls in tests stay synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_pages(browser):
    """browser_pages(base_url, user=None, **context_options): a page in a fresh context.

    Logged in as `user` when given (a session as the login form leaves it);
    `page.js_errors` collects uncaught script errors. Contexts close at the
    end of the test, before the database is flushed, so no poll arrives after.
    """
    from django.test import Client

    contexts = []

    def make(base_url, user=None, **context_options):
        context = browser.new_context(base_url=base_url, **context_options)
        context.set_default_timeout(15_000)
        if user is not None:
            client = Client()
            client.force_login(user)
            name = settings.SESSION_COOKIE_NAME
            cookie = {"name": name, "value": client.cookies[name].value, "url": base_url}
            context.add_cookies([cookie])
        contexts.append(context)
        page = context.new_page()
        page.js_errors = []
        page.on("pageerror", lambda error: page.js_errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # The production hasher is slow on purpose; tests create users by the dozen.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def make_user(db):
    """make_user(username, group=None, **fields): a saved user, in that role when given."""
    return _user


@pytest.fixture
def alice(db):
    return _user("alice", ANALYSTS)


@pytest.fixture
def sam(db):
    return _user("sam", SUPERVISORS, is_staff=True)


@pytest.fixture
def eve(db):
    return _user("eve")


@pytest.fixture
def analyst_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def supervisor_client(client, sam):
    client.force_login(sam)
    return client


_ids = itertools.count(1)


@pytest.fixture
def make_transaction(db):
    """Build a saved Transaction; any field can be overridden."""

    def make(**fields):
        n = next(_ids)
        values = {
            "public_id": f"TXN{n:03d}",
            "client_name": "Asha Rao",
            "card_last4": "4821",
            "phone": "+14155550101",
            "amount": Decimal("2350.10"),
            "bank_name": "Example Bank",
            "merchant_name": "Croma Electronics",
            "transaction_date": date(2025, 3, 15),
        }
        values.update(fields)
        return Transaction.objects.create(**values)

    return make


@pytest.fixture
def txn(make_transaction):
    return make_transaction(public_id="TXN001")


def twilio_signature(url: str, params: dict) -> str:
    """X-Twilio-Signature exactly as Twilio computes it, with our auth token."""
    return RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(url, params)


@pytest.fixture
def twilio_post(client):
    """POST a webhook the way Twilio sends it: form-encoded and signed over PUBLIC_URL + path."""

    def post(path: str, params: dict | None = None, *, signature: str | None = None, **extra):
        params = {k: str(v) for k, v in (params or {}).items()}
        url = settings.PUBLIC_URL + path
        headers = {
            "X-Twilio-Signature": signature
            if signature is not None
            else twilio_signature(url, params)
        }
        return client.post(path, params, headers=headers, **extra)

    return post


# --- The alerts API: a key, and requests whose answers are checked against its description


@pytest.fixture
def api_key(db, sam):
    """(the ApiKey row, the key itself) of an integration a supervisor created."""
    from transactions.models import ApiKey

    return ApiKey.issue("core-banking", created_by=sam)


@pytest.fixture
def api(client, api_key):
    """api(method, path, body=None, key=<the fixture's key>, **extra) -> response.

    JSON in, the key as a bearer token (key=None sends none); every answer is
    checked against the OpenAPI description (transactions/tests/openapi.py).
    """
    from transactions.tests.openapi import assert_matches_openapi

    default_key = api_key[1]

    def call(method, path, body=None, *, key=default_key, **extra):
        headers = extra.pop("headers", {})
        if key is not None:
            headers["Authorization"] = f"Bearer {key}"
        if body is not None:
            extra.setdefault("content_type", "application/json")
            if not isinstance(body, str | bytes):
                body = json.dumps(body)
            extra["data"] = body
        response = getattr(client, method.lower())(path, headers=headers, **extra)
        assert_matches_openapi(response, method)
        return response

    return call
