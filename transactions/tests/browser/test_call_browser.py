"""A call placed from the badge, followed live on the dashboard, then read in the detail.

The call goes through our real request_call and the twilio client to the
built-in simulator's REST API on the live server; the test then does the
worker's job (runs the queued engine task), and the engine calls our real,
signed webhooks over HTTP. The page is never reloaded: the poll brings the
row to its final status.

Screenshots of the dashboard and the detail land in SCREENSHOTS_DIR
(var/screenshots by default; docs/screenshots for the README).
"""

import csv
import io
import os
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import expect

from simulator.tasks import wait_for_calls
from transactions.models import CallAttempt, Status, Transaction

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ENGINE_TASK = "simulator.tasks.run_simulated_call"


def _work_the_queued_call(call_sid):
    """What `manage.py db_worker` does with the queued simulator task: start the call."""
    queued = DBTaskResult.objects.get(task_path=ENGINE_TASK, args_kwargs__args=[call_sid])
    queued.task.call(*queued.args_kwargs["args"], **queued.args_kwargs["kwargs"])


def _screenshot_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOTS_DIR") or settings.BASE_DIR / "var" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_a_call_from_the_badge_is_followed_to_its_final_status(new_page, sam):
    call_command("load_sample_data", verbosity=0)
    # A number ending in 0: the simulator's customer confirms the payment by voice.
    txn = Transaction.objects.get(public_id="TXN011")
    Transaction.objects.filter(pk=txn.pk).update(phone="+14155550110", status=Status.PENDING)
    page = new_page(sam)
    page.goto("/")
    row = page.locator("#row-TXN011")
    expect(row.locator(".badge-text")).to_have_text("Pending")

    row.locator("button.badge").click()
    expect(row.locator(".badge-text")).to_have_text("Connecting")
    attempt = CallAttempt.objects.get(transaction=txn)

    _work_the_queued_call(attempt.call_sid)
    # The call plays on the worker's thread while the page polls.
    expect(page.locator("#row-TXN011 .badge-text")).to_have_text("Resolved")
    assert wait_for_calls(timeout=30)
    expect(page.locator("#row-TXN011 button.badge")).to_have_count(0)  # Resolved is not callable
    page.evaluate("document.activeElement.blur()")  # no focus ring in the picture
    page.screenshot(path=str(_screenshot_dir() / "dashboard.png"))

    page.get_by_role("link", name="TXN011").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("TXN011")
    conversation = page.locator(".conversation")
    expect(conversation.locator(".ev-prompt").first).to_be_visible()
    expect(conversation.locator(".ev-answer").first).to_contain_text("understood as")
    expect(page.locator(".call-facts")).to_contain_text("completed")
    page.screenshot(path=str(_screenshot_dir() / "detail.png"), full_page=True)
    assert page.js_errors == []
    assert page.csp_violations() == []


def test_a_supervisor_sets_a_status_and_exports_the_view(new_page, sam, make_transaction):
    make_transaction(public_id="TXN401", client_name="Meera Pillai")
    make_transaction(public_id="TXN402", client_name="Karan Malhotra")
    page = new_page(sam)
    page.goto("/t/TXN401")
    page.get_by_label("New status").select_option(Status.FRAUD)
    page.get_by_role("button", name="Set status").click()
    expect(page.locator(".messages")).to_contain_text("Status set to Fraud.")
    expect(page.locator("table.simple")).to_contain_text("sam")

    page.goto("/?q=Meera")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("transactions-")
    rows = list(csv.DictReader(io.StringIO(Path(download.path()).read_text())))
    assert [(r["id"], r["status"], r["card_number"]) for r in rows] == [
        ("TXN401", "Mark As Fraud", "***4821")
    ]


def test_a_refused_call_says_why_on_the_row(new_page, alice, make_transaction):
    # Twilio's magic number for "not a valid phone number" (21217).
    make_transaction(public_id="TXN501", phone="+15005550001", status=Status.NOT_ANSWERED)
    page = new_page(alice)
    page.goto("/")
    page.locator("#row-TXN501 button.badge").click()
    row = page.locator("#row-TXN501")
    expect(row.locator(".row-msg.error")).to_contain_text("(21217)")
    expect(row.locator(".badge-text")).to_have_text("Disconnected")
    expect(page.locator("#flash")).to_be_hidden()  # shown in place, not as a page error


def test_calling_about_a_fraud_row_asks_first(new_page, alice, make_transaction):
    txn = make_transaction(public_id="TXN601", phone="+14155550110", status=Status.FRAUD)
    page = new_page(alice)
    calls = []
    page.on("request", lambda request: "/call/" in request.url and calls.append(request.url))
    page.goto("/")
    badge = page.locator("#row-TXN601 button.badge")

    page.once("dialog", lambda dialog: dialog.dismiss())
    badge.click()
    # A poll sent after the click has come back: a call request would have been sent before it.
    with page.expect_request(lambda request: "/rows?" in request.url) as poll:
        pass
    poll.value.response()
    assert calls == []
    assert not CallAttempt.objects.filter(transaction=txn).exists()
    expect(page.locator("#row-TXN601 .badge-text")).to_have_text("Fraud")

    page.once("dialog", lambda dialog: dialog.accept())
    badge.click()
    # The row keeps its verdict while it is called again, and is no button meanwhile.
    row = page.locator("#row-TXN601")
    expect(row.locator(".badge-line")).to_have_text("☎ On the line")
    expect(row.locator(".badge-text")).to_have_text("Fraud")
    expect(row.locator("button.badge")).to_have_count(0)
    assert CallAttempt.objects.filter(transaction=txn).count() == 1
