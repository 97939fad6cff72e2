"""POST /call/<id>: the analyst's click."""

import pytest
from django.urls import reverse
from django.utils import timezone

from transactions.models import CallAttempt, Status


def _url(txn_or_id):
    return reverse("call", args=[getattr(txn_or_id, "public_id", txn_or_id)])


def test_it_places_a_call_and_answers_json(analyst_client, txn, twilio_api, alice):
    response = analyst_client.post(_url(txn))
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["status"] == Status.CONNECTING
    assert body["call_sid"].startswith("CA")
    assert len(twilio_api.requests) == 1
    assert CallAttempt.objects.get().placed_by == alice


def test_a_second_click_is_refused_with_409(analyst_client, txn, twilio_api):
    analyst_client.post(_url(txn))
    again = analyst_client.post(_url(txn))
    assert again.status_code == 409
    assert again.json() == {
        "ok": False,
        "id": "TXN001",
        "status": Status.CONNECTING,
        "message": "A call to TXN001 is already under way.",
    }
    assert len(twilio_api.requests) == 1


def test_a_rejected_number_is_a_422_with_twilios_code(analyst_client, txn, twilio_api):
    twilio_api.fail(21211, "The 'To' number is not a valid phone number.")
    response = analyst_client.post(_url(txn))
    assert response.status_code == 422
    body = response.json()
    assert body["message"] == "Twilio rejected the number (21211)"
    assert body["code"] == "21211"
    assert body["status"] == Status.DISCONNECTED


def test_bad_credentials_are_a_502(analyst_client, txn, twilio_api):
    twilio_api.fail(20003, "Authenticate", status=401)
    response = analyst_client.post(_url(txn))
    assert response.status_code == 502
    assert "(20003)" in response.json()["message"]


def test_an_unreachable_twilio_is_a_502(analyst_client, txn, settings, refused_url):
    settings.TWILIO_API_BASE_URL = refused_url
    response = analyst_client.post(_url(txn))
    assert response.status_code == 502
    assert response.json()["message"].startswith("Could not reach Twilio")
    txn.refresh_from_db()
    assert txn.status == Status.DISCONNECTED


def test_htmx_gets_the_dashboard_row(analyst_client, txn, twilio_api):
    response = analyst_client.post(_url(txn), headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "TXN001" in response.content.decode()


def test_htmx_gets_the_row_with_the_failure(analyst_client, txn, twilio_api):
    twilio_api.fail(21214, "unreachable")
    response = analyst_client.post(_url(txn), headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "The number cannot be reached (21214)" in response.content.decode()


def test_it_warns_when_the_customer_opted_out(analyst_client, make_transaction, twilio_api):
    txn = make_transaction(opted_out_at=timezone.now())
    response = analyst_client.post(_url(txn))
    assert response.status_code == 200
    assert "asked not to be called" in response.json()["message"]


def test_an_unknown_transaction_is_404(analyst_client, twilio_api):
    assert analyst_client.post(_url("NOPE")).status_code == 404
    assert twilio_api.requests == []


def test_it_rejects_get(analyst_client, txn):
    assert analyst_client.get(_url(txn)).status_code == 405


def test_it_requires_login(client, txn):
    response = client.post(_url(txn))
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_it_requires_the_place_call_permission(client, eve, txn, twilio_api):
    client.force_login(eve)
    assert client.post(_url(txn)).status_code == 403
    assert twilio_api.requests == []


@pytest.mark.parametrize("method", ["put", "delete"])
def test_it_rejects_other_methods(analyst_client, txn, method):
    assert getattr(analyst_client, method)(_url(txn)).status_code == 405


def test_it_requires_a_csrf_token(client, alice, txn, twilio_api):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(_url(txn)).status_code == 403
    assert twilio_api.requests == []
