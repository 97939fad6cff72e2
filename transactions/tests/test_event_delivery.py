"""Delivering outcome events over real HTTP to a receiver that verifies them as a bank would."""

from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from transactions.models import Delivery, DeliveryState, EventType, Status, WebhookEndpoint

from .events_kit import HANG, due_event_tasks, make_due, run_event_tasks

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_retries(settings):
    settings.EVENT_RETRY_DELAYS_SECONDS = [0]


def _delivery(event_type=None):
    deliveries = Delivery.objects.select_related("event")
    if event_type:
        deliveries = deliveries.filter(event__type=event_type)
    return deliveries.get()


def test_a_verdict_reaches_the_bank_signed_per_standard_webhooks(txn, endpoint, receiver):
    txn.record_answer(True)

    assert run_event_tasks() == ["delivered"]

    [request] = receiver.received
    assert request["verified"] is True
    event = request["event"]
    assert event["type"] == EventType.RESOLVED
    assert event["data"]["id"] == txn.public_id
    assert event["data"]["status"] == Status.RESOLVED
    assert event["data"]["answers"]["authorized"] is True
    # Any Standard Webhooks library verifies it with the endpoint's secret alone.
    assert Webhook(endpoint.secret).verify(request["body"], request["headers"]) == event
    delivery = _delivery()
    assert request["headers"]["webhook-id"] == delivery.event.msg_id
    assert (delivery.state, delivery.attempts) == (DeliveryState.DELIVERED, 1)
    [attempt] = delivery.attempt_log.all()
    assert (attempt.http_status, attempt.response_excerpt, attempt.error) == (200, "thanks", "")


def test_after_a_rotation_either_secret_verifies_until_the_overlap_ends(txn, endpoint, receiver):
    old = endpoint.secret
    new = endpoint.rotate_secret()
    txn.record_answer(True)
    run_event_tasks()

    [request] = receiver.received
    assert len(request["headers"]["webhook-signature"].split()) == 2
    for secret in (old, new):  # a bank still on the old secret, and one already switched
        assert Webhook(secret).verify(request["body"], request["headers"])["type"]

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(previous_secret_until=timezone.now())
    txn.opt_out()
    run_event_tasks()
    last = receiver.received[-1]
    assert len(last["headers"]["webhook-signature"].split()) == 1
    assert Webhook(new).verify(last["body"], last["headers"])
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(last["body"], last["headers"])


def test_the_event_data_is_what_the_alerts_api_answers(txn, endpoint, receiver, api):
    txn.record_answer(False)
    run_event_tasks()

    data = receiver.received[0]["event"]["data"]
    assert data == api("GET", f"/api/v1/alerts/{txn.public_id}").json()
    assert (data["amount"], data["transaction_date"]) == ("2350.10", "2025-03-15")
    assert data["answers"]["authorized"] is False
    assert data["card_last4"] == txn.card_last4


def test_a_forged_signature_is_refused_by_the_bank(txn, endpoint, receiver):
    receiver.secret = WebhookEndpoint().secret  # the bank holds another secret
    txn.record_answer(True)

    run_event_tasks()

    assert receiver.msg_ids(verified=False) and not receiver.msg_ids()
    assert _delivery().state == DeliveryState.PENDING  # a 400 is retried like any non-2xx


def test_a_500_is_retried_until_the_bank_takes_it(txn, endpoint, receiver, fast_retries):
    receiver.answers = [500, 503]
    txn.record_answer(True)

    outcomes = run_event_tasks()

    assert [o.split(" at ")[0] for o in outcomes] == ["retry", "retry", "delivered"]
    delivery = _delivery()
    assert delivery.state == DeliveryState.DELIVERED
    assert delivery.attempts == 3
    assert [a.http_status for a in delivery.attempt_log.all()] == [500, 503, 200]
    # The same webhook-id every time: the bank can drop a repeat.
    assert len(set(receiver.msg_ids())) == 1 and len(receiver.msg_ids()) == 3


def test_a_timeout_is_an_attempt_that_failed_and_is_retried(
    txn, endpoint, receiver, settings, fast_retries
):
    settings.EVENT_HTTP_TIMEOUT = 0.3
    receiver.answers = [HANG]
    txn.record_answer(True)

    run_event_tasks()

    delivery = _delivery()
    first, second = delivery.attempt_log.all()
    assert first.http_status is None
    assert first.error == "No answer within 0.3 s"
    assert first.duration_ms < 3000
    assert second.http_status == 200
    assert delivery.state == DeliveryState.DELIVERED


def test_retries_back_off_and_stop_after_the_window(txn, endpoint, receiver, settings):
    settings.EVENT_RETRY_DELAYS_SECONDS = [5, 30, 120]
    receiver.answers = [500] * 10
    txn.record_answer(True)

    waits = []
    for _ in range(4):
        run_event_tasks()
        delivery = _delivery()
        last = delivery.attempt_log.last()
        waits.append(round((delivery.next_attempt_at - last.at).total_seconds()))
        make_due(delivery)
    assert waits == [5, 30, 120, 120]  # the last wait repeats
    # 24 hours after the first attempt it is given up.
    Delivery.objects.update(first_attempt_at=timezone.now() - timedelta(hours=24))
    assert run_event_tasks() == ["failed"]
    delivery = _delivery()
    assert (delivery.state, delivery.attempts, delivery.next_attempt_at) == ("failed", 5, None)
    assert not due_event_tasks().exists()


def test_events_of_one_alert_arrive_in_order(txn, endpoint, receiver, fast_retries):
    receiver.answers = [500]
    txn.record_answer(True)  # alert.resolved
    txn.record_answer(False)  # alert.needs_review: a contradicting answer

    outcomes = run_event_tasks()

    resolved = _delivery(EventType.RESOLVED).event.msg_id
    review = _delivery(EventType.NEEDS_REVIEW).event.msg_id
    # The second waited while the first was retried; it went only after.
    assert "waiting for an older event" in outcomes
    assert receiver.msg_ids() == [resolved, resolved, review]
    assert [r["event"]["type"] for r in receiver.received if r["verified"]][-1] == (
        EventType.NEEDS_REVIEW
    )


def test_a_failing_alert_does_not_hold_back_another(make_transaction, endpoint, receiver):
    first, second = make_transaction(), make_transaction()
    receiver.answers = [500]
    first.record_answer(True)
    second.record_answer(True)

    run_event_tasks()

    assert receiver.received[-1]["event"]["data"]["id"] == second.public_id
    assert Delivery.objects.get(event__transaction=second).state == DeliveryState.DELIVERED
    assert Delivery.objects.get(event__transaction=first).state == DeliveryState.PENDING


def test_a_delivery_a_worker_is_sending_is_not_sent_twice(txn, endpoint, receiver):
    txn.record_answer(True)
    delivery = _delivery()
    lease = timezone.now() + timedelta(seconds=30)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENDING, next_attempt_at=lease
    )

    assert run_event_tasks() == ["not due"]
    assert receiver.received == []


def test_a_worker_that_died_sending_is_replaced_by_the_sweep(txn, endpoint, receiver):
    from transactions import events

    txn.record_answer(True)
    delivery = _delivery()
    # Its worker claimed it, then died: the task is gone and the lease ran out.
    expired = timezone.now() - timedelta(minutes=5)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.SENDING, next_attempt_at=expired, attempts=1
    )
    due_event_tasks().delete()

    assert events.sweep() == 1
    assert events.sweep() == 0  # queued once, not on every tick
    assert run_event_tasks() == ["delivered"]
    assert _delivery().state == DeliveryState.DELIVERED
    assert len(receiver.msg_ids()) == 1


def test_the_sweep_leaves_a_delivery_alone_while_its_task_is_due(txn, endpoint):
    from transactions import events

    txn.record_answer(True)

    assert events.sweep() == 0
    assert due_event_tasks().count() == 1


def test_an_inactive_endpoint_gets_nothing(txn, endpoint, receiver):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False)

    txn.record_answer(True)

    assert run_event_tasks() == []
    assert not Delivery.objects.exists()
    assert receiver.received == []


def test_an_endpoint_gets_only_the_types_it_asked_for(make_transaction, endpoint, receiver):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(event_types=[EventType.FRAUD_CONFIRMED])
    make_transaction().record_answer(True)
    make_transaction().record_answer(False)

    run_event_tasks()

    assert [r["event"]["type"] for r in receiver.received] == [EventType.FRAUD_CONFIRMED]


def test_the_attempt_keeps_500_characters_of_the_answer(txn, endpoint, receiver):
    receiver.answers = [(500, "x" * 5000)]
    txn.record_answer(True)

    run_event_tasks()

    attempt = _delivery().attempt_log.first()
    assert (attempt.http_status, attempt.response_excerpt) == (500, "x" * 500)


def test_a_delivery_whose_task_was_lost_is_queued_again_by_the_sweep(txn, endpoint, receiver):
    from transactions import events

    txn.record_answer(True)
    due_event_tasks().delete()  # the task never ran (a queue wiped, a worker gone)
    Delivery.objects.update(next_attempt_at=timezone.now() - timedelta(minutes=5))

    assert run_event_tasks() == []
    assert events.sweep() == 1
    assert run_event_tasks() == ["delivered"]
    assert len(receiver.msg_ids()) == 1
