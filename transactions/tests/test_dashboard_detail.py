"""GET /t/<id> : one transaction's calls, conversation and manual changes."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from transactions.models import (
    AuditEntry,
    CallAttempt,
    CallEvent,
    CallTrigger,
    QueueState,
    Status,
    Transaction,
)


def url(public_id="TXN001"):
    return reverse("transaction_detail", args=[public_id])


def test_it_redirects_anonymous_users_to_login(client, txn):
    response = client.get(url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_forbids_users_without_a_role(client, eve, txn):
    client.force_login(eve)
    assert client.get(url()).status_code == 403


def test_it_rejects_post(analyst_client, txn):
    assert analyst_client.post(url()).status_code == 405


def test_an_unknown_transaction_is_404(analyst_client, db):
    assert analyst_client.get(url("NOPE")).status_code == 404


def test_it_shows_every_call_with_its_conversation(analyst_client, alice, txn):
    first = CallAttempt.objects.create(
        transaction=txn,
        call_sid="CA0001",
        placed_by=alice,
        twilio_status="failed",
        error_code="21211",
        error_message="Twilio rejected the number",
        ended_at=timezone.now(),
    )
    second = CallAttempt.objects.create(
        transaction=txn,
        call_sid="CA0002",
        twilio_status="completed",
        answered_by="human",
        duration_seconds=47,
        outcome="denied",
    )
    CallEvent.objects.create(
        call=second, kind="prompt", step="step1", prompt="Did you make a payment?"
    )
    CallEvent.objects.create(
        call=second,
        kind="answer",
        step="step1",
        speech_result="no it wasn't me",
        confidence=0.87,
        intent="no",
    )
    CallEvent.objects.create(call=second, kind="answer", step="step2", digits="2", intent="no")
    CallEvent.objects.create(call=second, kind="status", call_status="completed", sequence_number=3)

    page = analyst_client.get(url()).content.decode()
    assert "CA0001" in page and "CA0002" in page
    assert "Twilio rejected the number (21211)" in page
    assert "human" in page and "47 s" in page
    assert "Did you make a payment?" in page
    assert "“no it wasn&#x27;t me”" in page
    assert "confidence 0.87" in page
    assert "pressed <b>2</b>" in page
    assert "understood as <b>no</b>" in page
    assert "Customer denied (fraud)" in page
    assert first.placed_by.username in page


def test_it_escapes_what_the_customer_said(analyst_client, txn):
    call = CallAttempt.objects.create(transaction=txn)
    CallEvent.objects.create(call=call, kind="answer", speech_result="<img src=x onerror=alert(1)>")
    page = analyst_client.get(url()).content.decode()
    assert "<img src=x" not in page


def test_it_shows_manual_changes_with_who_and_when(analyst_client, sam, txn):
    txn.set_status_by(sam, Status.FRAUD)
    entry = AuditEntry.objects.get()
    page = analyst_client.get(url()).content.decode()
    assert "sam" in page
    assert "<td>Pending</td><td>Fraud</td>" in page
    assert f'datetime="{timezone.localtime(entry.created_at).isoformat()}"' in page


def test_it_names_the_api_key_that_amended_an_alert(analyst_client, api_key, txn):
    txn.amend_alert({"merchant_name": "Reliance Digital"}, api_key=api_key[0])
    page = analyst_client.get(url()).content.decode()
    assert "API key “core-banking”" in page
    assert "<td>Croma Electronics</td><td>Reliance Digital</td>" in page


def test_it_shows_only_the_last_four_card_digits(analyst_client, txn):
    page = analyst_client.get(url()).content.decode()
    assert "***4821" in page


def test_analysts_do_not_see_the_status_form(analyst_client, txn):
    page = analyst_client.get(url()).content.decode()
    assert reverse("transaction_set_status", args=["TXN001"]) not in page


def test_supervisors_see_the_status_form(supervisor_client, txn):
    page = supervisor_client.get(url()).content.decode()
    assert f'action="{reverse("transaction_set_status", args=["TXN001"])}"' in page
    assert '<option value="Connecting"' not in page


def test_a_row_that_needs_review_explains_the_contradiction(analyst_client, txn):
    Transaction.objects.filter(pk=txn.pk).update(status=Status.FRAUD, needs_review=True)
    ended = timezone.now()
    first = CallAttempt.objects.create(transaction=txn, outcome="denied", ended_at=ended)
    CallAttempt.objects.create(transaction=txn, outcome="confirmed", ended_at=ended)
    CallAttempt.objects.filter(pk=first.pk).update(created_at=ended - timedelta(hours=2))

    page = analyst_client.get(url()).content.decode()
    notice = page[page.index('id="review-notice"') : page.index("</section>")]
    assert "contradicts this row's verdict, <b>Fraud</b>" in notice
    # Every call's outcome, oldest first.
    assert notice.index("Customer denied (fraud)") < notice.index("Customer confirmed")
    assert "A supervisor decides: setting the status" in notice
    assert "clears “Needs review”" in notice


def test_supervisors_are_told_setting_the_status_clears_the_review(supervisor_client, txn):
    Transaction.objects.filter(pk=txn.pk).update(status=Status.RESOLVED, needs_review=True)
    page = supervisor_client.get(url()).content.decode()
    assert "Set the status below, to this verdict or another" in page
    assert "cancels automatic calls and clears “Needs review”." in page


def test_a_row_without_contradiction_has_no_review_notice(analyst_client, txn):
    assert 'id="review-notice"' not in analyst_client.get(url()).content.decode()


def test_it_shows_a_call_on_the_line_and_the_planned_retry(analyst_client, txn):
    CallAttempt.objects.create(transaction=txn, call_sid="CA" + "3" * 32)
    Transaction.objects.filter(pk=txn.pk).update(
        queue_state=QueueState.SCHEDULED,
        queue_trigger=CallTrigger.RETRY,
        queue_call_number=2,
        queue_call_total=3,
        next_call_at=timezone.now() + timedelta(days=2),
    )
    page = analyst_client.get(url()).content.decode()
    assert (
        '<span class="badge-text">Pending</span> <span class="badge-line">☎ On the line</span>'
        in page
    )
    assert ">Retry 2 of 3 at " in page
