"""NUL characters are refused with 400 before any view, on every route; so is a body too big."""

import json

import pytest

from transactions.models import Transaction


@pytest.mark.parametrize(
    "path",
    ["/?q=asha%00", "/transactions?q=%00", "/rows?since=0&shown=TXN001%00", "/healthz?x%00=1"],
)
def test_a_nul_in_the_query_string_is_refused(analyst_client, txn, path):
    response = analyst_client.get(path)
    assert response.status_code == 400
    assert b"Null characters" in response.content


def test_a_nul_in_a_form_is_refused_and_changes_nothing(analyst_client, txn):
    response = analyst_client.post(
        "/update_phone/TXN001",
        "client_phone=%2B919800000000%00",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    txn.refresh_from_db()
    assert txn.phone == "+14155550101"


def test_a_nul_in_json_is_refused_and_changes_nothing(analyst_client, txn):
    body = json.dumps({"client_phone": "+919800000000\x00"})
    response = analyst_client.post("/update_phone/TXN001", body, content_type="application/json")
    assert response.status_code == 400
    assert Transaction.objects.get(pk=txn.pk).phone == "+14155550101"


def test_a_signed_webhook_with_a_nul_is_refused(twilio_post, txn):
    response = twilio_post(
        "/voice/TXN001/step0/response", {"CallSid": "CA1", "SpeechResult": "no\x00"}
    )
    assert response.status_code == 400


def test_ordinary_requests_pass(analyst_client, txn):
    assert analyst_client.get("/?q=asha").status_code == 200
    body = json.dumps({"client_phone": "+919800000000"})
    response = analyst_client.post("/update_phone/TXN001", body, content_type="application/json")
    assert response.status_code == 200


def test_a_form_over_the_upload_limit_is_refused_with_413_and_changes_nothing(analyst_client, txn):
    body = "client_phone=%2B919800000000&pad=" + "x" * 2_700_000
    response = analyst_client.post(
        "/update_phone/TXN001", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert response.content == b"The body is over the 2,621,440-byte limit."
    assert Transaction.objects.get(pk=txn.pk).phone == "+14155550101"
