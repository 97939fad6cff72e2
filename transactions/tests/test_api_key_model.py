"""ApiKey: a key is found only whole and while active; only its hash is kept."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from transactions.models import ApiKey, AuditEntry, CallTrigger, QueueState, Transaction


def test_a_key_is_found_by_its_prefix_and_hash(db):
    api_key, key = ApiKey.issue("core-banking")
    assert key.startswith(f"ivr_{api_key.prefix}_")
    assert ApiKey.find(key) == api_key
    assert api_key.key_hash == ApiKey.digest(key) != key


@pytest.mark.parametrize(
    "forge",
    [
        lambda key, other: key[:-1],
        lambda key, other: key + "x",
        lambda key, other: key.upper(),
        lambda key, other: key.replace("ivr_", "", 1),
        # Another key's prefix with this key's secret.
        lambda key, other: f"ivr_{other}_{key.split('_', 2)[2]}",
    ],
)
def test_anything_but_the_whole_key_is_refused(db, forge):
    _, key = ApiKey.issue("core-banking")
    other, _ = ApiKey.issue("cards")
    assert ApiKey.find(forge(key, other.prefix)) is None


def test_a_revoked_key_is_not_found_and_revoking_twice_changes_nothing(db):
    api_key, key = ApiKey.issue("core-banking")
    assert api_key.revoke() is True
    when = api_key.revoked_at
    assert api_key.revoke() is False
    api_key.refresh_from_db()
    assert api_key.revoked_at == when
    assert ApiKey.find(key) is None


def test_use_is_recorded_at_most_once_a_minute(db):
    api_key, _ = ApiKey.issue("core-banking")
    api_key.mark_used()
    first = ApiKey.objects.get().last_used_at
    api_key.mark_used()
    assert ApiKey.objects.get().last_used_at == first
    ApiKey.objects.update(last_used_at=first - timedelta(minutes=2))
    api_key.last_used_at = first - timedelta(minutes=2)
    api_key.mark_used()
    assert ApiKey.objects.get().last_used_at > first


def test_a_malformed_rate_limit_is_refused(db):
    with pytest.raises(ValidationError):
        ApiKey.issue("core-banking", rate_limit="fast")


def test_amending_a_queued_alerts_phone_makes_its_call_due_for_the_new_number(db, txn, api_key):
    later = timezone.now() + timedelta(hours=8)
    Transaction.objects.filter(pk=txn.pk).update(
        queue_state=QueueState.SCHEDULED, queue_trigger=CallTrigger.BULK, next_call_at=later
    )
    txn.refresh_from_db()
    assert txn.amend_alert({"phone": "+919876543210"}, api_key=api_key[0]) == ["phone"]
    assert txn.queue_state == QueueState.QUEUED
    assert txn.next_call_at < later
    assert AuditEntry.objects.get().api_key == api_key[0]


def test_an_alert_once_called_is_not_amended(db, txn, api_key):
    txn.begin_call(trigger=CallTrigger.MANUAL)
    assert txn.amend_alert({"client_name": "Someone Else"}, api_key=api_key[0]) is None
    txn.refresh_from_db()
    assert txn.client_name == "Asha Rao"
    assert not AuditEntry.objects.exists()
