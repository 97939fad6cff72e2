"""The analysts' dashboard in headless Chromium, against the live server."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from conftest import PASSWORD
from transactions.models import (
    AuditEntry,
    CallAttempt,
    CallTrigger,
    QueueState,
    Status,
    Transaction,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_analyst_logs_in_searches_and_filters_by_status(new_page, alice, make_transaction):
    make_transaction(public_id="TXN101", client_name="Meera Pillai")
    make_transaction(public_id="TXN102", client_name="Karan Malhotra", status=Status.FRAUD)
    make_transaction(public_id="TXN103", client_name="Meera Iyer", status=Status.FRAUD)
    page = new_page()

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#rows tr[data-id]")).to_have_count(3)

    # Search as you type: the table and the address bar follow, no reload.
    page.locator("#q").press_sequentially("Meera", delay=20)
    expect(page.locator("#rows tr[data-id]")).to_have_count(2)
    expect(page).to_have_url(re.compile(r"/\?q=Meera$"))
    expect(page.locator("#counts .status-fraud .count-n")).to_have_text("1")

    # A status count is a filter, and keeps the search.
    page.locator("#counts .status-fraud").click()
    expect(page.locator("#rows tr[data-id]")).to_have_count(1)
    expect(page.locator("#row-TXN103")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/\?q=Meera&status=Mark\+As\+Fraud$"))
    expect(page.locator("#counts .status-fraud")).to_have_attribute("aria-current", "true")

    # The back button brings the unfiltered search back; a column header sorts it.
    page.go_back()
    expect(page.locator("#rows tr[data-id]")).to_have_count(2)
    page.get_by_role("link", name="Amount").click()
    expect(page).to_have_url(re.compile(r"/\?q=Meera&sort=-amount$"))
    expect(page.locator("th[aria-sort=descending]")).to_contain_text("Amount")
    assert page.js_errors == []
    assert page.csp_violations() == []


def test_a_phone_is_edited_in_place(new_page, alice, txn):
    page = new_page(alice)
    page.goto("/")
    phone = page.locator("#phone-TXN001")

    phone.click()
    phone.fill("12ab")
    phone.press("Enter")
    error = page.locator("#phone-error-TXN001")
    expect(error).to_contain_text("is not a phone number")
    expect(page.locator("#phone-TXN001")).to_have_value("+14155550101")
    expect(page.locator("#phone-TXN001")).to_have_attribute("aria-invalid", "true")

    phone = page.locator("#phone-TXN001")
    phone.fill("098765 43210")
    phone.press("Tab")  # blur saves too
    expect(page.locator("#row-TXN001 .row-msg")).to_have_text("Phone saved: +919876543210")
    expect(page.locator("#phone-TXN001")).to_have_value("+919876543210")
    expect(page.locator("#phone-error-TXN001")).to_have_count(0)
    txn.refresh_from_db()
    assert txn.phone == "+919876543210"
    assert AuditEntry.objects.get(field="phone").user == alice

    # A call's progress arriving while the analyst types does not wipe the typing;
    # the save answers with the whole fresh row.
    phone = page.locator("#phone-TXN001")
    phone.fill("+91 98765 4321")
    txn.refresh_from_db()
    txn.set_status_by(alice, Status.NOT_ANSWERED)
    _wait_for_polls(page, 2)
    expect(phone).to_have_value("+91 98765 4321")
    expect(page.locator("#row-TXN001")).to_have_attribute("data-stale", "1")
    phone.type("1")
    phone.press("Enter")
    expect(page.locator("#phone-TXN001")).to_have_value("+919876543211")
    expect(page.locator("#row-TXN001 .badge-text")).to_have_text("Not Answered")
    expect(page.locator("#row-TXN001")).not_to_have_attribute("data-stale", "1")

    # Escape puts the stored number back and saves nothing.
    phone = page.locator("#phone-TXN001")
    phone.fill("+911111")
    phone.press("Escape")
    expect(phone).to_have_value("+919876543211")
    assert AuditEntry.objects.filter(field="phone").count() == 2
    assert page.js_errors == []
    assert page.csp_violations() == []


def test_a_phone_edit_made_offline_stays_visibly_unsaved(new_page, alice, txn):
    page = new_page(alice)
    page.goto("/")
    phone = page.locator("#phone-TXN001")
    expect(phone).to_have_value("+14155550101")

    page.context.set_offline(True)
    phone.fill("+91 98765 43210")
    phone.press("Tab")  # blur saves: the request never leaves the browser
    note = page.locator("#row-TXN001 .unsaved-note")
    expect(note).to_contain_text("Not saved")
    expect(phone).to_have_value("+91 98765 43210")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#flash")).to_contain_text("Cannot reach the server")

    # Back online, the row changes on the server: the poll does not wipe the typing.
    page.context.set_offline(False)
    txn.set_status_by(alice, Status.NOT_ANSWERED)
    _wait_for_polls(page, 2)
    expect(phone).to_have_value("+91 98765 43210")
    expect(note).to_contain_text("Not saved")
    txn.refresh_from_db()
    assert txn.phone == "+14155550101"

    # Saved at last: the fresh row, with its new status, and no note.
    phone.press("Enter")
    expect(page.locator("#row-TXN001 .row-msg")).to_have_text("Phone saved: +919876543210")
    expect(page.locator("#row-TXN001 .unsaved-note")).to_have_count(0)
    expect(page.locator("#row-TXN001 .badge-text")).to_have_text("Not Answered")
    expect(page.locator("#phone-TXN001")).not_to_have_attribute("aria-invalid", "true")
    assert page.js_errors == []
    assert page.csp_violations() == []


def test_escape_takes_back_an_unsaved_phone(new_page, alice, txn):
    page = new_page(alice)
    page.goto("/")
    phone = page.locator("#phone-TXN001")
    page.context.set_offline(True)
    phone.fill("+91 98765 43210")
    phone.press("Enter")
    expect(page.locator("#row-TXN001 .unsaved-note")).to_contain_text("Not saved")
    phone.press("Escape")
    expect(phone).to_have_value("+14155550101")
    expect(page.locator("#row-TXN001 .unsaved-note")).to_have_count(0)
    page.context.set_offline(False)


def test_a_new_transaction_appears_on_top_without_reload(new_page, alice, make_transaction):
    make_transaction(public_id="TXN201")
    page = new_page(alice)
    page.goto("/")
    expect(page.locator("#counts .count-all .count-n")).to_have_text("1")
    expect(page.locator("#showing")).to_have_text("Showing 1–1 of 1.")

    make_transaction(public_id="TXN202", client_name="Newly Imported")
    expect(page.locator("#rows tr[data-id]").first).to_have_id("row-TXN202")
    expect(page.locator("#counts .count-all .count-n")).to_have_text("2")
    expect(page.locator("#rows tr[data-id]")).to_have_count(2)
    expect(page.locator("#showing")).to_have_text("Showing 1–2 of 2.")
    assert page.js_errors == []
    assert page.csp_violations() == []


def test_server_errors_are_shown_not_swallowed(new_page, alice, make_transaction):
    make_transaction(public_id="TXN301", status=Status.NOT_ANSWERED)
    page = new_page(alice)
    page.goto("/")
    # The analyst loses the right to call while the page is open: the click gets a 403.
    alice.groups.clear()
    page.locator("#row-TXN301 button.badge").click()
    flash = page.locator("#flash")
    expect(flash).to_be_visible()
    expect(flash).to_contain_text("Not allowed (403)")
    page.get_by_role("button", name="Dismiss").click()
    expect(flash).to_be_hidden()


def test_a_hidden_tab_does_not_poll_and_asks_at_once_when_shown(new_page, alice, txn, settings):
    settings.DASHBOARD_POLL_SECONDS = 2
    page = new_page(alice)
    polls = []
    page.on("request", lambda request: "/rows?" in request.url and polls.append(request.url))
    page.goto("/")
    expect(page.locator("#row-TXN001")).to_be_visible()

    page.evaluate(HIDE)
    page.wait_for_timeout(2600)  # more than one poll interval
    assert polls == []

    # Shown again: it asks at once rather than at the next tick, for the rows on screen.
    with page.expect_request("**/rows?**", timeout=500):
        page.evaluate(SHOW)
    assert "shown=TXN001" in polls[-1]


def test_a_row_that_needs_review_says_so_and_the_filter_finds_it(new_page, alice, make_transaction):
    make_transaction(public_id="TXN701", client_name="Meera Pillai", status=Status.RESOLVED)
    later = make_transaction(public_id="TXN702", client_name="Meera Iyer", status=Status.FRAUD)
    make_transaction(public_id="TXN703", client_name="Karan Malhotra", needs_review=True)
    page = new_page(alice)
    page.goto("/")
    expect(page.locator("#row-TXN703 .tag-review")).to_contain_text("Needs review")
    expect(page.locator("#row-TXN702 .tag-review")).to_have_count(0)
    toggle = page.locator("#counts .count-review")
    expect(toggle.locator(".count-n")).to_have_text("1")

    # A later call's "yes, that was me" contradicts the fraud verdict: the row says so live.
    later.record_answer(authorized=True)
    expect(page.locator("#row-TXN702 .tag-review")).to_contain_text("Needs review")
    expect(page.locator("#row-TXN702 .badge-text")).to_have_text("Fraud")
    expect(toggle.locator(".count-n")).to_have_text("2")

    toggle.click()
    expect(page).to_have_url(re.compile(r"/\?review=1$"))
    expect(page.locator("#rows tr[data-id]")).to_have_count(2)
    expect(page.locator("#row-TXN701")).to_have_count(0)
    expect(page.locator("#counts .count-review")).to_have_attribute("aria-current", "true")

    # The search keeps the filter.
    page.locator("#q").press_sequentially("Meera", delay=20)
    expect(page).to_have_url(re.compile(r"/\?q=Meera&review=1$"))
    expect(page.locator("#rows tr[data-id]")).to_have_count(1)
    expect(page.locator("#row-TXN702")).to_be_visible()
    assert page.js_errors == []
    assert page.csp_violations() == []


def test_a_row_on_the_line_offers_no_call_until_the_call_ends(new_page, alice, make_transaction):
    txn = make_transaction(public_id="TXN801", status=Status.FRAUD)
    live = CallAttempt.objects.create(transaction=txn, call_sid="CA" + "8" * 32)
    page = new_page(alice)
    calls = []
    page.on("request", lambda request: "/call/" in request.url and calls.append(request.url))
    page.goto("/")
    row = page.locator("#row-TXN801")
    expect(row.locator(".badge-line")).to_have_text("☎ On the line")
    expect(row.locator(".badge-text")).to_have_text("Fraud")
    expect(row.locator("button.badge")).to_have_count(0)

    row.locator(".badge").click()
    _wait_for_polls(page, 1)  # a request from the click would have gone before this one
    assert calls == []
    assert CallAttempt.objects.filter(transaction=txn).count() == 1

    # The call ends: the next poll gives the call button back.
    CallAttempt.objects.filter(pk=live.pk).update(ended_at=timezone.now())
    txn.touch()
    expect(row.locator("button.badge")).to_be_visible()
    expect(row.locator(".badge-line")).to_have_count(0)
    expect(row.locator("button.badge .badge-text")).to_have_text("Fraud")
    assert page.js_errors == []
    assert page.csp_violations() == []


def test_selected_rows_are_queued_then_cancelled_and_the_selection_clears(
    new_page, alice, make_transaction
):
    for n in (1, 2, 3):
        make_transaction(public_id=f"TXN90{n}")
    page = new_page(alice)
    page.goto("/")
    boxes = page.locator('#rows input[name="ids"]')
    expect(boxes).to_have_count(3)

    page.locator("#select-TXN901").check()
    page.locator("#select-TXN902").check()
    page.get_by_role("button", name="Call selected").click()
    expect(page.locator("#bulk-result")).to_contain_text("2 queued")
    expect(page.locator("#row-TXN901 .tag-queue")).to_have_text("Queued")
    expect(page.locator('#rows input[name="ids"]:checked')).to_have_count(0)
    assert Transaction.objects.filter(queue_state=QueueState.QUEUED).count() == 2

    page.locator("#select-TXN901").check()
    page.locator("#select-TXN903").check()
    page.get_by_role("button", name="Cancel automatic calls").click()
    expect(page.locator("#bulk-result")).to_have_text("1 automatic calls cancelled.")
    expect(page.locator("#row-TXN901 .tag-queue")).to_have_count(0)
    expect(page.locator("#row-TXN902 .tag-queue")).to_have_text("Queued")
    expect(page.locator('#rows input[name="ids"]:checked')).to_have_count(0)
    queued = Transaction.objects.filter(queue_state=QueueState.QUEUED)
    assert list(queued.values_list("public_id", flat=True)) == ["TXN902"]
    assert page.js_errors == []
    assert page.csp_violations() == []


FITS = """() => {
  const wrap = document.querySelector(".table-wrap");
  const overflow = [];
  document.querySelectorAll("#rows td.c-status").forEach((cell) => {
    const edge = cell.getBoundingClientRect().right;
    cell.querySelectorAll("*").forEach((e) => {
      if (e.getBoundingClientRect().right > edge + 0.5) overflow.push(e.className || e.tagName);
    });
  });
  return {
    table: wrap.scrollWidth - wrap.clientWidth,
    page: document.documentElement.scrollWidth - window.innerWidth,
    status: overflow,
  };
}"""


def test_the_status_column_fits_at_1280_pixels(new_page, sam, make_transaction):
    due = timezone.now() + timedelta(days=2)
    for n, status in enumerate([Status.NOT_ANSWERED, Status.DISCONNECTED, Status.FRAUD]):
        make_transaction(
            public_id=f"TXN-LONG-{n}",
            status=status,
            client_name="Venkataraghavan Subramanian Iyer",
            merchant_name="Reliance Digital Superstore",
            bank_name="State Bank of India",
            needs_review=True,
            queue_state=QueueState.SCHEDULED,
            queue_trigger=CallTrigger.RETRY,
            queue_call_number=2,
            queue_call_total=3,
            next_call_at=due,
            opted_out_at=timezone.now(),
        )
    page = new_page(sam, width=1280)
    page.goto("/?q=Venkataraghavan")
    expect(page.locator("#rows tr[data-id]")).to_have_count(3)
    assert page.evaluate(FITS) == {"table": 0, "page": 0, "status": []}


def test_a_policy_violation_would_be_seen(new_page, alice):
    """The check the row-update tests make: an inline style is refused, and reported."""
    page = new_page(alice)
    page.goto("/")
    with page.expect_console_message(lambda m: "Content Security Policy" in m.text):
        page.evaluate("document.body.setAttribute('style', 'color: red')")
    assert page.csp_violations() != []


def _wait_for_polls(page, n):
    """Until n polls sent from now on have been answered (one goes every poll interval).

    Requests are seen in the order the page sends them: anything a click sent
    is seen before the poll that follows it.
    """
    for _ in range(n):
        with page.expect_request(lambda request: "/rows?" in request.url) as poll:
            pass
        poll.value.response()


HIDE = "Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true})"
SHOW = (
    "Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});"
    "document.dispatchEvent(new Event('visibilitychange'))"
)
