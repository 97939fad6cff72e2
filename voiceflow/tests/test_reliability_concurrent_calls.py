"""Calls placed at the same moment: one call per row, and a failing Twilio leaves nothing stuck.

Threads with their own database connections call request_call (and the
POST /call view) against a local stand-in for Twilio's REST API that counts
what it was asked.
"""

import pytest
from django.test import Client
from django.urls import reverse

from transactions.models import CallAttempt, CallOutcome, Status, Transaction
from transactions.roles import ANALYSTS
from transactions.tests.concurrency import errors_in, run_together
from voiceflow.calls import CallConflict, CallFailed, request_call

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def analysts(make_user):
    return lambda n: [make_user(f"analyst{k}", ANALYSTS) for k in range(n)]


def _call(pk, user):
    return lambda: request_call(Transaction.objects.get(pk=pk), user=user)


def test_eight_analysts_starting_the_same_call_at_once_place_one_call(
    make_transaction, twilio_api, analysts
):
    users = analysts(8)
    rows = [make_transaction() for _ in range(3)]
    for row in rows:
        results = run_together(*(_call(row.pk, u) for u in users))
        placed = [r for r in results if isinstance(r, CallAttempt)]
        refused = [r for r in results if isinstance(r, CallConflict)]
        assert len(placed) == 1
        assert len(refused) == 7
        assert all("already under way" in r.message for r in refused)
    # Twilio was asked once per row, and each row has exactly one attempt.
    assert len(twilio_api.requests) == len(rows)
    for row in rows:
        assert CallAttempt.objects.filter(transaction=row).count() == 1
        row.refresh_from_db()
        assert row.status == Status.CONNECTING


def test_two_analysts_clicking_call_at_once_get_one_call_and_one_409(txn, twilio_api, analysts):
    clients = []
    for user in analysts(2):
        client = Client()
        client.force_login(user)
        clients.append(client)
    url = reverse("call", args=[txn.public_id])

    results = run_together(*(lambda c=c: c.post(url) for c in clients))

    assert errors_in(results) == []
    assert sorted(r.status_code for r in results) == [200, 409]
    assert len(twilio_api.requests) == 1
    assert CallAttempt.objects.count() == 1


def test_twilio_answering_500_and_429_to_many_calls_leaves_no_row_stuck(
    make_transaction, twilio_api
):
    rows = [make_transaction() for _ in range(12)]
    for _ in range(4):
        twilio_api.fail(20500, "An internal server error has occurred", status=500)
        twilio_api.fail(20429, "Too many requests", status=429)
    # The other four calls are placed.

    results = run_together(*(_call(r.pk, None) for r in rows))

    failed = [r for r in results if isinstance(r, CallFailed)]
    assert len(failed) == 8
    assert len([r for r in results if isinstance(r, CallAttempt)]) == 4
    assert len(twilio_api.requests) == 12
    assert sorted(f.code for f in failed) == ["20429"] * 4 + ["20500"] * 4
    for row in Transaction.objects.filter(pk__in=[r.pk for r in rows]):
        attempt = row.calls.get()
        if attempt.call_sid:
            assert row.status == Status.CONNECTING
        else:
            # The row shows why, and can be called again.
            assert row.status == Status.DISCONNECTED
            assert attempt.outcome == CallOutcome.FAILED
            assert attempt.error_code in ("20429", "20500")
            assert attempt.failure_reason
    busy = CallAttempt.objects.filter(error_code="20429")
    assert all("Twilio is busy" in a.failure_reason for a in busy)


def test_twilio_refusing_connections_to_many_calls_leaves_no_row_stuck(
    make_transaction, settings, refused_url
):
    settings.TWILIO_API_BASE_URL = refused_url
    rows = [make_transaction() for _ in range(8)]

    results = run_together(*(_call(r.pk, None) for r in rows))

    assert all(isinstance(r, CallFailed) for r in results)
    assert not Transaction.objects.filter(status=Status.CONNECTING).exists()
    assert Transaction.objects.filter(status=Status.DISCONNECTED).count() == 8
    for attempt in CallAttempt.objects.all():
        assert attempt.error_message.startswith("Could not reach Twilio")
        assert attempt.ended_at is not None
