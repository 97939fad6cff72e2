"""SQLite with writers queued on a file lock instead of SQLite's busy polling.

SQLite lets one writer in at a time; the others retry on a back-off of 1, 2,
5, 10 ... ms however soon the lock frees, so under concurrent webhooks most of
a request's time is sleep. Every write transaction here (Django's atomic
blocks start with BEGIN IMMEDIATE) first takes an exclusive `flock` on a file
beside the database: the kernel hands it to the next waiter the moment it is
released, and releases it if the process dies. Writers outside this backend
(the sqlite3 shell, say) still meet SQLite's own lock and busy timeout.
"""

import fcntl
import os

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    _write_lock_fd = None
    _holding_write_lock = False

    def get_new_connection(self, conn_params):
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            path = os.fspath(self.settings_dict["NAME"]) + "-writelock"
            self._write_lock_fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return connection

    def _start_transaction_under_autocommit(self):
        self._take_write_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release_write_lock()
            raise

    def _commit(self):
        try:
            return super()._commit()
        finally:
            self._release_write_lock()

    def _rollback(self):
        try:
            return super()._rollback()
        finally:
            self._release_write_lock()

    def _close(self):
        try:
            return super()._close()
        finally:
            self._release_write_lock()
            if self._write_lock_fd is not None:
                os.close(self._write_lock_fd)
                self._write_lock_fd = None

    def _take_write_lock(self):
        if self._write_lock_fd is not None and not self._holding_write_lock:
            fcntl.flock(self._write_lock_fd, fcntl.LOCK_EX)
            self._holding_write_lock = True

    def _release_write_lock(self):
        if self._holding_write_lock:
            self._holding_write_lock = False
            fcntl.flock(self._write_lock_fd, fcntl.LOCK_UN)
