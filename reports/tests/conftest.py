"""A hand-built ledger for the reports: alerts, calls, what was said and who changed what.

Two days, Monday 2 and Tuesday 3 March 2026, in the dashboard's zone (Asia/Kolkata);
customers in India, New York (EST, UTC-5 before 8 March) and London (GMT).
Calling hours 08:00-21:00, at most three automatic calls in 72 hours.
Every figure the tests expect is worked out by hand in test_figures.py.
"""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from transactions.models import (
    AuditEntry,
    CallAttempt,
    CallEvent,
    CallOutcome,
    CallTrigger,
    Status,
    Transaction,
)

IST = ZoneInfo("Asia/Kolkata")
MONDAY, TUESDAY = date(2026, 3, 2), date(2026, 3, 3)
INDIA, NEW_YORK, LONDON = "+919876543210", "+12125550100", "+442071234567"
ALPHA, BETA = "Alpha Bank", "Beta Bank"


def at(day: date, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=IST)


@pytest.fixture
def report_settings(settings):
    settings.TIME_ZONE = "Asia/Kolkata"
    settings.CALLING_HOURS = "08:00-21:00"
    settings.DEFAULT_CUSTOMER_TIME_ZONE = "Asia/Kolkata"
    settings.CALL_RETRY_WINDOW_HOURS = 72
    settings.CALL_RETRY_DELAYS_MINUTES = [15, 180]
    return settings


class Ledger:
    def __init__(self, make_transaction):
        self._make = make_transaction
        self.calls = {}

    def alert(self, name, when, bank, phone, **fields):
        txn = self._make(public_id=name, bank_name=bank, phone=phone, **fields)
        Transaction.objects.filter(pk=txn.pk).update(created_at=when)
        return txn

    def call(self, name, txn, when, trigger, outcome, *, answered=None, seconds=None, **fields):
        call = CallAttempt.objects.create(
            transaction=txn,
            trigger=trigger,
            outcome=outcome,
            answered_at=answered,
            ended_at=when + timedelta(minutes=10),
            duration_seconds=seconds,
            **fields,
        )
        CallAttempt.objects.filter(pk=call.pk).update(created_at=when)
        self.calls[name] = call
        return call

    def audit(self, txn, when, field, old, new, user=None):
        entry = AuditEntry.objects.create(
            transaction=txn, user=user, field=field, old_value=old, new_value=new
        )
        AuditEntry.objects.filter(pk=entry.pk).update(created_at=when)

    def said(self, call, *events):
        CallEvent.objects.bulk_create(
            CallEvent(call=call, kind=kind, step=step, digits=digits, speech_result=speech)
            for kind, step, digits, speech in events
        )


PROMPT, ANSWER = CallEvent.Kind.PROMPT, CallEvent.Kind.ANSWER
BULK, RETRY, MANUAL = CallTrigger.BULK, CallTrigger.RETRY, CallTrigger.MANUAL


@pytest.fixture
def ledger(report_settings, make_transaction, alice, sam):
    led = Ledger(make_transaction)
    # T1: no answer, then the retry is answered and confirmed: 2 calls, verdict after 31 min.
    t1 = led.alert("T1", at(MONDAY, 9), ALPHA, INDIA, status=Status.RESOLVED)
    led.call("t1a", t1, at(MONDAY, 9, 10), BULK, CallOutcome.NO_ANSWER)
    t1b = led.call(
        "t1b", t1, at(MONDAY, 9, 30), RETRY, CallOutcome.CONFIRMED, answered=at(MONDAY, 9, 31)
    )
    led.said(t1b, (PROMPT, "0", "", ""), (ANSWER, "0", "1", ""))
    # T2: an analyst's call, denied after 5.5 min; the fraud questions, one asked twice.
    t2 = led.alert("T2", at(MONDAY, 10), ALPHA, INDIA, status=Status.FRAUD)
    t2a = led.call(
        "t2a",
        t2,
        at(MONDAY, 10, 5),
        MANUAL,
        CallOutcome.DENIED,
        answered=at(MONDAY, 10, 5, 30),
        seconds=300,
        placed_by=alice,
    )
    led.said(
        t2a,
        (PROMPT, "0", "", ""),
        (ANSWER, "0", "", "no"),
        (PROMPT, "1", "", ""),
        (ANSWER, "1", "", ""),  # silence
        (PROMPT, "reask", "", ""),  # the apology: not a question
        (PROMPT, "1", "", ""),
        (ANSWER, "1", "2", ""),
        (PROMPT, "2", "", ""),
        (ANSWER, "2", "", "no"),
        (PROMPT, "3", "", ""),  # a statement, not a question
        (PROMPT, "4", "", ""),
        (ANSWER, "4", "2", ""),
    )
    # T3 (New York): four automatic calls within 72 hours, the first at 00:30 there.
    t3 = led.alert("T3", at(MONDAY, 11), BETA, NEW_YORK, status=Status.NOT_ANSWERED)
    led.call("t3a", t3, at(MONDAY, 11), BULK, CallOutcome.VOICEMAIL, answered_by="machine_start")
    led.call("t3b", t3, at(MONDAY, 19, 30), RETRY, CallOutcome.BUSY)  # 09:00 in New York
    led.call("t3c", t3, at(TUESDAY, 2, 30), RETRY, CallOutcome.NO_ANSWER)  # Monday 16:00 there
    led.call("t3d", t3, at(TUESDAY, 18, 30), BULK, CallOutcome.FAILED)  # 08:00 there: the 4th
    # T4 (London): opts out on the first call; a retry and an analyst's call follow.
    t4 = led.alert(
        "T4",
        at(TUESDAY, 12),
        BETA,
        LONDON,
        status=Status.NOT_ANSWERED,
        opted_out_at=at(TUESDAY, 14, 1),
    )
    led.call(
        "t4a", t4, at(TUESDAY, 14), BULK, CallOutcome.OPTED_OUT, answered=at(TUESDAY, 14, 0, 20)
    )
    led.call("t4b", t4, at(TUESDAY, 16), RETRY, CallOutcome.NO_ANSWER)
    led.call("t4c", t4, at(TUESDAY, 23), MANUAL, CallOutcome.BUSY, placed_by=sam)
    # T5: a supervisor marks it fraud an hour after it arrived, before any call.
    t5 = led.alert("T5", at(TUESDAY, 8), ALPHA, INDIA, status=Status.FRAUD)
    led.audit(t5, at(TUESDAY, 9), "status", Status.PENDING, Status.FRAUD, sam)
    # T6: marked fraud by hand, then the customer confirms at 22:30 (after hours): review.
    t6 = led.alert("T6", at(TUESDAY, 9), ALPHA, INDIA, status=Status.FRAUD, needs_review=True)
    led.audit(t6, at(TUESDAY, 9, 30), "status", Status.PENDING, Status.FRAUD, sam)
    led.call(
        "t6a",
        t6,
        at(TUESDAY, 22, 30),
        MANUAL,
        CallOutcome.CONFIRMED,
        answered=at(TUESDAY, 22, 30, 10),
        placed_by=alice,
    )
    # T7: never called; its only attempt's worker died before Twilio took it.
    t7 = led.alert("T7", at(TUESDAY, 10), BETA, INDIA)
    led.call("t7a", t7, at(TUESDAY, 11), BULK, CallOutcome.FAILED, error_code="worker-lost")
    # T8: arrived the day before the period; its call, the longest, is in it.
    t8 = led.alert("T8", at(date(2026, 3, 1), 20), ALPHA, INDIA, status=Status.RESOLVED)
    led.call(
        "t8a",
        t8,
        at(MONDAY, 12),
        MANUAL,
        CallOutcome.CONFIRMED,
        answered=at(MONDAY, 12, 0, 5),
        seconds=600,
        placed_by=alice,
    )
    # T9: called at 13:10 on a New York number (02:40 there), corrected to India at 14:00.
    t9 = led.alert("T9", at(MONDAY, 13), BETA, "+919876543219", status=Status.NOT_ANSWERED)
    led.call("t9a", t9, at(MONDAY, 13, 10), BULK, CallOutcome.NO_ANSWER)
    led.audit(t9, at(MONDAY, 14), "phone", NEW_YORK, "+919876543219", alice)
    return led
