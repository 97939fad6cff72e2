import gc
import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from transactions.importer import (
    ImportRejected,
    import_rows,
    parse_amount,
    parse_date,
    seed_row,
)
from transactions.models import AuditEntry, CallAttempt, CallTrigger, Status, Transaction
from voiceflow import flow

DATA = Path(__file__).parent / "data" / "flask_transactions.json"


def flask_rows():
    return json.loads(DATA.read_text())


def good_row(**fields):
    row = {
        "id": "TXN900",
        "client_name": "Asha Rao",
        "card_number": "***4821",
        "client_phone": "+14155550101",
        "amount": 2500.75,
        "bank_name": "HDFC Bank",
        "merchant_name": "Croma",
        "transaction_date": "15/03/2025",
        "action": "Pending",
    }
    row.update(fields)
    return row


def test_it_imports_the_flask_apps_rows(db):
    result = import_rows(flask_rows())

    assert (result.created, result.updated, result.skipped) == (5, 0, 0)
    first = Transaction.objects.get(public_id="TXN001")
    assert first.client_name == "Asha Rao"
    assert first.card_last4 == "4821"
    assert first.phone == "+14155550101"
    assert first.amount == Decimal("2500.75")
    assert first.transaction_date == date(2025, 3, 15)
    assert first.status == Status.RESOLVED
    assert Transaction.objects.get(public_id="TXN002").status == Status.FRAUD
    # A row without an action is new, as in the Flask app.
    assert Transaction.objects.get(public_id="TXN005").status == Status.PENDING


def test_it_reduces_a_full_card_number_to_its_last_four(db):
    result = import_rows(flask_rows())

    assert result.pans_reduced == 1
    txn = Transaction.objects.get(public_id="TXN002")
    assert txn.card_last4 == "1111"
    stored = json.dumps(list(Transaction.objects.values()), default=str)
    assert "4111111111111111" not in stored
    assert "4111 1111" not in stored


def test_it_normalises_phones_to_e164(db):
    import_rows(flask_rows())

    assert Transaction.objects.get(public_id="TXN002").phone == "+14155550102"
    assert Transaction.objects.get(public_id="TXN004").phone == "+442079460104"


def test_it_reads_seed_and_iso_dates():
    assert parse_date("15/03/2025") == date(2025, 3, 15)
    assert parse_date("2025-03-15") == date(2025, 3, 15)
    assert parse_date("2025-03-15T10:30:00+05:30") == date(2025, 3, 15)
    for bad in ("31/02/2025", "03-15-2025", "", None, 20250315):
        with pytest.raises(ValidationError):
            parse_date(bad)


def test_it_reads_amounts_exactly():
    assert parse_amount(2500.75) == Decimal("2500.75")
    assert parse_amount("1,249.50") == Decimal("1249.50")
    assert parse_amount(7) == Decimal("7.00")
    for bad in (-1, "abc", None, True, 0.1 + 0.2, "NaN", "1e20"):
        with pytest.raises(ValidationError):
            parse_amount(bad)


def test_it_names_every_bad_row_and_imports_nothing(db):
    rows = [
        good_row(id="TXN001"),
        good_row(id="TXN002", client_phone="12"),
        good_row(id="TXN003"),
        good_row(id="TXN004", transaction_date="32/01/2025", action="Maybe"),
        "not an object",
        good_row(id="bad id!"),
        good_row(id="TXN001"),
        good_row(id="TXN008", card_number="12345678"),
        good_row(id="TXN009", amount=-5, client_name=""),
    ]

    with pytest.raises(ImportRejected) as caught:
        import_rows(rows)

    errors = {(e.index, e.id, e.field) for e in caught.value.result.errors}
    assert errors == {
        (1, "TXN002", "client_phone"),
        (3, "TXN004", "transaction_date"),
        (3, "TXN004", "action"),
        (4, "", "row"),
        (5, "bad id!", "id"),
        (6, "TXN001", "id"),
        (7, "TXN008", "card_number"),
        (8, "TXN009", "amount"),
        (8, "TXN009", "client_name"),
    }
    assert caught.value.result.skipped == 7
    assert all(e.reason for e in caught.value.result.errors)
    assert "id: same id as index 0" in str(
        next(e for e in caught.value.result.errors if e.index == 6)
    )
    assert not Transaction.objects.exists()


def test_it_imports_the_good_rows_when_asked_to_skip_the_bad(db):
    rows = [
        good_row(id="TXN001"),
        good_row(id="TXN002", client_phone="nope"),
        good_row(id="TXN003"),
    ]

    result = import_rows(rows, skip_invalid=True)

    assert (result.created, result.skipped) == (2, 1)
    assert [e.id for e in result.errors] == ["TXN002"]
    assert set(Transaction.objects.values_list("public_id", flat=True)) == {"TXN001", "TXN003"}


def test_a_dry_run_counts_but_writes_nothing(db, make_transaction):
    make_transaction(public_id="TXN001", merchant_name="Croma Electronics")
    rows = [good_row(id="TXN001", merchant_name="Flipkart"), good_row(id="TXN003")]
    before = list(Transaction.objects.order_by("id").values_list())

    result = import_rows(rows, dry_run=True)

    assert (result.created, result.updated, result.imported) == (1, 1, False)
    assert list(Transaction.objects.order_by("id").values_list()) == before


def test_importing_twice_changes_nothing_the_second_time(db):
    import_rows(flask_rows())
    before = list(Transaction.objects.order_by("id").values_list())

    result = import_rows(flask_rows())

    assert (result.created, result.updated, result.unchanged) == (0, 0, 5)
    # Not even updated_at: the dashboard has nothing new to fetch.
    assert list(Transaction.objects.order_by("id").values_list()) == before


def test_an_upsert_updates_fields_and_bumps_updated_at_but_keeps_history(db, make_transaction, sam):
    txn = make_transaction(public_id="TXN001", client_name="Old Name", phone="+14155550109")
    txn.set_phone_by(sam, "+14155550108")
    CallAttempt.objects.create(transaction=txn, call_sid="CA1", ended_at=timezone.now())
    long_ago = timezone.now() - timedelta(days=1)
    Transaction.objects.filter(pk=txn.pk).update(updated_at=long_ago)
    created_at = Transaction.objects.get(pk=txn.pk).created_at

    result = import_rows([good_row(id="TXN001", client_name="New Name", action="Resolved")])

    assert (result.created, result.updated, result.unchanged) == (0, 1, 0)
    txn.refresh_from_db()
    assert (txn.client_name, txn.status) == ("New Name", Status.RESOLVED)
    assert txn.updated_at > long_ago
    assert txn.created_at == created_at
    assert txn.calls.count() == 1
    assert AuditEntry.objects.filter(transaction=txn).count() == 1


def test_seed_row_gives_the_flask_apps_shape_with_a_masked_card(make_transaction):
    txn = make_transaction(public_id="TXN010", card_last4="9876", amount=Decimal("2500.75"))

    assert seed_row(txn) == {
        "id": "TXN010",
        "client_name": "Asha Rao",
        "card_number": "***9876",
        "client_phone": "+14155550101",
        "amount": 2500.75,
        "bank_name": "Example Bank",
        "merchant_name": "Croma Electronics",
        "transaction_date": "15/03/2025",
        "action": "Pending",
    }


def test_status_counts_and_search_follow_an_upsert(db):
    # The upsert is one INSERT ... ON CONFLICT per batch: what the database keeps
    # beside the table for counts and search must follow it like any other write.
    import_rows(flask_rows())
    changed = flask_rows()
    changed[0]["merchant_name"] = "Nykaa Fashion"
    changed[2]["action"] = "Pending"  # TXN003, Not Answered: no verdict yet
    import_rows(changed)

    counts = Transaction.objects.status_counts()

    grouped = dict.fromkeys(Status.values, 0)
    for txn in Transaction.objects.all():
        grouped[txn.status] += 1
    assert counts == grouped
    assert counts[Status.PENDING] == 2
    assert list(Transaction.objects.search("nykaa").values_list("public_id", flat=True)) == [
        "TXN001"
    ]
    assert not Transaction.objects.search("Croma").exists()


def test_it_counts_new_updated_and_unchanged_rows_across_batches(db, monkeypatch):
    import_rows([good_row(id=f"TXN{n:03d}") for n in range(4)])
    monkeypatch.setattr("transactions.importer.BATCH_SIZE", 1)  # a few rows a statement
    rows = [good_row(id=f"TXN{n:03d}") for n in range(6)]
    rows[1]["client_phone"] = "+14155550199"
    rows[3]["transaction_date"] = "2025-03-16"

    result = import_rows(rows)

    assert (result.created, result.updated, result.unchanged) == (2, 2, 2)
    assert Transaction.objects.count() == 6
    assert Transaction.objects.get(public_id="TXN001").phone == "+14155550199"
    assert Transaction.objects.get(public_id="TXN003").transaction_date == date(2025, 3, 16)


def test_a_bad_last_row_leaves_every_batch_before_it_unwritten(db, monkeypatch, make_transaction):
    make_transaction(public_id="TXN000", client_name="Kept As It Was")
    monkeypatch.setattr("transactions.importer.BATCH_SIZE", 1)  # five good batches before it
    rows = [good_row(id=f"TXN{n:03d}") for n in range(6)]
    rows[5]["amount"] = "lots"

    with pytest.raises(ImportRejected) as rejected:
        import_rows(rows)

    assert [(e.index, e.field) for e in rejected.value.result.errors] == [(5, "amount")]
    assert list(Transaction.objects.values_list("public_id", "client_name")) == [
        ("TXN000", "Kept As It Was")
    ]


def test_the_cycle_collector_runs_again_after_an_import_even_a_refused_one(db):
    import_rows([good_row()])
    assert gc.isenabled()

    with pytest.raises(ImportRejected):
        import_rows([good_row(amount="lots")])
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("+91 9876543210", "+919876543210"),
        ("+1 1415 555 0101", "+14155550101"),  # starts like NANP's national prefix 1
        ("+44 07911 123456", "+447911123456"),  # a national 0 written after the country code
        ("+39 06 6982 1234", "+390669821234"),  # Italy keeps its leading 0
        ("+91 12345", None),  # too short
        ("+999 123456789", None),  # no such country code
    ],
)
def test_a_phone_is_stored_in_e164_or_its_row_refused(db, raw, stored):
    result = import_rows([good_row(client_phone=raw)], skip_invalid=True)

    if stored is None:
        assert [(e.field, bool(e.reason)) for e in result.errors] == [("client_phone", True)]
        assert not Transaction.objects.exists()
    else:
        assert not result.errors
        assert Transaction.objects.get().phone == stored


def test_a_row_in_a_call_keeps_its_status_so_the_calls_outcome_is_not_lost(db, make_transaction):
    txn = make_transaction(public_id="TXN001", merchant_name="Croma")
    call = txn.begin_call(trigger=CallTrigger.MANUAL)
    call_sid = "CA" + "7" * 32
    CallAttempt.objects.filter(pk=call.pk).update(call_sid=call_sid)

    result = import_rows(
        [
            good_row(id="TXN001", merchant_name="Croma Online", action="Pending"),
            good_row(id="TXN002", action="Resolved"),
        ]
    )

    assert (result.created, result.updated) == (1, 1)
    assert [str(kept) for kept in result.kept] == [
        "TXN001: kept Connecting (a call is in progress); the file's status Pending was not applied"
    ]
    txn.refresh_from_db()
    assert (txn.merchant_name, txn.status) == ("Croma Online", Status.CONNECTING)
    # The call ends unanswered: its outcome still lands on the row.
    flow.apply_status("TXN001", {"CallSid": call_sid, "CallStatus": "no-answer"})
    txn.refresh_from_db()
    assert txn.status == Status.NOT_ANSWERED


def test_a_row_in_a_call_with_nothing_else_new_is_left_unchanged(db, make_transaction):
    txn = make_transaction(public_id="TXN001")
    txn.begin_call(trigger=CallTrigger.MANUAL)
    row = good_row(
        id="TXN001",
        client_name=txn.client_name,
        card_number=f"***{txn.card_last4}",
        client_phone=txn.phone,
        amount=float(txn.amount),
        bank_name=txn.bank_name,
        merchant_name=txn.merchant_name,
        transaction_date=txn.transaction_date.strftime("%d/%m/%Y"),
        action="Resolved",
    )

    result = import_rows([row])

    assert (result.updated, result.unchanged, len(result.kept)) == (0, 1, 1)
    assert Transaction.objects.get(pk=txn.pk).status == Status.CONNECTING


def test_a_customers_verdict_stands_and_is_reported(db, make_transaction):
    txn = make_transaction(public_id="TXN001", merchant_name="Croma", status=Status.FRAUD)
    Transaction.objects.filter(pk=txn.pk).update(authorized=False, shared_card_details=True)

    result = import_rows([good_row(id="TXN001", merchant_name="Croma Online", action="Pending")])

    assert (result.updated, result.unchanged) == (1, 0)
    assert [str(kept) for kept in result.kept] == [
        "TXN001: kept Mark As Fraud (the customer's verdict); "
        "the file's status Pending was not applied"
    ]
    txn.refresh_from_db()
    assert (txn.merchant_name, txn.status) == ("Croma Online", Status.FRAUD)
    assert (txn.authorized, txn.shared_card_details) == (False, True)


def test_a_status_set_by_hand_stands_and_is_reported(db, make_transaction, sam):
    txn = make_transaction(public_id="TXN001")
    txn.set_status_by(sam, Status.DISCONNECTED)

    result = import_rows([good_row(id="TXN001", action="Pending")])

    assert [(k.id, k.status, k.file_status, k.reason) for k in result.kept] == [
        ("TXN001", Status.DISCONNECTED, Status.PENDING, "set by hand")
    ]
    assert Transaction.objects.get(pk=txn.pk).status == Status.DISCONNECTED


def test_a_file_that_agrees_with_a_verdict_reports_nothing(db, make_transaction):
    make_transaction(public_id="TXN001", status=Status.RESOLVED)

    result = import_rows([good_row(id="TXN001", action="Resolved")])

    assert (result.updated, result.kept) == (1, [])


def test_importing_again_over_a_kept_status_changes_nothing(db, make_transaction):
    make_transaction(public_id="TXN001", status=Status.FRAUD)
    rows = [good_row(id="TXN001", action="Pending"), good_row(id="TXN002")]
    import_rows(rows)
    before = list(Transaction.objects.order_by("id").values_list())

    result = import_rows(rows)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    assert [kept.id for kept in result.kept] == ["TXN001"]  # still said, every time
    assert list(Transaction.objects.order_by("id").values_list()) == before


def test_it_refuses_connecting_as_a_status_and_imports_nothing(db):
    rows = [good_row(id="TXN001"), good_row(id="TXN002", action="connecting")]

    with pytest.raises(ImportRejected) as rejected:
        import_rows(rows)

    [error] = rejected.value.result.errors
    assert (error.index, error.id, error.field) == (1, "TXN002", "action")
    assert "only placing a call sets Connecting" in error.reason
    assert not Transaction.objects.exists()
