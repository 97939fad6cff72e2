"""twilio_webhook: POST only, no CSRF token, and Twilio's signature over the URL it called."""

import logging

import pytest
from django.conf import settings
from django.http import QueryDict
from django.test import Client
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from conftest import twilio_signature
from transactions.models import CallEvent, Status
from voiceflow.security import form_signature

PARAMS = {"CallStatus": "completed", "SequenceNumber": "3"}


@pytest.fixture
def params(call):
    return {"CallSid": call.call_sid, **PARAMS}


def _status(txn):
    txn.refresh_from_db()
    return txn.status


def test_a_signed_request_passes(twilio_post, params, txn):
    assert twilio_post("/status/TXN001", params).status_code == 200
    assert _status(txn) == Status.DISCONNECTED


def test_it_signs_over_the_query_string_exactly_as_received(client, params, txn):
    # Twilio keeps our query string as we wrote it; we must not re-sort or re-encode it.
    path = "/status/TXN001?z=1&a=%20two&a=3"
    signature = twilio_signature(settings.PUBLIC_URL + path, params)
    response = client.post(path, params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert _status(txn) == Status.DISCONNECTED


def test_it_rejects_a_signature_without_the_query_string(client, params, txn):
    signature = twilio_signature(settings.PUBLIC_URL + "/status/TXN001", params)
    response = client.post(
        "/status/TXN001?extra=1", params, headers={"X-Twilio-Signature": signature}
    )
    assert response.status_code == 403
    assert _status(txn) == Status.CONNECTING


def test_it_rejects_a_signature_for_another_host(client, params, txn):
    signature = twilio_signature("https://elsewhere.example/status/TXN001", params)
    response = client.post("/status/TXN001", params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403


def test_it_rejects_changed_parameters(client, params, txn):
    signature = twilio_signature(settings.PUBLIC_URL + "/status/TXN001", params)
    tampered = {**params, "CallStatus": "busy"}
    response = client.post("/status/TXN001", tampered, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    assert _status(txn) == Status.CONNECTING


def test_it_rejects_a_signature_made_with_another_token(client, params, txn):
    from twilio.request_validator import RequestValidator

    url = settings.PUBLIC_URL + "/status/TXN001"
    forged = RequestValidator("not-our-token").compute_signature(url, params)
    response = client.post("/status/TXN001", params, headers={"X-Twilio-Signature": forged})
    assert response.status_code == 403
    assert not CallEvent.objects.exists()


@pytest.mark.parametrize(
    "path", ["/status/TXN001", "/voice/TXN001/step0", "/voice/TXN001/step0/response"]
)
def test_every_webhook_rejects_a_missing_signature(client, params, txn, path):
    assert client.post(path, params).status_code == 403
    assert _status(txn) == Status.CONNECTING
    assert not CallEvent.objects.exists()


def test_it_needs_no_csrf_token(params, txn):
    strict = Client(enforce_csrf_checks=True)
    signature = twilio_signature(settings.PUBLIC_URL + "/status/TXN001", params)
    response = strict.post("/status/TXN001", params, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200


def test_it_rejects_get_even_when_signed(client, txn):
    signature = twilio_signature(settings.PUBLIC_URL + "/status/TXN001", {})
    response = client.get("/status/TXN001", headers={"X-Twilio-Signature": signature})
    assert response.status_code == 405


def test_it_never_logs_the_signature_or_the_token(client, params, caplog):
    caplog.set_level(logging.DEBUG)
    forged = "c2VjcmV0LXNpZ25hdHVyZQ=="
    client.post("/status/TXN001", params, headers={"X-Twilio-Signature": forged})
    assert "Rejected a webhook" in caplog.text
    assert forged not in caplog.text
    assert settings.TWILIO_AUTH_TOKEN not in caplog.text


@hypothesis_settings(max_examples=200, deadline=None)
@given(
    form=st.lists(st.tuples(st.text(min_size=1), st.text()), max_size=8),
    url=st.text(),
)
def test_our_signature_is_the_twilio_librarys(form, url):
    """Same bytes as RequestValidator.compute_signature: repeated names, unicode and all."""
    params = QueryDict(mutable=True)
    for name, value in form:
        params.appendlist(name, value)
    expected = RequestValidator("a-token").compute_signature(url, params)
    assert form_signature("a-token", url, params) == expected


def test_a_signature_with_the_port_twilio_may_add_still_passes(client, params, txn):
    """The library's full check is the fallback: Twilio may sign https URLs with :443."""
    path = f"/status/{txn.public_id}"
    with_port = settings.PUBLIC_URL.replace("http://testserver", "http://testserver:80") + path
    headers = {"X-Twilio-Signature": twilio_signature(with_port, params)}
    assert client.post(path, params, headers=headers).status_code == 200
