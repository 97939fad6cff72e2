"""Logging filters."""

import logging


class QuietPeriodicTasks(logging.Filter):
    """Drop the routine start/finish lines of the periodic tick (every few seconds).

    Its warnings and failures still pass, as do every other task's lines.
    """

    periodic = ("voiceflow.tasks.autocall_tick",)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not any(str(arg) in self.periodic for arg in record.args or ())
