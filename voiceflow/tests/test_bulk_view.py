"""POST /calls/bulk, /calls/bulk/pending, /calls/bulk/cancel: queue or cancel automatic calls."""

import pytest
from django.test import Client
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from transactions.models import AuditEntry, QueueState, Status, Transaction
from voiceflow import tasks

from .autocall_kit import INDIA

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("always_open")]

BULK = reverse("voiceflow:bulk_call")
PENDING = reverse("voiceflow:bulk_call_pending")
CANCEL = reverse("voiceflow:bulk_cancel")


@pytest.fixture
def rows(make_transaction):
    return [make_transaction(phone=INDIA) for _ in range(3)]


def test_it_queues_the_selected_rows(analyst_client, rows, alice):
    response = analyst_client.post(BULK, {"ids": [rows[0].public_id, rows[2].public_id]})
    assert response.status_code == 200
    assert response.json()["queued"] == 2
    states = dict(Transaction.objects.values_list("public_id", "queue_state"))
    assert states == {
        rows[0].public_id: QueueState.QUEUED,
        rows[1].public_id: "",
        rows[2].public_id: QueueState.QUEUED,
    }
    entry = AuditEntry.objects.get(transaction=rows[0])
    assert (entry.user, entry.field, entry.new_value) == (alice, "queue_state", "queued")


def test_it_asks_a_worker_to_dispatch_and_keeps_the_tick_running(analyst_client, rows):
    analyst_client.post(BULK, {"ids": [rows[0].public_id]})
    paths = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert {tasks.dispatch_calls.module_path, tasks.autocall_tick.module_path} <= paths


def test_it_skips_rows_that_may_not_be_called_automatically(analyst_client, rows):
    Transaction.objects.filter(pk=rows[0].pk).update(status=Status.RESOLVED)
    Transaction.objects.filter(pk=rows[1].pk).update(opted_out_at="2026-01-01T00:00Z")
    body = analyst_client.post(BULK, {"ids": [r.public_id for r in rows] + ["NOSUCHID"]}).json()
    assert (body["queued"], body["skipped"]) == (1, 3)
    assert "3 skipped" in body["message"]


def test_a_row_already_queued_is_not_queued_twice(analyst_client, rows):
    analyst_client.post(BULK, {"ids": [rows[0].public_id]})
    body = analyst_client.post(BULK, {"ids": [rows[0].public_id]}).json()
    assert (body["queued"], body["skipped"]) == (0, 1)
    assert AuditEntry.objects.filter(transaction=rows[0]).count() == 1


def test_call_all_pending_queues_every_pending_row(analyst_client, rows):
    Transaction.objects.filter(pk=rows[0].pk).update(status=Status.NOT_ANSWERED)
    body = analyst_client.post(PENDING).json()
    assert body["queued"] == 2
    assert Transaction.objects.get(pk=rows[0].pk).queue_state == ""


def test_call_all_pending_can_follow_the_search(analyst_client, make_transaction):
    make_transaction(phone=INDIA, client_name="Ravi Kumar")
    make_transaction(phone=INDIA, client_name="Meera Nair")
    assert analyst_client.post(PENDING, {"q": "Meera"}).json()["queued"] == 1


def test_it_cancels_pending_calls(analyst_client, rows):
    analyst_client.post(BULK, {"ids": [rows[0].public_id]})
    body = analyst_client.post(CANCEL, {"ids": [rows[0].public_id]}).json()
    assert body["cancelled"] == 1
    assert Transaction.objects.get(pk=rows[0].pk).queue_state == ""


def test_it_answers_htmx_with_a_message(analyst_client, rows):
    response = analyst_client.post(
        BULK, {"ids": [rows[0].public_id]}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert b"1 queued" in response.content
    assert b'role="status"' in response.content
    assert response["HX-Trigger"] == "rows-changed"


def test_it_rejects_an_empty_selection(analyst_client):
    response = analyst_client.post(BULK, {"ids": ["", " "]})
    assert response.status_code == 400
    assert response.json()["message"] == "Select at least one transaction."


def test_it_rejects_a_huge_selection(analyst_client):
    response = analyst_client.post(BULK, {"ids": [f"T{i}" for i in range(1001)]})
    assert response.status_code == 400


def test_it_rejects_get(analyst_client):
    for url in (BULK, PENDING, CANCEL):
        assert analyst_client.get(url).status_code == 405


def test_it_requires_login(client, rows):
    response = client.post(BULK, {"ids": [rows[0].public_id]})
    assert response.status_code == 302
    assert Transaction.objects.get(pk=rows[0].pk).queue_state == ""


def test_it_requires_the_place_call_permission(client, eve, rows):
    client.force_login(eve)
    for url in (BULK, PENDING, CANCEL):
        assert client.post(url, {"ids": [rows[0].public_id]}).status_code == 403
    assert not Transaction.objects.exclude(queue_state="").exists()


def test_it_requires_a_csrf_token(alice, rows):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    assert client.post(BULK, {"ids": [rows[0].public_id]}).status_code == 403
    assert Transaction.objects.get(pk=rows[0].pk).queue_state == ""


def test_call_all_pending_queues_a_limited_number_per_request(analyst_client, rows, settings):
    settings.BULK_CALL_LIMIT = 2
    body = analyst_client.post(PENDING).json()
    assert (body["queued"], body["left"], body["skipped"]) == (2, 1, 0)
    assert "1 more not queued yet" in body["message"]
    assert analyst_client.post(PENDING).json()["queued"] == 1
