"""manage.py start_autocall: starts the automatic-calling tick, once however often it is run."""

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from voiceflow import tasks

pytestmark = pytest.mark.django_db


def _pending_ticks():
    return DBTaskResult.objects.filter(task_path=tasks.autocall_tick.module_path, status="READY")


def test_the_command_starts_the_tick_once(capsys):
    call_command("start_autocall")
    call_command("start_autocall")
    out = capsys.readouterr().out
    assert "tick started" in out
    assert "already running" in out
    assert _pending_ticks().count() == 1


def test_the_command_can_run_one_tick_here(capsys):
    call_command("start_autocall", "--once")
    out = capsys.readouterr().out
    assert "retries=0" in out
    assert "dispatched=0" in out
