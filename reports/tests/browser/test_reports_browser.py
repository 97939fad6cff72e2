"""The reports page in headless Chromium: a week of calls, the period changed, every chart found.

Screenshots of the page and the contact-rules report land in SCREENSHOTS_DIR
(var/screenshots by default; docs/screenshots for the README).
"""

import csv
import io
import os
import random
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from reports.charts import BUILDERS
from transactions.models import (
    AuditEntry,
    CallAttempt,
    CallEvent,
    CallOutcome,
    CallTrigger,
    Status,
    Transaction,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONES = ["+919876543210", "+919812345678", "+12125550100", "+442071234567"]
BANKS = ["Alpha Bank", "Beta Bank"]
# An alert's calls, by its number % 8: outcomes in order (the last may be the verdict).
STORIES = [
    [CallOutcome.CONFIRMED],
    [CallOutcome.DENIED],
    [CallOutcome.NO_ANSWER, CallOutcome.CONFIRMED],
    [CallOutcome.BUSY, CallOutcome.VOICEMAIL, CallOutcome.DENIED],
    [CallOutcome.NO_ANSWER, CallOutcome.NO_ANSWER, CallOutcome.NO_ANSWER],
    [CallOutcome.VOICEMAIL, CallOutcome.OPTED_OUT],
    [CallOutcome.UNCLEAR],
    [],
]
VERDICT = {CallOutcome.CONFIRMED: Status.RESOLVED, CallOutcome.DENIED: Status.FRAUD}


def _screenshot_dir() -> Path:
    path = Path(os.environ.get("SCREENSHOTS_DIR") or settings.BASE_DIR / "var" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _a_week_of_calls(make_transaction, analyst):
    """About 150 alerts over the last week, each with the calls of its story."""
    rng = random.Random(7)
    now = timezone.now()
    for n in range(150):
        arrived = now - timedelta(hours=1 + n * 1.1, minutes=rng.randrange(60))
        story = STORIES[n % len(STORIES)]
        status = VERDICT.get(story[-1], Status.NOT_ANSWERED) if story else Status.PENDING
        txn = make_transaction(
            public_id=f"R{n:03d}",
            bank_name=BANKS[n % 3 == 0],
            phone=PHONES[n % len(PHONES)],
            status=status,
        )
        Transaction.objects.filter(pk=txn.pk).update(created_at=arrived)
        at = arrived
        for k, outcome in enumerate(story):
            at += timedelta(minutes=rng.choice([4, 9, 25, 70, 200]) if k == 0 else 190)
            if at > now:
                break
            person = outcome in (*VERDICT, CallOutcome.OPTED_OUT, CallOutcome.UNCLEAR)
            call = CallAttempt.objects.create(
                transaction=txn,
                trigger=CallTrigger.MANUAL
                if n % 11 == 0
                else (CallTrigger.BULK if k == 0 else CallTrigger.RETRY),
                placed_by=analyst if n % 11 == 0 else None,
                outcome=outcome,
                answered_at=at + timedelta(seconds=15) if person else None,
                ended_at=at + timedelta(minutes=2),
                duration_seconds=rng.randrange(40, 300) if person else None,
            )
            CallAttempt.objects.filter(pk=call.pk).update(created_at=at)
            if person:
                _conversation(call, rng, outcome)
            if outcome == CallOutcome.OPTED_OUT:
                Transaction.objects.filter(pk=txn.pk).update(opted_out_at=at + timedelta(minutes=1))
        if n % 13 == 0 and status == Status.PENDING:
            AuditEntry.objects.create(
                transaction=txn, field="status", old_value=Status.PENDING, new_value=Status.FRAUD
            )
            Transaction.objects.filter(pk=txn.pk).update(status=Status.FRAUD)


def _conversation(call, rng, outcome):
    prompt, answer = CallEvent.Kind.PROMPT, CallEvent.Kind.ANSWER
    events = [(prompt, "0", "", "")]
    if rng.random() < 0.3:  # silence, then asked again
        events += [(answer, "0", "", ""), (prompt, "0", "", "")]
    keypad = rng.random() < 0.4
    events.append((answer, "0", "1" if keypad else "", "" if keypad else "yes"))
    if outcome == CallOutcome.DENIED:
        for step in ("1", "2", "4"):
            events += [
                (prompt, step, "", ""),
                (answer, step, "2" if rng.random() < 0.5 else "", "no"),
            ]
    CallEvent.objects.bulk_create(
        CallEvent(call=call, kind=kind, step=step, digits=digits, speech_result=speech)
        for kind, step, digits, speech in events
    )


def _arrived_since(day) -> int:
    return Transaction.objects.filter(created_at__date__gte=day).count()


def test_a_supervisor_changes_the_period_and_finds_every_chart_with_its_table(
    new_page, sam, alice, make_transaction, settings
):
    settings.CALLING_HOURS = "08:00-21:00"  # the live fixture opens them all day
    _a_week_of_calls(make_transaction, alice)
    page = new_page(sam, width=1400)
    page.goto("/")
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    today = timezone.localdate()
    funnel = page.locator("#fig-funnel .chart-desc")
    expect(funnel).to_have_text(
        re.compile(rf"^{_arrived_since(today - timedelta(days=6))} alerts ")
    )

    start = (today - timedelta(days=2)).isoformat()
    page.get_by_label("From", exact=True).fill(start)
    page.get_by_label("To", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(rf"/reports\?from={start}&to={today}&bank="))
    expect(funnel).to_have_text(
        re.compile(rf"^{_arrived_since(today - timedelta(days=2))} alerts ")
    )

    for key in BUILDERS:
        figure = page.locator(f"#fig-{key}")
        svg = figure.locator("svg[role=img]")
        expect(svg).to_be_visible()
        expect(svg.locator("> title")).to_have_count(1)
        title = svg.locator("> title").text_content()
        expect(figure.get_by_role("heading", level=2)).to_have_text(title)
        table = figure.get_by_role("table")
        expect(table).to_be_visible()
        expect(table.locator("tbody tr").first).to_be_visible()
    expect(page.locator("#fig-outcomes rect.bar").first).to_be_visible()
    expect(page.locator("#fig-verdict_time polyline").first).to_be_attached()

    page.evaluate("document.activeElement.blur()")
    page.screenshot(path=str(_screenshot_dir() / "reports.png"), full_page=True)

    with page.expect_download() as download_info:
        page.get_by_role(
            "link", name="Download “Time from alert to verdict (minutes)” as CSV"
        ).click()
    rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text())))
    assert rows[0] == ["Day", "Verdicts", "Median (min)", "90th percentile (min)"]
    assert [r[0] for r in rows[1:]] == [(today - timedelta(days=d)).isoformat() for d in (2, 1, 0)]

    page.get_by_role("link", name="Contact-rules report").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Contact rules")
    expect(page.locator("#rules-table tbody tr")).to_have_count(5)
    page.screenshot(path=str(_screenshot_dir() / "contact-rules.png"), full_page=True)
    assert page.js_errors == []
    assert page.csp_violations() == []


def test_a_bad_period_is_explained_on_the_page(new_page, alice):
    page = new_page(alice)
    page.goto("/reports?from=2026-03-05&to=2026-03-01")
    expect(page.get_by_role("alert")).to_contain_text("The period starts after it ends")
    expect(page.locator("figure.chart")).to_have_count(0)
    assert page.csp_violations() == []
