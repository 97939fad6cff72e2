"""Whole calls through the simulator: our real request_call, REST, engine, webhooks and ledger.

The live server plays both our site and (under /simulator/) Twilio; the
engine runs as the queued task does on the worker: here by running the
queued task, and in one test by a real `manage.py db_worker` process.
"""

import os
import subprocess
import sys
from urllib.parse import quote

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from simulator.models import SimCall
from simulator.tasks import wait_for_calls
from transactions.models import CallOutcome, Status
from voiceflow.calls import request_call

pytestmark = pytest.mark.django_db(transaction=True)

TASK = "simulator.tasks.run_simulated_call"


def _run_queued_task(sid):
    """What the worker does: take the queued engine task for this call and run it."""
    queued = DBTaskResult.objects.get(task_path=TASK, args_kwargs__args=[sid])
    queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])
    # The task starts the call on a thread of the worker; wait for it to end.
    assert wait_for_calls(timeout=60)


def _call(make_transaction, phone, replies=None):
    txn = make_transaction(phone=phone)
    attempt = request_call(txn)
    assert txn.status == Status.CONNECTING
    if replies is not None:
        SimCall.objects.filter(sid=attempt.call_sid).update(
            persona="scripted",
            scripted_replies=[r if isinstance(r, dict) else {"speech": r} for r in replies],
        )
    _run_queued_task(attempt.call_sid)
    txn.refresh_from_db()
    attempt.refresh_from_db()
    return txn, attempt, SimCall.objects.get(sid=attempt.call_sid)


def _said(call):
    return " ".join(line["text"] for line in call.transcript if line["who"] == "bank")


# --- every scripted customer, every final status


@pytest.mark.parametrize(
    ("phone", "status", "outcome", "call_state", "card"),
    [
        ("+14155550100", Status.RESOLVED, CallOutcome.CONFIRMED, "completed", ""),
        ("+14155550108", Status.RESOLVED, CallOutcome.CONFIRMED, "completed", ""),
        ("+14155550101", Status.FRAUD, CallOutcome.DENIED, "completed", "physical"),
        ("+14155550102", Status.FRAUD, CallOutcome.DENIED, "completed", "virtual"),
        ("+14155550109", Status.FRAUD, CallOutcome.DENIED, "completed", "virtual"),
        ("+14155550103", Status.NOT_ANSWERED, CallOutcome.NO_ANSWER, "no-answer", ""),
        ("+14155550104", Status.NOT_ANSWERED, CallOutcome.BUSY, "busy", ""),
        ("+14155550105", Status.NOT_ANSWERED, CallOutcome.VOICEMAIL, "completed", ""),
        ("+14155550106", Status.DISCONNECTED, CallOutcome.UNCLEAR, "completed", ""),
        ("+14155550107", Status.DISCONNECTED, CallOutcome.UNCLEAR, "completed", ""),
        ("+14155550000", Status.DISCONNECTED, CallOutcome.FAILED, "failed", ""),
    ],
    ids=[
        "confirms-by-voice",
        "confirms-on-keypad",
        "denies-physical",
        "denies-virtual",
        "denies-on-keypad-virtual",
        "never-answers",
        "busy",
        "voicemail",
        "silent",
        "mumbles",
        "line-fails",
    ],
)
def test_each_scripted_customer_reaches_its_final_status(
    live, make_transaction, phone, status, outcome, call_state, card
):
    txn, attempt, call = _call(make_transaction, phone)

    assert txn.status == status
    assert txn.card_delivery == card
    assert attempt.outcome == outcome
    assert call.state == call_state
    assert attempt.twilio_status == call_state
    assert attempt.call_sid == call.sid


def test_voicemail_is_detected_and_given_no_details(live, make_transaction):
    txn, attempt, call = _call(make_transaction, "+14155550105")

    assert attempt.answered_by.startswith("machine")
    assert txn.card_last4 not in _said(call).replace(" ", "")
    assert "Croma" not in _said(call)


# --- every branch of the script, by voice and keypad


def test_yes_at_the_first_question_resolves(live, make_transaction):
    txn, _, _ = _call(make_transaction, "+14155550106", ["yes I made it"])

    assert txn.status == Status.RESOLVED
    assert txn.authorized is True
    assert txn.shared_card_details is None


def test_the_physical_branch_runs_steps_five_to_seven(live, make_transaction):
    txn, _, call = _call(make_transaction, "+14155550106", ["no", "yes", "no", "physical"])

    assert txn.status == Status.FRAUD
    assert txn.answers() == {
        "authorized": False,
        "shared_card_details": True,
        "other_suspicious": False,
        "card_delivery": "physical",
    }
    said = _said(call)
    assert "three to five working days" in said
    assert "Meanwhile, a virtual card" in said
    assert "opened a fraud case" in said


def test_the_virtual_branch_runs_step_eight(live, make_transaction):
    txn, _, call = _call(make_transaction, "+14155550106", ["no", "no", "yes", "virtual"])

    assert txn.answers() == {
        "authorized": False,
        "shared_card_details": False,
        "other_suspicious": True,
        "card_delivery": "virtual",
    }
    said = _said(call)
    assert "Your new virtual card is ready" in said
    assert "three to five working days" not in said


def test_the_whole_denial_works_on_the_keypad(live, make_transaction):
    keys = [{"digits": d} for d in ("2", "1", "2", "1")]

    txn, _, _ = _call(make_transaction, "+14155550106", keys)

    assert txn.status == Status.FRAUD
    assert txn.answers()["shared_card_details"] is True
    assert txn.card_delivery == "physical"


def test_an_unclear_answer_is_asked_again(live, make_transaction):
    txn, _, call = _call(make_transaction, "+14155550106", ["purple", "yes"])

    assert txn.status == Status.RESOLVED
    assert "did not understand" in _said(call)


def test_a_denial_survives_a_customer_who_goes_quiet(live, make_transaction):
    txn, attempt, _ = _call(make_transaction, "+14155550106", ["no"])

    assert txn.status == Status.FRAUD
    assert attempt.outcome == CallOutcome.DENIED


def test_a_customer_can_opt_out(live, make_transaction):
    txn, attempt, _ = _call(make_transaction, "+14155550106", [{"digits": "9"}])

    assert txn.opted_out_at is not None
    assert attempt.outcome == CallOutcome.OPTED_OUT


def test_every_answer_is_on_the_attempt(live, make_transaction):
    _, attempt, _ = _call(make_transaction, "+14155550106", ["no", {"digits": "2"}])

    answers = attempt.events.filter(kind="answer").order_by("id")
    assert [(a.speech_result, a.digits) for a in answers][:2] == [("no", ""), ("", "2")]


# --- the worker as `make run` starts it


def _database_url():
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = quote(db["USER"] or "") + (":" + quote(db["PASSWORD"]) if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def test_a_real_worker_process_plays_the_call(live, make_transaction, settings):
    txn = make_transaction(phone="+14155550102")
    attempt = request_call(txn)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "PUBLIC_URL": settings.PUBLIC_URL,
        "TWILIO_API_BASE_URL": settings.TWILIO_API_BASE_URL,
        "SIMULATOR_TIME_SCALE": "0",
        "SIMULATOR_PICKUP_SECONDS": "0",
    }

    subprocess.run(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--queue-name",
            "default",
        ],
        env=env,
        cwd=settings.BASE_DIR,
        check=True,
        capture_output=True,
        timeout=120,
    )

    txn.refresh_from_db()
    assert txn.status == Status.FRAUD
    assert txn.card_delivery == "virtual"
    assert SimCall.objects.get(sid=attempt.refresh_from_db() or attempt.call_sid).state == (
        "completed"
    )
    assert DBTaskResult.objects.get(task_path=TASK).status == "SUCCESSFUL"
