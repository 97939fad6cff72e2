"""SQLite writers take turns: concurrent write transactions wait, never "database is locked".

Django's own options do it (settings.py): BEGIN IMMEDIATE takes the write lock
before a transaction reads, so no two writers can deadlock on upgrading a read
lock, and the busy timeout makes the next writer wait for the lock.
"""

import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from transactions.models import WorkerClock

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's single writer"),
]

WRITERS, WRITES_EACH = 6, 15


def clock(name):
    WorkerClock.objects.create(name=name, at=timezone.now())


def in_threads(target, count):
    """Run target(n) in `count` threads at once; return the errors they raised."""
    errors, ready = [], threading.Barrier(count)

    def run(n):
        try:
            ready.wait()
            target(n)
        except Exception as error:  # reported by the test
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return errors


def test_concurrent_writers_that_read_first_never_see_database_is_locked():
    # Read, then write, in one transaction: what a webhook does. Under SQLite's
    # default DEFERRED mode two of these fail at once with "database is locked".
    def writer(n):
        for i in range(WRITES_EACH):
            with transaction.atomic():
                WorkerClock.objects.filter(name__startswith=f"w{n}-").count()
                clock(f"w{n}-{i}")

    errors = in_threads(writer, WRITERS)
    assert errors == []
    assert WorkerClock.objects.count() == WRITERS * WRITES_EACH


def test_a_second_writer_goes_in_when_the_first_commits():
    events = []
    started = threading.Event()

    def second_writer():
        try:
            started.set()
            with transaction.atomic():
                events.append("second in")
                clock("second")
        finally:
            connections.close_all()

    second = threading.Thread(target=second_writer)
    with transaction.atomic():
        clock("first")
        second.start()
        started.wait()
        second.join(0.3)  # it waits on the write lock all this while
        events.append("first out")
    second.join(10)
    assert events == ["first out", "second in"]
    assert set(WorkerClock.objects.values_list("name", flat=True)) == {"first", "second"}


def test_a_rollback_lets_the_next_writer_in():
    with pytest.raises(RuntimeError), transaction.atomic():
        clock("undone")
        raise RuntimeError("the writer gives up")
    assert in_threads(lambda n: clock("next"), 1) == []
    assert list(WorkerClock.objects.values_list("name", flat=True)) == ["next"]
