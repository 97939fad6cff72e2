"""Alerts in: check a request's alerts, then create, amend or leave each one, all or nothing.

Idempotent by id. An alert equal to the stored one changes nothing; a changed
one is applied while the case is Pending and nobody has called about it
(Transaction.amend_alert, audited with the key); otherwise the request is a
conflict and nothing is written. Checks are the importer's (parse_case).
"""

import re
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from transactions.importer import UNSTORABLE, RowError, parse_case
from transactions.models import CallAttempt, QueueState, Status, Transaction
from voiceflow.tasks import request_bulk_calls

# What an alert may carry; anything else is refused by name (a typo like "cal" would be lost).
ACCEPTED = {
    "id",
    "client_name",
    "card_number",
    "client_phone",
    "amount",
    "currency",
    "bank_name",
    "merchant_name",
    "transaction_date",
    "external_ref",
    "call",
}
# The stored fields an alert sets, compared to tell a re-send from a change.
ALERT_FIELDS = [
    "client_name",
    "card_last4",
    "phone",
    "amount",
    "currency",
    "bank_name",
    "merchant_name",
    "transaction_date",
    "external_ref",
]
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# A second identical request racing this one inserted a row first: read again.
_TRIES = 3


@dataclass
class Alert:
    index: int
    values: dict  # Transaction field values, public_id included
    queue_call: bool


class AlertsRejected(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__(f"{len({e.index for e in errors})} bad alert(s)")
        self.errors = errors


class AlertsConflict(Exception):
    def __init__(self, ids: list[str]):
        super().__init__(", ".join(ids))
        self.ids = ids


@dataclass
class Ingested:
    rows: list[Transaction]  # in the order sent
    created: set = field(default_factory=set)  # public ids; these rows have no calls yet
    updated: set = field(default_factory=set)
    calls_queued: int = 0
    calls_scheduled: int = 0


def read_alerts(items: list) -> list[Alert]:
    """Every alert checked; AlertsRejected lists each bad field of each bad alert."""
    alerts, errors, seen, phones = [], [], {}, {}
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            errors.append(RowError(index, "", "alert", "not a JSON object"))
            continue
        values, problems, _ = parse_case(item, phones)
        problems += [(key, _unknown(key)) for key in item if key not in ACCEPTED]
        for key, check in (("currency", _currency), ("external_ref", _external_ref)):
            try:
                values[key] = check(item.get(key))
            except ValueError as e:
                problems.append((key, str(e)))
        call = item.get("call")
        if call not in (None, "queue"):
            problems.append(("call", 'use "queue", or leave it out'))
        alert_id = values.get("public_id") or str(item.get("id") or "")
        if alert_id in seen:
            problems.append(("id", f"same id as index {seen[alert_id]}"))
        errors += [RowError(index, alert_id, key, reason) for key, reason in problems]
        if not problems:
            seen[alert_id] = index
            alerts.append(Alert(index, values, call == "queue"))
    if errors:
        raise AlertsRejected(errors)
    return alerts


def _unknown(key: str) -> str:
    if key == "action":  # the seed's status column
        return "not accepted: calls and analysts set the status"
    return f"unknown field; use: {', '.join(sorted(ACCEPTED))}"


def _currency(value) -> str:
    if value is None:
        return "INR"  # the seed's currency, and the model's default
    if not isinstance(value, str) or not _CURRENCY.match(value.strip().upper()):
        raise ValueError("three letters, ISO 4217 (INR, USD, EUR...)")
    return value.strip().upper()


def _external_ref(value) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError("must be text")
    value = value.strip()
    if len(value) > 100:
        raise ValueError("longer than 100 characters")
    if UNSTORABLE.search(value):
        raise ValueError("contains a character that cannot be stored")
    return value


def ingest(alerts: list[Alert], api_key) -> Ingested:
    """Store the alerts in one transaction; AlertsConflict (nothing written) names the ids
    that have a call or a verdict and were sent with different content."""
    for attempt in range(_TRIES):
        try:
            with transaction.atomic():
                return _ingest(alerts, api_key)
        except IntegrityError:
            # PostgreSQL: an identical request inserted the same id after our read.
            # Its row is committed now, so the next try finds it (SQLite's writers
            # queue for the whole transaction and never get here).
            if attempt == _TRIES - 1:
                raise
    raise AssertionError("unreachable")


def _ingest(alerts: list[Alert], api_key) -> Ingested:
    ids = [alert.values["public_id"] for alert in alerts]
    called = CallAttempt.objects.filter(transaction=OuterRef("pk"))
    stored = {
        row.public_id: row
        for row in Transaction.objects.filter(public_id__in=ids)
        .annotate(called=Exists(called))
        .select_for_update()
        .order_by("pk")  # one lock order for every writer: no deadlock
    }
    new, changed, conflicts, to_call = [], [], [], []
    for alert in alerts:
        row = stored.get(alert.values["public_id"])
        if row is None:
            new.append(Transaction(**alert.values))
        elif any(getattr(row, name) != alert.values[name] for name in ALERT_FIELDS):
            if row.status == Status.PENDING and not row.called:
                changed.append((row, alert))
            else:
                conflicts.append(row.public_id)
        if alert.queue_call and (row is None or _never_called(row)):
            to_call.append(alert.values["public_id"])
    if conflicts:
        raise AlertsConflict(conflicts)

    result = Ingested(rows=[])
    Transaction.objects.bulk_create(new)
    result.created = {row.public_id for row in new}
    for row, alert in changed:
        fields = {name: alert.values[name] for name in ALERT_FIELDS}
        if row.amend_alert(fields, api_key=api_key) is None:  # cannot happen: we hold the lock
            raise AlertsConflict([row.public_id])
        result.updated.add(row.public_id)
    if to_call:
        queued = request_bulk_calls(
            Transaction.objects.filter(public_id__in=to_call), source="api", api_key=api_key
        )
        result.calls_queued, result.calls_scheduled = queued.queued, queued.scheduled
    # New rows are as bulk_create left them (keys and times filled in): reading 1,000 of
    # them back with their calls took a third of a batch's time.
    by_id = {row.public_id: row for row in new}
    if stored:
        by_id |= (
            Transaction.objects.filter(public_id__in=stored)
            .prefetch_related("calls")
            .in_bulk(field_name="public_id")
        )
    result.rows = [by_id[public_id] for public_id in ids]
    return result


def _never_called(row: Transaction) -> bool:
    """A call may be queued for it: Pending, never called and not queued already."""
    return row.status == Status.PENDING and not row.called and row.queue_state == QueueState.NONE
