"""Outcome events are recorded by the ledger's own state changes: once per cause, never apart."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from transactions.models import (
    Delivery,
    EventType,
    OutcomeEvent,
    Status,
    Transaction,
    WebhookEndpoint,
)
from transactions.roles import ROLE_PERMISSIONS, SUPERVISORS

from .events_kit import due_event_tasks

pytestmark = pytest.mark.django_db


def _types(txn):
    return list(
        OutcomeEvent.objects.filter(transaction=txn).order_by("id").values_list("type", flat=True)
    )


def test_a_confirmation_records_alert_resolved_once(txn):
    txn.record_answer(True)
    txn.record_answer(True)  # the same answer again (a later call): nothing new

    assert _types(txn) == [EventType.RESOLVED]
    payload = OutcomeEvent.objects.get().payload
    assert payload["type"] == EventType.RESOLVED
    assert (payload["data"]["id"], payload["data"]["status"]) == (txn.public_id, Status.RESOLVED)


def test_a_denial_records_alert_fraud_confirmed(txn):
    txn.record_answer(False)

    assert _types(txn) == [EventType.FRAUD_CONFIRMED]


def test_a_contradiction_records_needs_review_once_per_flag(txn):
    txn.record_answer(False)
    txn.record_answer(True)
    txn.record_answer(True)  # contradicts again while still flagged

    assert _types(txn) == [EventType.FRAUD_CONFIRMED, EventType.NEEDS_REVIEW]
    review = OutcomeEvent.objects.get(type=EventType.NEEDS_REVIEW).payload["data"]
    assert (review["status"], review["needs_review"]) == (Status.FRAUD, True)


def test_an_opt_out_records_alert_opted_out_once(txn):
    assert txn.opt_out() is True
    assert txn.opt_out() is False

    assert _types(txn) == [EventType.OPTED_OUT]


def test_a_change_rolled_back_leaves_no_event(txn):
    with pytest.raises(RuntimeError), transaction.atomic():
        txn.record_answer(True)
        raise RuntimeError("the webhook failed after the verdict")

    assert Transaction.objects.get(pk=txn.pk).status == Status.PENDING
    assert not OutcomeEvent.objects.exists()


def test_a_supervisors_verdict_is_the_banks_news_too(txn, sam):
    txn.set_status_by(sam, Status.FRAUD)
    txn.set_status_by(sam, Status.FRAUD)  # no change, no event
    txn.set_status_by(sam, Status.RESOLVED)

    assert _types(txn) == [EventType.FRAUD_CONFIRMED, EventType.RESOLVED]


def test_a_status_without_a_verdict_set_by_hand_sends_nothing(txn, sam):
    txn.set_status_by(sam, Status.NOT_ANSWERED)

    assert _types(txn) == []


def test_a_review_that_keeps_the_status_sends_it_again_without_the_flag(txn, sam):
    txn.record_answer(True)
    txn.record_answer(False)  # needs review

    txn.set_status_by(sam, Status.RESOLVED)

    assert _types(txn) == [EventType.RESOLVED, EventType.NEEDS_REVIEW, EventType.RESOLVED]
    last = OutcomeEvent.objects.order_by("-id").first().payload["data"]
    assert (last["status"], last["needs_review"]) == (Status.RESOLVED, False)


def test_the_payload_is_frozen_when_the_event_is_recorded(txn, sam):
    txn.record_answer(True)
    txn.edit_by(sam, {"client_name": "Someone Else"})

    assert OutcomeEvent.objects.get().payload["data"]["client_name"] == "Asha Rao"


def test_each_event_gets_its_own_message_id(make_transaction):
    make_transaction().record_answer(True)
    make_transaction().record_answer(True)

    ids = list(OutcomeEvent.objects.values_list("msg_id", flat=True))
    assert len(set(ids)) == 2 and all(i.startswith("msg_") for i in ids)


def test_a_delivery_and_its_task_are_made_per_endpoint_that_wants_the_type(txn):
    everything = WebhookEndpoint.objects.create(
        url="https://a.example/", event_types=EventType.values
    )
    WebhookEndpoint.objects.create(url="https://b.example/", event_types=[EventType.OPTED_OUT])

    txn.record_answer(True)

    assert list(Delivery.objects.values_list("endpoint", flat=True)) == [everything.pk]
    assert due_event_tasks().count() == 1


def test_with_no_endpoint_the_event_is_kept_and_nothing_is_queued(txn):
    txn.record_answer(True)

    assert _types(txn) == [EventType.RESOLVED]
    assert not Delivery.objects.exists()
    assert not due_event_tasks().exists()


def test_a_new_secret_is_a_standard_webhooks_secret():
    import base64

    secret = WebhookEndpoint().secret
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert WebhookEndpoint().secret != secret


def test_every_permission_a_role_names_exists_after_migrating():
    for role, dotted_names in ROLE_PERMISSIONS.items():
        granted = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Group.objects.get(name=role).permissions.select_related("content_type")
        }
        assert granted == set(dotted_names), role
    assert Permission.objects.filter(codename="redeliver_outcomeevent").exists()
    assert "transactions.redeliver_outcomeevent" in ROLE_PERMISSIONS[SUPERVISORS]
