"""The dashboard's automatic calling: selection, bulk buttons, queue labels, hours warning."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.template import Context, Template
from django.utils import timezone

from transactions.models import CallAttempt, CallOutcome, CallTrigger, QueueState, Transaction
from voiceflow import autocall

from .autocall_kit import INDIA, LONDON

pytestmark = pytest.mark.django_db


def _label(txn) -> str:
    return Template("{% load autocall %}{% autocall_label t %}").render(Context({"t": txn}))


def test_a_planned_retry_shows_its_number_and_time(make_transaction, always_open):
    row = make_transaction(phone=INDIA, status="Not Answered")
    call = CallAttempt.objects.create(transaction=row, trigger=CallTrigger.BULK, call_sid="CA1")
    ended = timezone.now() - timedelta(minutes=1)
    CallAttempt.objects.filter(pk=call.pk).update(outcome=CallOutcome.NO_ANSWER, ended_at=ended)
    autocall.plan_retries(timezone.now())
    row.refresh_from_db()
    due = timezone.localtime(ended + timedelta(minutes=15))
    expected = f"Retry 2 of 3 at {due:%H:%M %Z}"
    if due.date() != timezone.localdate():
        expected = f"Retry 2 of 3 at {due.day} {due:%b %H:%M %Z}"
    assert _label(row) == expected


def test_queued_and_calling_rows_say_so(make_transaction):
    row = make_transaction(queue_state=QueueState.QUEUED, next_call_at=timezone.now())
    assert _label(row) == "Queued"
    Transaction.objects.filter(pk=row.pk).update(queue_state=QueueState.CALLING)
    row.refresh_from_db()
    assert _label(row) == "Calling"
    Transaction.objects.filter(pk=row.pk).update(queue_state="", next_call_at=None)
    row.refresh_from_db()
    assert _label(row) == ""


def test_the_dashboard_offers_bulk_calling_to_analysts(analyst_client, make_transaction):
    row = make_transaction(phone=INDIA)
    page = analyst_client.get("/").content.decode()
    assert 'form id="bulk"' in page
    assert "Call selected" in page
    assert "Call all pending" in page
    assert "rows-changed from:body" in page  # the poll answers a bulk request at once
    assert f'name="ids" value="{row.public_id}" form="bulk"' in page


def test_the_dashboard_hides_bulk_calling_without_the_permission(client, eve, make_transaction):
    eve.user_permissions.add(Permission.objects.get(codename="view_transaction"))
    client.force_login(eve)
    make_transaction(phone=INDIA)
    page = client.get("/").content.decode()
    assert 'form id="bulk"' not in page
    assert 'name="ids"' not in page


def test_the_call_badge_warns_outside_the_customers_hours(
    analyst_client, make_transaction, settings
):
    row = make_transaction(phone=LONDON, public_id="TXNUK")
    settings.CALLING_HOURS = "00:00-24:00"
    assert "It is outside" not in analyst_client.get("/").content.decode()
    # An empty window: every moment is outside it.
    local = timezone.now().astimezone(autocall.customer_time_zone(row.phone))
    opens = (local + timedelta(hours=2)).strftime("%H:00")
    closes = (local + timedelta(hours=3)).strftime("%H:00")
    if opens >= closes:
        opens, closes = "00:00", "00:01"
    settings.CALLING_HOURS = f"{opens}-{closes}"
    assert autocall.outside_calling_hours(row)
    page = analyst_client.get("/").content.decode()
    assert "hx-confirm=\"It is outside Asha Rao's calling hours" in page
