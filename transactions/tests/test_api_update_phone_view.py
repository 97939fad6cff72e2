import pytest
from django.test import Client

from transactions.models import AuditEntry

# The cookie's secret; the header must repeat it (Django accepts it unmasked).
CSRF_SECRET = "k" * 32


def url(public_id="TXN001"):
    return f"/update_phone/{public_id}"


def test_it_sends_anonymous_users_to_the_login_page(client, txn):
    response = client.post(url(), {"client_phone": "+14155550102"})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")
    txn.refresh_from_db()
    assert txn.phone == "+14155550101"


def test_it_forbids_a_user_without_a_role(client, eve, txn):
    client.force_login(eve)

    response = client.post(url(), {"client_phone": "+14155550102"})

    assert response.status_code == 403
    txn.refresh_from_db()
    assert txn.phone == "+14155550101"


def test_it_rejects_get(analyst_client, txn):
    assert analyst_client.get(url()).status_code == 405


def test_it_normalises_saves_and_audits_a_json_phone(analyst_client, alice, txn):
    response = analyst_client.post(
        url(), {"client_phone": "+1 (415) 555-0102"}, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json() == {"client_phone": "+14155550102"}
    txn.refresh_from_db()
    assert txn.phone == "+14155550102"
    entry = AuditEntry.objects.get()
    assert (entry.transaction, entry.user, entry.field) == (txn, alice, "phone")
    assert (entry.old_value, entry.new_value, entry.source) == (
        "+14155550101",
        "+14155550102",
        "api",
    )


def test_it_accepts_a_form_post(analyst_client, txn):
    response = analyst_client.post(url(), {"client_phone": "+442079460123"})

    assert response.json() == {"client_phone": "+442079460123"}


def test_a_local_number_is_read_in_the_default_region(analyst_client, txn, settings):
    settings.DEFAULT_PHONE_REGION = "IN"

    response = analyst_client.post(url(), {"client_phone": "098765 43210"})

    assert response.json() == {"client_phone": "+919876543210"}


@pytest.mark.parametrize("bad", ["", "12", "not a phone", "+1 415 555 01", "9" * 40])
def test_it_refuses_a_bad_number_and_keeps_the_old_one(analyst_client, txn, bad):
    response = analyst_client.post(url(), {"client_phone": bad}, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]
    txn.refresh_from_db()
    assert txn.phone == "+14155550101"
    assert not AuditEntry.objects.exists()


def test_it_refuses_a_body_that_is_not_json(analyst_client, txn):
    response = analyst_client.post(url(), "{oops", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"].startswith("Bad request body")


@pytest.mark.parametrize(
    "body", ['{"client_phone":' * 100_000 + "1" + "}" * 100_000, "[" * 100_000]
)
def test_a_deeply_nested_json_body_is_refused_and_changes_nothing(analyst_client, txn, body):
    response = analyst_client.post(url(), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"].startswith("Bad request body")
    txn.refresh_from_db()
    assert txn.phone == "+14155550101"
    assert not AuditEntry.objects.exists()


def test_the_same_number_again_is_not_a_change(analyst_client, txn):
    response = analyst_client.post(url(), {"client_phone": "+14155550101"})

    assert response.status_code == 200
    assert not AuditEntry.objects.exists()


def test_an_unknown_id_is_404(analyst_client, db):
    response = analyst_client.post(url("TXN404"), {"client_phone": "+14155550102"})

    assert response.status_code == 404
    assert response.json() == {"error": "No such transaction."}  # the id is not repeated


def test_it_needs_the_csrf_token(alice, txn):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    client.cookies["csrftoken"] = CSRF_SECRET

    refused = client.post(url(), {"client_phone": "+14155550102"})
    accepted = client.post(
        url(),
        {"client_phone": "+14155550102"},
        content_type="application/json",
        headers={"X-CSRFToken": CSRF_SECRET},
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200


def test_an_htmx_request_gets_the_row_back(analyst_client, txn):
    response = analyst_client.post(
        url(), {"client_phone": "+14155550102"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    html = response.content.decode()
    assert "TXN001" in html
    assert "+14155550102" in html


def test_an_htmx_request_with_a_bad_number_gets_the_row_with_the_error(analyst_client, txn):
    response = analyst_client.post(url(), {"client_phone": "12"}, headers={"HX-Request": "true"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "TXN001" in html
    assert "not a valid phone number" in html or "not a phone number" in html
