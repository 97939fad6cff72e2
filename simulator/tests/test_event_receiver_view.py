"""The simulator's built-in receiver of outcome events: only correctly signed events are kept."""

import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from standardwebhooks import Webhook

from simulator.models import ReceivedEvent
from transactions.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

RECEIVE = "/simulator/events/"
PAGE = "/simulator/events/received"
EVENT = {"type": "alert.resolved", "timestamp": "2026-01-15T10:00:00+00:00", "data": {"id": "T1"}}


def _signed(secret, body: str, msg_id="msg_1", when=None) -> dict:
    when = when or datetime.now(UTC)
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(when.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": Webhook(secret).sign(msg_id, when, body),
    }


def _post(client, body, headers):
    return client.post(RECEIVE, body, content_type="application/json", **headers)


def test_it_keeps_an_event_signed_with_its_secret(client, settings):
    body = json.dumps(EVENT)

    response = _post(client, body, _signed(settings.SIMULATOR_EVENTS_SECRET, body))

    assert response.status_code == 204
    kept = ReceivedEvent.objects.get()
    assert (kept.msg_id, kept.type, kept.payload) == ("msg_1", "alert.resolved", EVENT)


def test_it_refuses_another_secrets_signature(client):
    body = json.dumps(EVENT)

    response = _post(client, body, _signed(WebhookEndpoint().secret, body))

    assert response.status_code == 400
    assert not ReceivedEvent.objects.exists()


def test_it_refuses_a_body_changed_after_signing(client, settings):
    headers = _signed(settings.SIMULATOR_EVENTS_SECRET, json.dumps(EVENT))

    response = _post(client, json.dumps({**EVENT, "type": "alert.fraud_confirmed"}), headers)

    assert response.status_code == 400
    assert not ReceivedEvent.objects.exists()


def test_it_refuses_an_unsigned_event(client):
    assert _post(client, json.dumps(EVENT), {}).status_code == 400
    assert not ReceivedEvent.objects.exists()


def test_it_refuses_an_old_replayed_event(client, settings):
    body = json.dumps(EVENT)
    old = datetime(2020, 1, 1, tzinfo=UTC)

    response = _post(client, body, _signed(settings.SIMULATOR_EVENTS_SECRET, body, when=old))

    assert response.status_code == 400


def test_it_rejects_get(client):
    assert client.get(RECEIVE).status_code == 405


def test_the_page_lists_what_arrived_for_analysts(analyst_client, settings):
    body = json.dumps(EVENT)
    _post(analyst_client, body, _signed(settings.SIMULATOR_EVENTS_SECRET, body, msg_id="msg_42"))

    page = analyst_client.get(PAGE).content.decode()

    assert "msg_42" in page and "alert.resolved" in page and "signature verified" in page


def test_the_page_needs_a_sign_in_and_a_role(client, eve):
    assert client.get(PAGE).status_code == 302
    client.force_login(eve)
    assert client.get(PAGE).status_code == 403


def test_the_page_escapes_what_a_sender_wrote(analyst_client, settings):
    event = {**EVENT, "data": {"id": "T1", "status": "<script>alert(1)</script>"}}
    body = json.dumps(event)
    _post(analyst_client, body, _signed(settings.SIMULATOR_EVENTS_SECRET, body))

    page = analyst_client.get(PAGE).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert reverse("simulator:events-receive") in page
