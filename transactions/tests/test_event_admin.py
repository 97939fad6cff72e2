"""Admin for outcome events: endpoints (secret shown once), events, attempts, redelivery."""

import pytest
from django.urls import reverse

from transactions.models import Delivery, DeliveryState, EventType, OutcomeEvent, WebhookEndpoint

from .events_kit import due_event_tasks, run_event_tasks

pytestmark = pytest.mark.django_db

ENDPOINTS = reverse("admin:transactions_webhookendpoint_changelist")
ADD_ENDPOINT = reverse("admin:transactions_webhookendpoint_add")
EVENTS = reverse("admin:transactions_outcomeevent_changelist")
DELIVERIES = reverse("admin:transactions_delivery_changelist")


def _add(client, url="https://bank.example/ivr", types=(EventType.RESOLVED,)):
    return client.post(ADD_ENDPOINT, {"url": url, "event_types": list(types), "active": "on"})


def test_a_supervisor_adds_an_endpoint_and_sees_its_secret_once(supervisor_client, sam):
    response = _add(supervisor_client, types=[EventType.RESOLVED, EventType.OPTED_OUT])

    endpoint = WebhookEndpoint.objects.get()
    assert response.status_code == 200
    assert endpoint.secret in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert endpoint.event_types == [EventType.RESOLVED, EventType.OPTED_OUT]
    assert endpoint.created_by == sam
    # Never again: not on its page, not in the list.
    change = reverse("admin:transactions_webhookendpoint_change", args=[endpoint.pk])
    for page in (change, ENDPOINTS):
        assert endpoint.secret not in supervisor_client.get(page).content.decode()


def test_plain_http_to_another_machine_is_refused_with_the_reason(supervisor_client):
    response = _add(supervisor_client, url="http://bank.example/ivr")

    assert response.status_code == 200  # the form again
    assert "Use an https URL" in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def _rotate(client, *endpoints):
    selected = [str(e.pk) for e in endpoints]
    return client.post(ENDPOINTS, {"action": "rotate_secret", "_selected_action": selected})


def test_a_supervisor_rotates_a_secret_and_sees_the_new_one_once(supervisor_client):
    endpoint = WebhookEndpoint.objects.create(url="https://bank.example/")
    old = endpoint.secret

    response = _rotate(supervisor_client, endpoint)

    endpoint.refresh_from_db()
    page = response.content.decode()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in page and old not in page
    assert "two signatures" in page
    assert "no-store" in response["Cache-Control"]
    change = reverse("admin:transactions_webhookendpoint_change", args=[endpoint.pk])
    assert endpoint.secret not in supervisor_client.get(change).content.decode()


def test_rotating_two_endpoints_at_once_is_refused(supervisor_client):
    endpoints = [WebhookEndpoint.objects.create(url=f"https://{n}.example/") for n in "ab"]
    secrets = [e.secret for e in endpoints]

    response = _rotate(supervisor_client, *endpoints)

    assert response.status_code == 302
    assert [e.secret for e in WebhookEndpoint.objects.order_by("id")] == secrets
    messages = supervisor_client.get(response.url).content.decode()
    assert "Select one endpoint to rotate." in messages


def test_an_analyst_cannot_rotate_a_secret(analyst_client):
    endpoint = WebhookEndpoint.objects.create(url="https://bank.example/")

    response = _rotate(analyst_client, endpoint)

    assert response.status_code == 302  # not staff: sent to the admin's sign-in
    assert response.url.startswith(reverse("admin:login"))
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_event_types_are_checkboxes(supervisor_client):
    page = supervisor_client.get(ADD_ENDPOINT).content.decode()

    for event_type in EventType.values:
        assert f'type="checkbox" name="event_types" value="{event_type}"' in page


def test_an_endpoint_cannot_be_deleted_only_switched_off(supervisor_client):
    endpoint = WebhookEndpoint.objects.create(url="https://bank.example/")
    delete = reverse("admin:transactions_webhookendpoint_delete", args=[endpoint.pk])

    assert supervisor_client.post(delete, {"post": "yes"}).status_code == 403
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_analysts_and_people_without_a_role_get_no_endpoint_pages(client, alice, eve):
    for person in (alice, eve):
        client.force_login(person)
        response = client.get(ENDPOINTS)
        assert response.status_code in (302, 403)  # not staff: sent to the admin's sign-in
        assert _add(client).status_code in (302, 403)
    assert not WebhookEndpoint.objects.exists()


def test_an_event_shows_its_deliveries_and_every_attempt(
    supervisor_client, txn, endpoint, receiver
):
    receiver.answers = [503]
    txn.record_answer(True)
    run_event_tasks()
    event = OutcomeEvent.objects.get()

    page = supervisor_client.get(
        reverse("admin:transactions_outcomeevent_change", args=[event.pk])
    ).content.decode()

    assert event.msg_id in page
    assert endpoint.url in page
    assert "503" in page and "thanks" in page  # the attempt: status and answer excerpt
    assert "Pending" in page


def test_events_and_deliveries_are_read_only(supervisor_client, txn, endpoint):
    txn.record_answer(True)
    event = OutcomeEvent.objects.get()
    change = reverse("admin:transactions_outcomeevent_change", args=[event.pk])

    response = supervisor_client.post(change, {"type": EventType.FRAUD_CONFIRMED})

    assert response.status_code == 403
    assert OutcomeEvent.objects.get().type == EventType.RESOLVED
    assert supervisor_client.get(reverse("admin:transactions_outcomeevent_add")).status_code == 403


def test_redeliver_sends_a_delivered_event_again(supervisor_client, txn, endpoint, receiver):
    txn.record_answer(True)
    run_event_tasks()
    event = OutcomeEvent.objects.get()

    supervisor_client.post(
        EVENTS, {"action": "redeliver", "_selected_action": [event.pk]}, follow=True
    )
    run_event_tasks()

    assert receiver.msg_ids() == [event.msg_id, event.msg_id]
    assert Delivery.objects.get().attempt_log.count() == 2


def test_redeliver_all_failed_starts_them_again(
    supervisor_client, make_transaction, endpoint, receiver
):
    for _ in range(2):
        make_transaction().record_answer(True)
    Delivery.objects.update(state=DeliveryState.FAILED, next_attempt_at=None)
    due_event_tasks().delete()

    supervisor_client.post(
        ENDPOINTS, {"action": "redeliver_failed", "_selected_action": [endpoint.pk]}
    )

    assert run_event_tasks() == ["delivered", "delivered"]
    assert len(receiver.msg_ids()) == 2


def test_redelivering_needs_its_permission(client, make_user, txn, endpoint):
    reader = make_user("reader", is_staff=True)
    from django.contrib.auth.models import Permission

    reader.user_permissions.add(Permission.objects.get(codename="view_outcomeevent"))
    client.force_login(reader)
    txn.record_answer(True)
    run_event_tasks()
    event = OutcomeEvent.objects.get()

    client.post(EVENTS, {"action": "redeliver", "_selected_action": [event.pk]})

    assert not due_event_tasks().exists()
    assert Delivery.objects.get().attempts == 1


def test_the_deliveries_list_filters_by_state(supervisor_client, txn, endpoint):
    txn.record_answer(True)

    page = supervisor_client.get(DELIVERIES + "?state=pending").content.decode()

    assert OutcomeEvent.objects.get().msg_id in page
