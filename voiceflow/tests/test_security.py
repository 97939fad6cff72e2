"""twilio_webhook: POST only, no CSRF token, and Twilio's signature over the URL it called."""

import logging
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from conftest import twilio_signature
from transactions.models import CallEvent, Status
from voiceflow.security import is_signed_by_twilio

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


def test_it_signs_over_public_url_never_the_host_header(client, params, txn):
    # Behind a proxy or tunnel the Host header is ours, not the address Twilio called.
    def post_to_localhost(signed_over):
        headers = {"X-Twilio-Signature": twilio_signature(signed_over, params)}
        return client.post("/status/TXN001", params, headers=headers, HTTP_HOST="localhost")

    assert post_to_localhost("http://localhost/status/TXN001").status_code == 403
    assert _status(txn) == Status.CONNECTING
    assert post_to_localhost(settings.PUBLIC_URL + "/status/TXN001").status_code == 200
    assert _status(txn) == Status.DISCONNECTED


@hypothesis_settings(max_examples=200, deadline=None)
@given(form=st.lists(st.tuples(st.text(min_size=1), st.text()), min_size=1, max_size=8))
def test_any_form_twilio_signs_passes_and_any_change_fails(form):
    """Repeated names, unicode and all: the whole form, as Django parsed it, is checked."""
    body = urlencode(form)
    request = RequestFactory().post(
        "/status/TXN001", body, content_type="application/x-www-form-urlencoded"
    )
    signature = RequestValidator(settings.TWILIO_AUTH_TOKEN).compute_signature(
        settings.PUBLIC_URL + "/status/TXN001", request.POST
    )
    request.META["HTTP_X_TWILIO_SIGNATURE"] = signature
    assert is_signed_by_twilio(request)
    added = "~" * (1 + max(len(name) for name, _ in form))  # a name the form has not
    tampered = RequestFactory().post(
        "/status/TXN001",
        urlencode([*form, (added, "1")]),
        content_type="application/x-www-form-urlencoded",
    )
    tampered.META["HTTP_X_TWILIO_SIGNATURE"] = signature
    assert not is_signed_by_twilio(tampered)


def test_a_signature_with_the_port_twilio_may_add_still_passes(client, params, txn):
    """Twilio may sign the URL with its default port (:443, :80) written out."""
    path = f"/status/{txn.public_id}"
    with_port = settings.PUBLIC_URL.replace("http://testserver", "http://testserver:80") + path
    headers = {"X-Twilio-Signature": twilio_signature(with_port, params)}
    assert client.post(path, params, headers=headers).status_code == 200
