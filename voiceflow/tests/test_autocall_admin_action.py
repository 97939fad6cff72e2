"""The admin actions "Call selected automatically (bulk)" and "Cancel pending automatic calls"."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from transactions.models import AuditEntry, QueueState, Transaction

from .autocall_kit import INDIA

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("always_open")]

CHANGELIST = reverse("admin:transactions_transaction_changelist")


def _run(client, action, rows):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [r.pk for r in rows]},
        follow=True,
    )


def test_a_supervisor_queues_the_selected_rows(supervisor_client, make_transaction, sam):
    rows = [make_transaction(phone=INDIA) for _ in range(2)]
    assert 'value="queue_calls"' in supervisor_client.get(CHANGELIST).content.decode()
    response = _run(supervisor_client, "queue_calls", rows)
    assert response.status_code == 200
    assert "Automatic calls: 2 queued." in response.content.decode()
    assert set(Transaction.objects.values_list("queue_state", flat=True)) == {QueueState.QUEUED}
    assert AuditEntry.objects.filter(user=sam, source="admin", field="queue_state").count() == 2


def test_a_supervisor_cancels_pending_calls(supervisor_client, make_transaction):
    rows = [make_transaction(phone=INDIA) for _ in range(2)]
    _run(supervisor_client, "queue_calls", rows)
    response = _run(supervisor_client, "cancel_calls", rows[:1])
    assert "1 pending automatic call(s) cancelled." in response.content.decode()
    assert Transaction.objects.get(pk=rows[0].pk).queue_state == ""
    assert Transaction.objects.get(pk=rows[1].pk).queue_state == QueueState.QUEUED


def test_the_actions_need_the_place_call_permission(supervisor_client, make_transaction, sam):
    row = make_transaction(phone=INDIA)
    sam.groups.clear()
    sam.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_transaction", "change_transaction"])
    )
    assert 'value="queue_calls"' not in supervisor_client.get(CHANGELIST).content.decode()
    _run(supervisor_client, "queue_calls", [row])
    assert Transaction.objects.get(pk=row.pk).queue_state == ""
