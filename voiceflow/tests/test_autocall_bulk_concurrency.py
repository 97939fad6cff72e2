"""Bulk queueing, bulk cancelling and the planner's clean-up over the same rows at once.

Every bulk writer locks rows in one order, so on PostgreSQL they wait for each
other instead of deadlocking; every queue change is audited exactly once.
"""

import itertools

import pytest

from transactions.models import AuditEntry, QueueState, Status, Transaction
from transactions.tests.concurrency import errors_in, run_together
from voiceflow import autocall

from .autocall_kit import INDIA

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("always_open")]

ROWS = 80


def test_queue_cancel_and_clean_up_race_without_deadlock_or_double_audit(make_transaction):
    rows = [make_transaction(phone=INDIA) for _ in range(ROWS)]
    for row in rows[::3]:
        # Resolved rows are what the planner's clean-up drops from the queue.
        Transaction.objects.filter(pk=row.pk).update(status=Status.RESOLVED)
    everything = Transaction.objects.filter(pk__in=[r.pk for r in rows])

    def queue(newest_first):
        def work():
            for _ in range(4):
                picked = everything.order_by("-pk" if newest_first else "pk")
                autocall.enqueue_calls(picked, source="bulk")
                # Resolved rows sneak into the queue the way a late status change leaves them.
                Transaction.objects.filter(pk__in=[r.pk for r in rows[::3]]).update_in_order(
                    queue_state=QueueState.QUEUED
                )

        return work

    def cancel():
        for _ in range(4):
            autocall.cancel_calls(everything.order_by("-pk"), source="bulk")

    def clean_up():
        return sum(autocall.drop_unwanted() for _ in range(4))

    results = run_together(queue(False), queue(True), cancel, cancel, clean_up, clean_up)

    assert errors_in(results) == []
    # Audit entries pair up: a row is never queued twice without a cancel between.
    for row in everything.exclude(status=Status.RESOLVED):
        changes = list(
            AuditEntry.objects.filter(transaction=row, field=autocall.QUEUE_FIELD)
            .order_by("id")
            .values_list("old_value", "new_value")
        )
        for before, after in itertools.pairwise(changes):
            assert (before[1] == "") != (after[1] == ""), changes
        assert (changes[-1][1] if changes else "") == Transaction.objects.get(pk=row.pk).queue_state
    # What the last writer left queued by mistake, the next clean-up drops.
    autocall.drop_unwanted()
    assert not everything.filter(status=Status.RESOLVED).exclude(queue_state="").exists()
