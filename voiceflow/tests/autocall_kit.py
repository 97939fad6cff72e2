"""Shared pieces of the automatic-calling tests: phone numbers, clocks, real db_workers."""

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
# Thursday 15 January 2026, 14:00 UTC: 19:30 in India, 14:00 in London, 09:00 in New York.
WINTER_AFTERNOON = datetime(2026, 1, 15, 14, 0, tzinfo=UTC)

# Fictional numbers that libphonenumber accepts, one time zone each.
INDIA = "+919876543210"
LONDON = "+442079460123"
NEW_YORK = "+12125550123"
LOS_ANGELES = "+14155550101"
US_TOLL_FREE = "+18005550100"  # every US zone: the default zone applies


def database_url() -> str:
    """The test database, as DATABASE_URL for a subprocess."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Worker:
    """A real `manage.py db_worker` process on the test database."""

    def __init__(self, standin_url: str, **env):
        full_env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "TWILIO_API_BASE_URL": standin_url,
            "PUBLIC_URL": settings.PUBLIC_URL,
            "SECRET_KEY": settings.SECRET_KEY,
            "DEBUG": "false",
            **{k: str(v) for k, v in env.items()},
        }
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "db_worker",
                "--queue-name",
                "*",
                "--interval",
                "0.05",
                "--no-reload",
                "--no-startup-delay",
                "--verbosity",
                "0",
            ],
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.process.stderr.read().decode(errors="replace")


def wait_until(condition, timeout: float = 30.0, what: str = "condition"):
    """Poll `condition` until true; fail the test (not hang) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"Timed out waiting for {what}")
