"""Requests made by another process on the test database, as a second web worker makes them."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from voiceflow.tests.autocall_kit import database_url

ROOT = Path(settings.BASE_DIR)

_PRELUDE = """
import django
django.setup()
from django.contrib.auth.models import User
from django.test import Client
"""


def start_in_another_process(code: str, **env) -> subprocess.Popen:
    """Start `code` (after django.setup(), with Client and User imported) in a new process.

    `env` adds settings (e.g. LOGIN_RATE_LIMIT="3/5m"): the `settings` fixture does not
    reach another process. The test must commit what that process reads:
    django_db(transaction=True).
    """
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "ALLOWED_HOSTS": "testserver",
        "DJANGO_SETTINGS_MODULE": "ivr_project.settings",
        **env,
    }
    return subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", _PRELUDE + code],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def output(process: subprocess.Popen) -> list[str]:
    """What a process started above printed, once it has ended well."""
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return out.split()


def in_another_process(code: str, **env) -> list[str]:
    return output(start_in_another_process(code, **env))
