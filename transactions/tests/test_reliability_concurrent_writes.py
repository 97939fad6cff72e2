"""Sixteen threads write statuses, phones and call events at once: nothing lost, no error.

Each thread has its own database connection, as two web workers or a web
worker and a task worker would; the same test runs on SQLite and PostgreSQL.
"""

import itertools
from datetime import date
from decimal import Decimal

import pytest
from django.contrib.auth.models import User

from transactions.models import (
    AuditEntry,
    CallAttempt,
    CallEvent,
    CallRefused,
    CallTrigger,
    Status,
    Transaction,
)
from transactions.tests.concurrency import errors_in, run_together

THREADS = 16
ROUNDS = 6
ROWS = 4
MANUAL = [Status.RESOLVED, Status.FRAUD, Status.NOT_ANSWERED, Status.DISCONNECTED, Status.PENDING]

pytestmark = pytest.mark.django_db(transaction=True)


def _txn(public_id):
    return Transaction.objects.create(
        public_id=public_id,
        client_name="Asha Rao",
        card_last4="4821",
        phone="+919700000009",
        amount=Decimal("10.00"),
        bank_name="Example Bank",
        merchant_name="Croma",
        transaction_date=date(2025, 3, 15),
    )


def _assert_audit_is_a_chain(txn, field, final_value):
    """Each change starts from the value the previous one left: no update was lost."""
    entries = list(AuditEntry.objects.filter(transaction=txn, field=field).order_by("id"))
    for before, after in itertools.pairwise(entries):
        assert after.old_value == before.new_value
    assert entries[-1].new_value == final_value
    return entries


def test_concurrent_phones_statuses_and_events_are_all_kept():
    user = User.objects.create_user("writer")
    rows = [_txn(f"R{n}") for n in range(ROWS)]
    call = CallAttempt.objects.create(transaction=rows[0], call_sid="CA" + "0" * 32)

    def worker(t):
        def work():
            changed = {"phone": 0, "status": 0}
            for i in range(ROUNDS):
                row = Transaction.objects.get(pk=rows[(t + i) % ROWS].pk)
                changed["phone"] += row.set_phone_by(user, f"+9198{t:02d}{i:06d}")
                row = Transaction.objects.get(pk=rows[(t + i + 1) % ROWS].pk)
                changed["status"] += row.set_status_by(user, MANUAL[(t + i) % len(MANUAL)])
                CallEvent.objects.create(
                    call=call, kind=CallEvent.Kind.ANSWER, step="0", speech_result=f"{t}:{i}"
                )
            return changed

        return work

    results = run_together(*(worker(t) for t in range(THREADS)))

    assert errors_in(results) == []
    # Every event kept, each exactly once.
    said = sorted(CallEvent.objects.filter(call=call).values_list("speech_result", flat=True))
    assert said == sorted(f"{t}:{i}" for t in range(THREADS) for i in range(ROUNDS))
    # Every phone change happened (all numbers differ) and is audited in an unbroken chain.
    assert sum(r["phone"] for r in results) == THREADS * ROUNDS
    assert AuditEntry.objects.filter(field="phone").count() == THREADS * ROUNDS
    for row in Transaction.objects.filter(pk__in=[r.pk for r in rows]):
        _assert_audit_is_a_chain(row, "phone", row.phone)
        if AuditEntry.objects.filter(transaction=row, field="status").exists():
            _assert_audit_is_a_chain(row, "status", row.status)
    assert AuditEntry.objects.filter(field="status").count() == sum(r["status"] for r in results)
    # The trigger-kept counts followed every change.
    assert Transaction.objects.status_counts() == (
        Transaction.objects.filter(pk__isnull=False).status_counts()
    )


def test_only_one_of_sixteen_claims_of_the_same_row_wins():
    row = _txn("RACE")

    def claim():
        try:
            return Transaction.objects.get(pk=row.pk).begin_call(trigger=CallTrigger.MANUAL)
        except CallRefused:
            return False

    results = run_together(*([claim] * THREADS))

    assert errors_in(results) == []
    assert [r for r in results if r is not False] == [row.calls.get()]
    row.refresh_from_db()
    assert row.status == Status.CONNECTING
    assert Transaction.objects.status_counts()[Status.CONNECTING] == 1


def test_concurrent_bulk_updates_and_inserts_keep_the_counts_exact():
    for n in range(40):
        _txn(f"B{n}")

    def flip(to_status):
        def work():
            for _ in range(5):
                Transaction.objects.filter(public_id__startswith="B").update_in_order(
                    status=to_status
                )

        return work

    def insert(t):
        def work():
            for i in range(5):
                _txn(f"N{t}-{i}")

        return work

    results = run_together(
        *(flip(s) for s in (Status.FRAUD, Status.RESOLVED, Status.NOT_ANSWERED, Status.PENDING)),
        *(insert(t) for t in range(THREADS - 4)),
    )

    assert errors_in(results) == []
    counts = Transaction.objects.status_counts()
    assert counts == Transaction.objects.filter(pk__isnull=False).status_counts()
    assert sum(counts.values()) == 40 + (THREADS - 4) * 5


def test_overlapping_bulk_updates_in_key_order_queue_instead_of_deadlocking():
    """Eight bulk writers over the same rows, each from the far end of the table."""
    rows = [_txn(f"D{n:02d}") for n in range(60)]
    for i, row in enumerate(rows):
        # Scatter the rows over the heap so a plain UPDATE would lock them out of key order.
        Transaction.objects.filter(pk=row.pk).update(merchant_name=f"Shop {i}")

    def writer(t):
        def work():
            for i in range(6):
                picked = Transaction.objects.filter(public_id__startswith="D")
                if t % 2:
                    picked = picked.order_by("-pk")
                picked.update_in_order(status=MANUAL[(t + i) % len(MANUAL)])

        return work

    results = run_together(*(writer(t) for t in range(8)))

    assert errors_in(results) == []
    statuses = Transaction.objects.filter(public_id__startswith="D").values_list("status")
    assert statuses.distinct().count() == 1  # each bulk update applied whole, never half
    assert Transaction.objects.status_counts() == (
        Transaction.objects.filter(pk__isnull=False).status_counts()
    )
