"""The database holds a transaction's invariants itself, on SQLite and PostgreSQL alike."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.db import DataError, IntegrityError, transaction

from transactions.models import Transaction


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("card_last4", "1234567812345678"),  # a whole card number
        ("card_last4", "４８２１"),  # fullwidth digits
        ("card_last4", "48a1"),
        ("phone", "555-0101"),  # not E.164
        ("phone", "+0123456789"),
        ("public_id", "TXN 001"),
        ("public_id", "<b>TXN</b>"),
        ("status", "Lost"),
    ],
)
def test_a_value_that_breaks_a_rule_is_refused_by_the_database(txn, field, value):
    # PostgreSQL refuses an over-long value by its column length (DataError) before
    # the check constraint; SQLite enforces no length, so the constraint does.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Transaction.objects.filter(pk=txn.pk).update(**{field: value})
    txn.refresh_from_db()
    assert getattr(txn, field) != value


def test_a_transaction_without_a_phone_is_allowed(txn):
    assert Transaction.objects.filter(pk=txn.pk).update(phone="") == 1


def test_loaddata_cannot_store_a_whole_card_number(db, tmp_path):
    fixture = tmp_path / "cards.json"
    row = {
        "public_id": "TXN900",
        "client_name": "Asha Rao",
        "card_last4": "4111111111111111",
        "phone": "+919876543210",
        "amount": "10.00",
        "bank_name": "Example Bank",
        "merchant_name": "Croma",
        "transaction_date": "2025-03-15",
    }
    fixture.write_text(json.dumps([{"model": "transactions.transaction", "fields": row}]))
    with pytest.raises((IntegrityError, DataError, CommandError)):
        call_command("loaddata", str(fixture), verbosity=0)
    assert not Transaction.objects.filter(public_id="TXN900").exists()
