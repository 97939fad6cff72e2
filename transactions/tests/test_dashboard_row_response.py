"""row_response: the row other views answer htmx with (phone edit, calls, statuses)."""

from django.urls import reverse

from transactions.models import AuditEntry, CallAttempt, Status
from transactions.views.dashboard import row_response

HTMX = {"HX-Request": "true"}


def test_it_renders_the_stored_row_with_a_message(rf, alice, txn):
    request = rf.post("/")
    request.user = alice
    response = row_response(request, txn, message="Calling Asha Rao.")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<tr id="row-TXN001"')
    assert '<p class="row-msg" role="status">Calling Asha Rao.</p>' in page


def test_it_puts_a_field_error_beside_the_field_and_keeps_the_status(rf, alice, txn):
    request = rf.post("/")
    request.user = alice
    response = row_response(request, txn, message="Not a number.", error_field="phone", status=400)
    page = response.content.decode()
    assert response.status_code == 400
    assert 'aria-invalid="true"' in page
    assert 'id="phone-error-TXN001" role="alert">Not a number.</p>' in page


def test_an_error_message_is_marked_as_an_error(rf, alice, txn):
    request = rf.post("/")
    request.user = alice
    page = row_response(request, txn, message="A call is under way.", status=409).content.decode()
    assert '<p class="row-msg error" role="alert">A call is under way.</p>' in page


def test_an_invalid_phone_through_htmx_keeps_the_old_number(analyst_client, txn):
    response = analyst_client.post(
        reverse("api-update-phone", args=["TXN001"]), {"client_phone": "12ab"}, headers=HTMX
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'value="+14155550101"' in page
    assert "is not a phone number" in page
    txn.refresh_from_db()
    assert txn.phone == "+14155550101"


def test_a_valid_phone_through_htmx_shows_the_normalised_number(analyst_client, txn):
    response = analyst_client.post(
        reverse("api-update-phone", args=["TXN001"]),
        {"client_phone": "098765 43210"},
        headers=HTMX,
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="+919876543210"' in page
    assert AuditEntry.objects.get().new_value == "+919876543210"


def test_a_conflicting_call_shows_the_reason_on_the_row(analyst_client, make_transaction):
    busy = make_transaction(public_id="BUSY", status=Status.FRAUD)
    CallAttempt.objects.create(transaction=busy, call_sid="CA" + "7" * 32)  # on the line
    response = analyst_client.post(reverse("call", args=["BUSY"]), headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 409
    assert '<p class="row-msg error" role="alert">A call to BUSY is' in page
    assert 'id="row-BUSY"' in page
    assert "On the line" in page
    assert "hx-post" not in page.split('class="c-status"')[1]  # no call button in the answer
