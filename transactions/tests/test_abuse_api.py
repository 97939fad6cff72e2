"""Every page and API endpoint, fed random, oversized, badly encoded and unicode input.

Signed in with the right role: never a 500. Anonymous, without the role, or
without a CSRF token: refused, and nothing changed.
"""

import json
import socket
from urllib.parse import urlencode

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from transactions.models import AuditEntry, CallAttempt, Status, Transaction

GETS = ["/", "/rows", "/export.csv", "/transactions", "/t/TXN001", "/t/NOPE"]
POSTS = [
    "/update_phone/TXN001",
    "/set_action/TXN001",
    "/t/TXN001/status",
    "/call/TXN001",
    "/calls/bulk",
    "/calls/bulk/pending",
    "/calls/bulk/cancel",
    "/update_phone/NOPE",
    "/set_action/NOPE",
    "/call/NOPE",
]
KEYS = [
    "q",
    "status",
    "sort",
    "page",
    "since",
    "shown",
    "limit",
    "offset",
    "client_phone",
    "action",
    "ids",
    "selected",
]
SHAPES = [
    "",
    "-1",
    "0",
    "1e309",
    "NaN",
    "99999999999999999999999999",
    "-date",
    "Resolved",
    "Connecting",
    "+919876543210",
    "TXN001",
    "' OR 1=1 --",
    '"; DROP TABLE transactions_transaction; --',
    "%_%",
    "<script>alert(1)</script>",
    "😀" * 100,
    "x" * 20_000,
    "a,b,c," * 500,
]
values = st.one_of(st.sampled_from(SHAPES), st.text(max_size=60), st.integers().map(str))
params = st.dictionaries(
    st.one_of(st.sampled_from(KEYS), st.text(min_size=1, max_size=12)), values, max_size=6
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=40)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=10,
)
fast = hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
# Refusals are all alike: fewer examples show them.
quick = hypothesis_settings(fast, max_examples=12)


@pytest.fixture(autouse=True)
def _nowhere_to_call(settings):
    # Placing a call must fail fast and cleanly: nothing listens at this address.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.TWILIO_API_BASE_URL = f"http://127.0.0.1:{port}"
    settings.CALL_RATE_LIMIT = "1000/1m"


@pytest.fixture
def rows(make_transaction):
    return [make_transaction(public_id="TXN001"), make_transaction(status=Status.RESOLVED)]


def _snapshot():
    return (
        list(Transaction.objects.order_by("pk").values()),
        list(CallAttempt.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


def _send(client, method, path, form, *, body=None, content_type=None, htmx=False):
    headers = {"HX-Request": "true"} if htmx else {}
    if method == "GET":
        response = client.get(path + "?" + urlencode(form, doseq=True), headers=headers)
        if response.streaming:
            response.getvalue()  # a download fails while it streams, not before
        return response
    if body is None:
        body, content_type = urlencode(form, doseq=True), "application/x-www-form-urlencoded"
    return client.post(path, body, content_type=content_type, headers=headers)


@fast
@given(
    method_path=st.one_of(
        st.tuples(st.just("GET"), st.sampled_from(GETS)),
        st.tuples(st.just("POST"), st.sampled_from(POSTS)),
    ),
    form=params,
    htmx=st.booleans(),
)
@example(("GET", "/"), {"q": "a\x00b"}, False)
@example(("GET", "/transactions"), {"q": "%", "limit": "5000", "offset": "1000000000"}, False)
@example(("GET", "/rows"), {"since": "99999999999999999999"}, True)
@example(("POST", "/calls/bulk"), {"ids": ",".join(["TXN001"] * 2000)}, True)
def test_a_supervisor_never_gets_a_500(supervisor_client, rows, method_path, form, htmx):
    method, path = method_path
    response = _send(supervisor_client, method, path, form, htmx=htmx)
    if path.startswith("/call/") and response.status_code == 502:
        return  # Twilio could not be reached (deliberately, here): Bad Gateway, said so
    assert response.status_code < 500


@fast
@given(
    path=st.sampled_from(POSTS[:3]),
    body=st.one_of(
        json_values.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=300),
        st.just(b'{"client_phone": "\\u0000", "action": "\\ud800"}'),
    ),
    content_type=st.sampled_from(
        [
            "application/json",
            "application/x-www-form-urlencoded",
            "text/plain",
            "multipart/form-data",
        ]
    ),
)
def test_json_and_badly_encoded_bodies_never_get_a_500(
    supervisor_client, rows, path, body, content_type
):
    response = supervisor_client.post(path, body, content_type=content_type)
    assert response.status_code < 500


@fast
@given(
    method_path=st.one_of(
        st.tuples(st.just("GET"), st.sampled_from(GETS)),
        st.tuples(st.just("POST"), st.sampled_from(POSTS)),
    ),
    form=params,
)
def test_anonymous_requests_are_sent_to_sign_in_and_change_nothing(client, rows, method_path, form):
    method, path = method_path
    before = _snapshot()
    response = _send(client, method, path, form)
    assert response.status_code in (302, 400, 403, 405)
    if response.status_code == 302:
        assert response["Location"].startswith("/login/")
    assert _snapshot() == before


@quick
@given(path=st.sampled_from(POSTS), form=params)
def test_a_user_without_a_role_changes_nothing(client, eve, rows, path, form):
    client.force_login(eve)
    before = _snapshot()
    response = _send(client, "POST", path, form)
    assert response.status_code in (400, 403)
    assert _snapshot() == before


@quick
@given(path=st.sampled_from(POSTS), form=params)
def test_a_post_without_the_csrf_token_changes_nothing(sam, rows, path, form):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sam)
    before = _snapshot()
    response = _send(client, "POST", path, form)
    assert response.status_code in (400, 403)
    assert _snapshot() == before
