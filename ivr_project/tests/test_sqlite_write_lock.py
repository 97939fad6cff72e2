"""SQLite writers queue on a file lock, held from BEGIN to COMMIT or ROLLBACK."""

import fcntl
import os
import threading

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from transactions.models import WorkerClock

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the file lock is SQLite's"),
]


def clock(name):
    WorkerClock.objects.create(name=name, at=timezone.now())


def write_lock_is_free() -> bool:
    """What another process sees: can it take the lock now?"""
    fd = os.open(str(connection.settings_dict["NAME"]) + "-writelock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing drops the lock if it was taken
    return True


def test_a_write_transaction_holds_the_lock_until_commit():
    assert write_lock_is_free()
    with transaction.atomic():
        clock("first")
        assert not write_lock_is_free()
        with transaction.atomic():  # a savepoint: still the same lock
            clock("nested")
        assert not write_lock_is_free()
    assert write_lock_is_free()
    assert WorkerClock.objects.count() == 2


def test_a_rollback_releases_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        clock("undone")
        raise RuntimeError("the writer gives up")
    assert write_lock_is_free()
    assert not WorkerClock.objects.exists()


def test_a_connection_closed_mid_transaction_releases_it():
    with transaction.atomic():
        clock("lost")
        connection.close()  # as when a worker dies: its lock goes with it
        assert write_lock_is_free()
    assert not WorkerClock.objects.exists()


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
        second.join(0.3)  # it waits on the lock all this while
        events.append("first out")
    second.join(10)
    assert events == ["first out", "second in"]
    assert set(WorkerClock.objects.values_list("name", flat=True)) == {"first", "second"}
