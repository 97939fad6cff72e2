import pytest
from django.test import Client

from transactions.models import AuditEntry, QueueState, Status

# The cookie's secret; the header must repeat it (Django accepts it unmasked).
CSRF_SECRET = "k" * 32


def url(public_id="TXN001"):
    return f"/set_action/{public_id}"


def test_it_sends_anonymous_users_to_the_login_page(client, txn):
    response = client.post(url(), {"action": "Resolved"})

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_an_analyst_may_not_set_a_status(analyst_client, txn):
    response = analyst_client.post(url(), {"action": "Resolved"}, content_type="application/json")

    assert response.status_code == 403
    txn.refresh_from_db()
    assert txn.status == Status.PENDING
    assert not AuditEntry.objects.exists()


def test_a_user_without_a_role_may_not_either(client, eve, txn):
    client.force_login(eve)

    assert client.post(url(), {"action": "Resolved"}).status_code == 403


def test_it_rejects_get(supervisor_client, txn):
    assert supervisor_client.get(url()).status_code == 405


def test_a_supervisor_sets_a_status_and_it_is_audited(supervisor_client, sam, make_transaction):
    txn = make_transaction(public_id="TXN001", queue_state=QueueState.SCHEDULED)

    response = supervisor_client.post(
        url(), {"action": "Mark As Fraud"}, content_type="application/json"
    )

    assert response.status_code == 200
    assert response.json() == {"id": "TXN001", "action": "Mark As Fraud", "changed": True}
    txn.refresh_from_db()
    assert txn.status == Status.FRAUD
    assert txn.queue_state == QueueState.NONE  # a manual decision cancels automatic calls
    entry = AuditEntry.objects.get()
    assert (entry.user, entry.field, entry.old_value, entry.new_value, entry.source) == (
        sam,
        "status",
        "Pending",
        "Mark As Fraud",
        "api",
    )


def test_the_same_status_again_changes_nothing(supervisor_client, txn):
    response = supervisor_client.post(url(), {"action": "Pending"})

    assert response.json()["changed"] is False
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("bad", ["Escalated", "resolved", "", "Connecting"])
def test_it_accepts_only_the_known_manual_labels(supervisor_client, txn, bad):
    response = supervisor_client.post(url(), {"action": bad}, content_type="application/json")

    assert response.status_code == 400
    assert "action must be one of: Pending, Resolved, Mark As Fraud" in response.json()["error"]
    txn.refresh_from_db()
    assert txn.status == Status.PENDING


def test_a_json_array_body_is_refused(supervisor_client, txn):
    response = supervisor_client.post(url(), ["Resolved"], content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize("body", ['{"action":' * 100_000 + "1" + "}" * 100_000, "[" * 100_000])
def test_a_deeply_nested_json_body_is_refused_and_changes_nothing(supervisor_client, txn, body):
    response = supervisor_client.post(url(), body, content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"].startswith("Bad request body")
    txn.refresh_from_db()
    assert txn.status == Status.PENDING
    assert not AuditEntry.objects.exists()


def test_an_unknown_id_is_404(supervisor_client, db):
    response = supervisor_client.post(url("NOPE"), {"action": "Resolved"})

    assert response.status_code == 404


def test_it_needs_the_csrf_token(sam, txn):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sam)
    client.cookies["csrftoken"] = CSRF_SECRET

    refused = client.post(url(), {"action": "Resolved"})
    accepted = client.post(
        url(),
        {"action": "Resolved"},
        content_type="application/json",
        headers={"X-CSRFToken": CSRF_SECRET},
    )

    assert refused.status_code == 403
    assert accepted.status_code == 200
    txn.refresh_from_db()
    assert txn.status == Status.RESOLVED


def test_an_htmx_request_gets_the_row_back(supervisor_client, txn):
    response = supervisor_client.post(url(), {"action": "Resolved"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "TXN001" in response.content.decode()
    txn.refresh_from_db()
    assert txn.status == Status.RESOLVED


def test_an_htmx_request_with_an_unknown_label_gets_the_row_with_the_error(supervisor_client, txn):
    response = supervisor_client.post(
        url(), {"action": "Escalated"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert "TXN001" in page
    assert "action must be one of" in page
