"""Transaction.objects.status_counts(): read from a trigger-kept tally, always exact."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from transactions.models import CallRefused, CallTrigger, Status, Transaction, Verdict


def _scanned():
    # A filtered queryset takes the GROUP BY path: the truth to compare with.
    return Transaction.objects.filter(pk__isnull=False).status_counts()


def _row(public_id, status=Status.PENDING, **extra):
    values = {
        "public_id": public_id,
        "client_name": "Asha Rao",
        "card_last4": "4821",
        "phone": "+14155550101",
        "amount": Decimal("10.00"),
        "bank_name": "Example Bank",
        "merchant_name": "Croma",
        "transaction_date": date(2025, 3, 15),
        "status": status,
    }
    values.update(extra)
    return Transaction(**values)


def _assert_exact(**expected):
    counts = Transaction.objects.status_counts()
    assert counts == _scanned()
    want = dict.fromkeys(Status.values, 0)
    want.update({Status[k].value: v for k, v in expected.items()})
    assert counts == want


def test_it_lists_every_status_with_zero_when_empty(db):
    _assert_exact()


def test_it_counts_single_and_bulk_inserts(make_transaction):
    make_transaction()
    make_transaction(status=Status.RESOLVED)
    Transaction.objects.bulk_create(
        [_row(f"B{i}", Status.FRAUD if i % 3 == 0 else Status.PENDING) for i in range(30)]
    )
    _assert_exact(PENDING=21, RESOLVED=1, FRAUD=10)


def test_it_follows_conditional_updates(make_transaction):
    a = make_transaction()
    b = make_transaction(status=Status.RESOLVED)
    call = a.begin_call(trigger=CallTrigger.MANUAL)
    with pytest.raises(CallRefused):
        b.begin_call(trigger=CallTrigger.MANUAL)  # resolved: refused, nothing changes
    _assert_exact(CONNECTING=1, RESOLVED=1)
    assert a.record_answer(authorized=False) == Verdict.APPLIED
    assert b.record_answer(authorized=False) == Verdict.CONTRADICTED  # flagged, not applied
    assert not b.record_call_end(call, Status.NOT_ANSWERED)
    _assert_exact(FRAUD=1, RESOLVED=1)


def test_it_follows_a_supervisors_manual_status(make_transaction, sam):
    t = make_transaction()
    assert t.set_status_by(sam, Status.RESOLVED)
    assert not t.set_status_by(sam, Status.RESOLVED)
    _assert_exact(RESOLVED=1)


def test_it_ignores_updates_that_leave_the_status_alone(make_transaction, sam):
    t = make_transaction(status=Status.NOT_ANSWERED)
    t.touch()
    t.set_phone_by(sam, "+14155550199")
    Transaction.objects.update(status=Status.NOT_ANSWERED, client_name="Someone Else")
    _assert_exact(NOT_ANSWERED=1)


def test_it_follows_bulk_updates_across_statuses(db):
    cycle = [Status.PENDING, Status.DISCONNECTED, Status.FRAUD]
    Transaction.objects.bulk_create([_row(f"U{i}", cycle[i % 3]) for i in range(12)])
    Transaction.objects.filter(status__in=[Status.PENDING, Status.DISCONNECTED]).update(
        status=Status.NOT_ANSWERED
    )
    _assert_exact(NOT_ANSWERED=8, FRAUD=4)


def test_it_follows_deletes(make_transaction):
    for _ in range(3):
        make_transaction()
    doomed = make_transaction(status=Status.RESOLVED)
    doomed.delete()
    Transaction.objects.filter(public_id__in=Transaction.objects.values("public_id")[:2]).delete()
    _assert_exact(PENDING=1)


def test_it_follows_bulk_upserts(db):
    Transaction.objects.bulk_create([_row(f"X{i}") for i in range(10)])
    # Five rows come back resolved, five are new and fraud: one INSERT ... ON CONFLICT.
    incoming = [_row(f"X{i}", Status.RESOLVED) for i in range(5)] + [
        _row(f"Y{i}", Status.FRAUD) for i in range(5)
    ]
    Transaction.objects.bulk_create(
        incoming,
        update_conflicts=True,
        unique_fields=["public_id"],
        update_fields=["status", "client_name"],
    )
    _assert_exact(PENDING=5, RESOLVED=5, FRAUD=5)


def test_a_filtered_queryset_counts_only_its_rows(make_transaction):
    make_transaction(client_name="Asha Rao")
    make_transaction(client_name="Ravi Kumar", status=Status.FRAUD)
    counts = Transaction.objects.filter(client_name="Ravi Kumar").status_counts()
    assert counts[Status.FRAUD] == 1
    assert counts[Status.PENDING] == 0


def test_it_stays_exact_after_many_changes_are_folded_together(db):
    Transaction.objects.bulk_create([_row(f"F{i}") for i in range(40)])
    for i in range(40):
        # 240 single-row status changes: more deltas than the fold threshold on PostgreSQL.
        for status in (Status.CONNECTING, Status.NOT_ANSWERED, Status.DISCONNECTED):
            Transaction.objects.filter(public_id=f"F{i}").update(status=status)
    _assert_exact(DISCONNECTED=40)
    _assert_exact(DISCONNECTED=40)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM transactions_status_tally")
        (tally_rows,) = cursor.fetchone()
    assert tally_rows <= len(Status.values)


@pytest.mark.django_db(transaction=True)
def test_it_is_zero_after_a_flush_between_tests():
    # transactional_db flushes tables (TRUNCATE on PostgreSQL, DELETE on SQLite)
    # before the next test; the triggers must have followed.
    Transaction.objects.bulk_create([_row(f"Z{i}") for i in range(3)])
    _assert_exact(PENDING=3)


@pytest.mark.django_db(transaction=True)
def test_it_is_zero_after_a_flush_between_tests_again():
    _assert_exact()


def test_count_reads_the_tally_and_agrees_with_a_scan(db, django_assert_num_queries):
    cycle = [Status.PENDING, Status.FRAUD, Status.RESOLVED]
    Transaction.objects.bulk_create([_row(f"C{i}", cycle[i % 3]) for i in range(9)])
    Transaction.objects.filter(public_id="C0").update(status=Status.FRAUD)
    assert Transaction.objects.count() == 9
    assert Transaction.objects.filter(status=Status.FRAUD).count() == 4
    assert Transaction.objects.filter(status=Status.CONNECTING).count() == 0
    # Anything else is counted by the database as before.
    assert Transaction.objects.exclude(status=Status.FRAUD).count() == 5
    assert Transaction.objects.filter(status=Status.FRAUD, public_id="C0").count() == 1
    assert Transaction.objects.filter(calls__isnull=True, status=Status.FRAUD).count() == 4
    assert Transaction.objects.all()[:2].count() == 2
    assert Transaction.objects.search("nobody").count() == 0
    assert Transaction.objects.filter(client_name="Asha Rao").distinct().count() == 9
