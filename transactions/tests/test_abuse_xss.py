"""Markup and formulas typed into any text field come out inert everywhere it is shown.

The payload goes in through the model (as an import or the admin would put
it) and through a call (what a customer said, Twilio's error message).
"""

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.conf import settings
from django.utils import timezone

from transactions.models import AuditEntry, CallAttempt, CallEvent, Status, Transaction

XSS = "<script>alert('x')</script><img src=x onerror=alert(1)>\"'&"
ESCAPED = "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def poisoned(make_transaction, sam):
    txn = make_transaction(
        public_id="TXN001",
        client_name="Asha " + XSS,
        merchant_name=FORMULA + XSS,
        bank_name="Bank " + XSS,
    )
    call = CallAttempt.objects.create(
        transaction=txn,
        call_sid="CA" + "b" * 32,
        error_code="21211",
        error_message="Twilio says " + XSS,
        outcome="failed",
        ended_at=timezone.now(),
    )
    CallEvent.objects.create(call=call, kind=CallEvent.Kind.ANSWER, step="0", speech_result=XSS)
    AuditEntry.objects.create(
        transaction=txn, user=sam, field="phone", old_value=XSS, new_value="+919800000000"
    )
    return txn


def _assert_inert_html(response):
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert ESCAPED in page


@pytest.mark.parametrize(
    "path",
    ["/", "/?q=Asha", "/t/TXN001"],
)
def test_the_dashboard_escapes_every_field(supervisor_client, poisoned, path):
    _assert_inert_html(supervisor_client.get(path))


def test_the_dashboard_escapes_what_was_searched_for(supervisor_client, poisoned):
    response = supervisor_client.get("/", {"q": XSS[:150]})
    assert response.status_code == 200
    assert "<script>alert" not in response.content.decode()


def test_the_poll_escapes_changed_rows(supervisor_client, sam, poisoned):
    from datetime import UTC, datetime

    from transactions.views.dashboard import poll_token

    poisoned.touch()
    since = poll_token(sam.pk, datetime(2000, 1, 1, tzinfo=UTC))
    response = supervisor_client.get(
        "/rows", {"since": since, "shown": "TXN001"}, headers={"HX-Request": "true"}
    )
    _assert_inert_html(response)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/transactions/transaction/",
        "/admin/transactions/transaction/{txn}/change/",
        "/admin/transactions/callattempt/",
        "/admin/transactions/callattempt/{call}/change/",
        "/admin/transactions/auditentry/",
    ],
)
def test_the_admin_escapes_every_field(supervisor_client, poisoned, path):
    call = poisoned.calls.get()
    response = supervisor_client.get(path.format(txn=poisoned.pk, call=call.pk))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<script>alert" not in page
    assert "<img src=x" not in page


def test_the_csv_neutralises_formulas_and_is_a_download(supervisor_client, poisoned):
    response = supervisor_client.get("/export.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    (row,) = rows
    assert row["merchant_name"].startswith("'=")
    assert row["client_name"] == "Asha " + XSS


def test_the_twiml_escapes_what_it_says(poisoned, twilio_post):
    Transaction.objects.filter(pk=poisoned.pk).update(status=Status.CONNECTING)
    CallAttempt.objects.create(transaction=poisoned, call_sid="CA" + "c" * 32)
    response = twilio_post(
        "/voice/TXN001/step0",
        {"CallSid": "CA" + "c" * 32, "AccountSid": settings.TWILIO_SID},
    )
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()
    # Well-formed, and only TwiML's own elements: nothing broke out of a <Say>.
    root = ET.fromstring(response.content)  # noqa: S314 (our own response)
    assert {el.tag for el in root.iter()} <= {"Response", "Say", "Gather", "Hangup", "Pause"}
    spoken = " ".join(el.text or "" for el in root.iter("Say"))
    assert "Asha " + XSS in spoken  # the name is said as plain words
