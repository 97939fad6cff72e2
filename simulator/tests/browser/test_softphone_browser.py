"""A person takes a simulated call on the softphone page, in a real browser.

The call is placed by our real request_call (twilio client → the simulator's
REST API on the live server); the queued engine task plays it as the worker
would, calling our real, signed webhooks; the page polls, shows each prompt
and sends the person's answers.
"""

import pytest
from django_tasks_db.models import DBTaskResult
from playwright.sync_api import expect

from simulator.tasks import wait_for_calls
from transactions.models import Status
from voiceflow.calls import request_call

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def ringing(settings, make_transaction):
    """Place a call to a number whose scripted customer would stay silent, and start it."""
    settings.SIMULATOR_PICKUP_SECONDS = 20  # rings on the softphone until answered

    def place():
        txn = make_transaction(phone="+14155550106")
        attempt = request_call(txn)
        queued = DBTaskResult.objects.get(args_kwargs__args=[attempt.call_sid])
        queued.task.call(attempt.call_sid)
        return txn

    return place


def _answer_next(page, count):
    """Wait for the next question (the transcript has `count` lines by then)."""
    expect(page.locator("#sp-transcript li")).to_have_count(count)
    expect(page.locator("#sp-turn")).to_be_visible()


def test_a_person_answers_every_question_on_the_softphone(page_for, alice, ringing):
    page = page_for(alice)
    page.goto("/simulator/softphone/")
    expect(page.locator("#sp-idle")).to_be_visible()
    txn = ringing()

    page.locator("#sp-answer").click()
    expect(page.locator("#sp-turn")).to_be_visible()
    expect(page.locator("#sp-transcript")).to_contain_text("Did you make this payment?")
    page.locator("#sp-suggestions").get_by_role("button", name="no", exact=True).click()
    _answer_next(page, 5)
    page.locator("#sp-say").fill("no I have not")
    page.locator("#sp-say").press("Enter")
    _answer_next(page, 7)
    page.locator("#sp-keypad button[data-key='2']").click()
    expect(page.locator("#sp-transcript")).to_contain_text("physical or virtual")
    expect(page.locator("#sp-turn")).to_be_visible()
    page.locator("#sp-suggestions").get_by_role("button", name="virtual", exact=True).click()

    expect(page.locator("#sp-ended")).to_be_visible()
    assert wait_for_calls(timeout=30)
    txn.refresh_from_db()
    assert txn.status == Status.FRAUD
    assert txn.answers() == {
        "authorized": False,
        "shared_card_details": False,
        "other_suspicious": False,
        "card_delivery": "virtual",
    }
    expect(page.locator("#sp-transcript")).to_contain_text("(presses 2)")
    assert page.js_errors == []


def test_a_person_hangs_up_after_denying(page_for, alice, ringing):
    page = page_for(alice)
    page.goto("/simulator/softphone/")
    txn = ringing()

    page.locator("#sp-answer").click()
    page.locator("#sp-suggestions").get_by_role("button", name="no", exact=True).click()
    _answer_next(page, 5)
    page.locator("#sp-hangup").click()

    expect(page.locator("#sp-ended")).to_be_visible()
    assert wait_for_calls(timeout=30)
    txn.refresh_from_db()
    # The denial counted the moment it was heard.
    assert txn.status == Status.FRAUD
    expect(page.locator("#sp-transcript")).to_contain_text("the customer hung up")
