"""POST /t/<id>/status : a supervisor sets a status by hand (audited)."""

from django.test import Client
from django.urls import reverse

from transactions.models import AuditEntry, Status, Transaction


def url(public_id="TXN001"):
    return reverse("transaction_set_status", args=[public_id])


def test_it_redirects_anonymous_users_to_login(client, txn):
    response = client.post(url(), {"status": Status.FRAUD})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    txn.refresh_from_db()
    assert txn.status == Status.PENDING


def test_analysts_may_not_set_a_status(analyst_client, txn):
    assert analyst_client.post(url(), {"status": Status.FRAUD}).status_code == 403
    txn.refresh_from_db()
    assert txn.status == Status.PENDING


def test_it_rejects_get(supervisor_client, txn):
    assert supervisor_client.get(url()).status_code == 405


def test_an_unknown_transaction_is_404(supervisor_client, db):
    assert supervisor_client.post(url("NOPE"), {"status": Status.FRAUD}).status_code == 404


def test_it_sets_the_status_audits_it_and_goes_back_to_the_detail(supervisor_client, sam, txn):
    response = supervisor_client.post(url(), {"status": Status.FRAUD}, follow=True)
    txn.refresh_from_db()
    assert txn.status == Status.FRAUD
    entry = AuditEntry.objects.get()
    assert (entry.user, entry.old_value, entry.new_value) == (sam, "Pending", "Mark As Fraud")
    assert response.redirect_chain[-1][0] == reverse("transaction_detail", args=["TXN001"])
    assert "Status set to Fraud." in response.content.decode()


def test_it_refuses_connecting_and_unknown_statuses(supervisor_client, txn):
    for bad in (Status.CONNECTING, "Bogus", ""):
        response = supervisor_client.post(url(), {"status": bad}, follow=True)
        assert "Choose one of:" in response.content.decode()
    txn.refresh_from_db()
    assert txn.status == Status.PENDING
    assert not AuditEntry.objects.exists()


def test_an_htmx_request_gets_the_row(supervisor_client, txn):
    response = supervisor_client.post(
        url(), {"status": Status.RESOLVED}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<tr id="row-TXN001"')
    assert "Status set to Resolved." in page


def test_an_htmx_request_with_a_bad_status_gets_the_row_with_a_400(supervisor_client, txn):
    response = supervisor_client.post(url(), {"status": "Bogus"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    assert "Choose one of:" in response.content.decode()


def test_it_needs_the_csrf_token(sam, txn):
    client = Client(enforce_csrf_checks=True)
    client.force_login(sam)
    assert client.post(url(), {"status": Status.FRAUD}).status_code == 403
    txn.refresh_from_db()
    assert txn.status == Status.PENDING


def test_setting_the_same_status_clears_the_review_and_says_so(supervisor_client, sam, txn):
    Transaction.objects.filter(pk=txn.pk).update(status=Status.FRAUD, needs_review=True)
    response = supervisor_client.post(url(), {"status": Status.FRAUD}, follow=True)
    txn.refresh_from_db()
    assert (txn.status, txn.needs_review) == (Status.FRAUD, False)
    page = response.content.decode()
    assert "Status set to Fraud; the row no longer needs review." in page
    assert 'id="review-notice"' not in page
    assert AuditEntry.objects.get().field == "needs_review"


def test_an_htmx_status_clears_the_word_on_the_row(supervisor_client, txn):
    Transaction.objects.filter(pk=txn.pk).update(status=Status.FRAUD, needs_review=True)
    response = supervisor_client.post(
        url(), {"status": Status.RESOLVED}, headers={"HX-Request": "true"}
    )
    page = response.content.decode()
    assert "Status set to Resolved; the row no longer needs review." in page
    assert "Needs review" not in page
