"""The supervisors' figures, computed from the recorded calls, their events and the audit trail.

`compute_day(day)` works out one day for every bank: {bank: figures}, each a
JSON-ready dict (the worker stores it as is in DailyFigures). `report(...)`
adds the days of a period up, for all banks or one, from the rollup where a
day is in it and directly where it is not. Nothing here knows of HTTP.

Days are the dashboard's (settings.TIME_ZONE). An alert's figures (funnel, time
to verdict, calls per verdict) belong to the day it arrived (Transaction.created_at);
a call's (outcomes, answer rates, questions, contact rules) to the day it was placed.
Attempts a dead worker never placed (autocall.LOST) count for nothing, as in autocall.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from transactions.models import (
    FINAL_STATUSES,
    AuditEntry,
    CallAttempt,
    CallEvent,
    CallOutcome,
    Status,
    Transaction,
)
from voiceflow import autocall

from .models import DailyFigures, RollupDay

RESULTS = {
    "confirmed": "Confirmed (customer made it)",
    "denied": "Denied (fraud)",
    "needs_review": "Needs review",
    "opted_out": "Opted out",
    "unreachable": "Not reached",
    "open": "No verdict yet",
}
# A call's outcome; "live": still on the line; "none": ended with no outcome recorded.
OUTCOMES = {
    **{o.value: o.label for o in CallOutcome if o.value},
    "live": "On the line",
    "none": "Ended, no outcome",
}
UNANSWERED = (
    CallOutcome.NO_ANSWER,
    CallOutcome.BUSY,
    CallOutcome.VOICEMAIL,
    CallOutcome.FAILED,
    CallOutcome.DROPPED,
)
VERDICT_CALLS = ("0", "1", "2", "3", "4+")
QUESTIONS = {
    0: "Did you make this payment?",
    1: "Did you share your card details?",
    2: "Other suspicious payments?",
    4: "Physical or virtual card?",
}
QUESTION_FIELDS = ("asked", "calls", "keypad", "voice", "silent")
RULES = (
    "over_limit",
    "auto_outside_hours",
    "manual_outside_hours",
    "auto_after_opt_out",
    "manual_after_opt_out",
)
# Broken by an automatic call, these must be none; calls by hand are allowed, and listed.
MUST_BE_NONE = ("over_limit", "auto_outside_hours", "auto_after_opt_out")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_SUMMED = ("alerts", "called", "answered", "calls", "calls_answered")
_COUNTED = ("results", "calls_per_verdict", "outcomes")
_ELEMENTWISE = ("hour_calls", "hour_answered", "weekday_calls", "weekday_answered")


def empty() -> dict:
    """The figures of a day, bank or period with nothing in it."""
    return {
        **dict.fromkeys(_SUMMED, 0),
        "results": dict.fromkeys(RESULTS, 0),
        "verdict_seconds": [],
        "calls_per_verdict": dict.fromkeys(VERDICT_CALLS, 0),
        "outcomes": dict.fromkeys(OUTCOMES, 0),
        "hour_calls": [0] * 24,
        "hour_answered": [0] * 24,
        "weekday_calls": [0] * 7,
        "weekday_answered": [0] * 7,
        "questions": {str(s): dict.fromkeys(QUESTION_FIELDS, 0) for s in QUESTIONS},
        "rules": _no_rules(),  # [[call id, customer's local time, alert id], ...] per rule
        # What the contact-rules page counts, without reading the lists: calls per rule,
        # and the alerts of each rule that must hold.
        "rule_counts": dict.fromkeys(RULES, 0),
        "rule_alerts": {rule: [] for rule in MUST_BE_NONE},
        "longest": None,  # [seconds, call id]
    }


def add(total: dict, more: dict) -> dict:
    """Add `more` into `total` (both figures dicts); returns total."""
    for key in _SUMMED:
        total[key] += more[key]
    for key in _COUNTED:
        for name, n in more[key].items():
            total[key][name] = total[key].get(name, 0) + n
    for key in _ELEMENTWISE:
        total[key] = [a + b for a, b in zip(total[key], more[key], strict=True)]
    total["verdict_seconds"] = total["verdict_seconds"] + more["verdict_seconds"]
    for step, counts in more["questions"].items():
        mine = total["questions"].setdefault(step, dict.fromkeys(QUESTION_FIELDS, 0))
        for name, n in counts.items():
            mine[name] += n
    for rule, ids in more["rules"].items():
        total["rules"][rule] = total["rules"][rule] + ids
    for rule, n in more["rule_counts"].items():
        total["rule_counts"][rule] += n
    for rule, ids in more["rule_alerts"].items():
        total["rule_alerts"][rule] = total["rule_alerts"][rule] + ids
    if more["longest"] and (not total["longest"] or more["longest"][0] > total["longest"][0]):
        total["longest"] = more["longest"]
    return total


def day_bounds(day: date) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    start = datetime.combine(day, time.min, tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)


# --- one day, every bank ------------------------------------------------------------


def compute_day(day: date) -> dict[str, dict]:
    """{bank: figures} for `day`, straight from the ledger."""
    start, end = day_bounds(day)
    banks: dict[str, dict] = defaultdict(empty)
    _alerts(banks, start, end)
    _calls(banks, start, end)
    _questions(banks, start, end)
    for f in banks.values():
        count_rules(f)
    return dict(banks)


def count_rules(f: dict) -> None:
    """Fill a day's rule_counts and rule_alerts from its rules' lists."""
    f["rule_counts"] = {rule: len(entries) for rule, entries in f["rules"].items()}
    f["rule_alerts"] = {rule: sorted({e[2] for e in f["rules"][rule]}) for rule in MUST_BE_NONE}


def _alerts(banks, start, end):
    """Funnel, time to verdict and calls per verdict of the alerts that arrived in [start, end)."""
    arrived = Q(transaction__created_at__gte=start, transaction__created_at__lt=end)
    calls = defaultdict(list)
    for txn_id, at, answered_at, outcome in (
        CallAttempt.objects.filter(arrived)
        .exclude(error_code=autocall.LOST)
        .order_by("created_at", "id")
        .values_list("transaction_id", "created_at", "answered_at", "outcome")
    ):
        calls[txn_id].append((at, answered_at, outcome))
    set_by_hand = {}
    for txn_id, at in (
        AuditEntry.objects.filter(arrived, field="status", new_value__in=FINAL_STATUSES)
        .order_by("-created_at")
        .values_list("transaction_id", "created_at")
    ):
        set_by_hand[txn_id] = at  # the earliest wins: newest first, overwritten
    alerts = Transaction.objects.filter(created_at__gte=start, created_at__lt=end)
    for pk, bank, status, review, opted_out_at, created_at in alerts.values_list(
        "pk", "bank_name", "status", "needs_review", "opted_out_at", "created_at"
    ):
        f = banks[bank]
        mine = calls.get(pk, [])
        answered = any(answered_at for _, answered_at, _ in mine)
        f["alerts"] += 1
        f["called"] += bool(mine)
        f["answered"] += answered
        f["results"][_result(status, review, opted_out_at, bool(mine), answered)] += 1
        if status not in FINAL_STATUSES:
            continue
        # The first verdict: the pick-up of the call where the customer gave it, or a
        # supervisor's status by hand, whichever came first.
        heard = [a or at for at, a, o in mine if o in (CallOutcome.CONFIRMED, CallOutcome.DENIED)]
        moments = [m for m in (heard[0] if heard else None, set_by_hand.get(pk)) if m]
        if not moments:
            continue
        verdict_at = min(moments)
        f["verdict_seconds"].append(max(0, round((verdict_at - created_at).total_seconds())))
        before = sum(1 for at, _, _ in mine if at <= verdict_at)
        f["calls_per_verdict"][VERDICT_CALLS[min(before, 4)]] += 1


def _result(status, review, opted_out_at, called, answered) -> str:
    if review:
        return "needs_review"
    if status == Status.RESOLVED:
        return "confirmed"
    if status == Status.FRAUD:
        return "denied"
    if opted_out_at:
        return "opted_out"
    if called and not answered:
        return "unreachable"
    return "open"


def _calls(banks, start, end):
    """Outcomes, answer rates, contact rules, longest call: calls placed in [start, end)."""
    placed = CallAttempt.objects.filter(created_at__gte=start, created_at__lt=end).exclude(
        error_code=autocall.LOST
    )
    rows = list(
        placed.order_by("created_at", "id").values_list(
            "pk",
            "transaction_id",
            "transaction__bank_name",
            "transaction__phone",
            "transaction__opted_out_at",
            "trigger",
            "created_at",
            "answered_at",
            "ended_at",
            "outcome",
            "duration_seconds",
        )
    )
    if not rows:
        return
    phone_at = _phones_then(placed, start)
    too_many = _over_the_limit(placed, start, end)
    zones = {}
    for (
        pk,
        txn_id,
        bank,
        phone,
        opted_out_at,
        trigger,
        at,
        answered_at,
        ended,
        outcome,
        secs,
    ) in rows:
        f = banks[bank]
        f["calls"] += 1
        f["calls_answered"] += answered_at is not None
        f["outcomes"][outcome or ("live" if ended is None else "none")] += 1
        phone = phone_at(txn_id, at, phone)
        if phone not in zones:
            zones[phone] = autocall.customer_time_zone(phone)
        local = at.astimezone(zones[phone])
        f["hour_calls"][local.hour] += 1
        f["hour_answered"][local.hour] += answered_at is not None
        f["weekday_calls"][local.weekday()] += 1
        f["weekday_answered"][local.weekday()] += answered_at is not None
        automatic = trigger in autocall.AUTOMATIC_TRIGGERS
        entry = [pk, f"{local:%Y-%m-%d %H:%M} {zones[phone].key}", txn_id]
        # The very test the dispatcher and the placing task apply before an automatic call.
        if phone and autocall.calling_window_opening(phone, at) is not None:
            f["rules"]["auto_outside_hours" if automatic else "manual_outside_hours"].append(entry)
        if opted_out_at and opted_out_at < at:
            f["rules"]["auto_after_opt_out" if automatic else "manual_after_opt_out"].append(entry)
        if pk in too_many:
            f["rules"]["over_limit"].append(entry)
        if secs is not None and (not f["longest"] or secs > f["longest"][0]):
            f["longest"] = [secs, pk]


def _phones_then(placed, start):
    """phone_at(txn_id, when, phone_now): the number the row had at `when`, from the audit trail.

    A phone edit after `when` recorded the number the call went to as its old value.
    """
    edits = defaultdict(list)
    for txn_id, at, old in (
        AuditEntry.objects.filter(
            field="phone", created_at__gte=start, transaction__in=placed.values("transaction_id")
        )
        .order_by("created_at", "id")
        .values_list("transaction_id", "created_at", "old_value")
    ):
        edits[txn_id].append((at, old))

    def phone_at(txn_id, when, phone_now):
        return next((old for at, old in edits.get(txn_id, ()) if at > when), phone_now)

    return phone_at


def _over_the_limit(placed, start, end) -> set[int]:
    """Automatic calls that were more than max_calls() within CALL_RETRY_WINDOW_HOURS."""
    window = timedelta(hours=settings.CALL_RETRY_WINDOW_HOURS)
    automatic = Q(trigger__in=autocall.AUTOMATIC_TRIGGERS)
    earlier = defaultdict(list)
    for pk, txn_id, at in (
        CallAttempt.objects.filter(
            automatic,
            created_at__gt=start - window,
            created_at__lt=end,
            transaction__in=placed.filter(automatic).values("transaction_id"),
        )
        .exclude(error_code=autocall.LOST)
        .order_by("created_at", "id")
        .values_list("pk", "transaction_id", "created_at")
    ):
        earlier[txn_id].append((pk, at))
    breaches = set()
    for series in earlier.values():
        for i, (pk, at) in enumerate(series):
            in_window = sum(1 for _, then in series[: i + 1] if then > at - window)
            if at >= start and in_window > autocall.max_calls():
                breaches.add(pk)
    return breaches


def _questions(banks, start, end):
    """Per question, in calls placed in [start, end): how often asked, and how answered."""
    prompt, answer = Q(kind=CallEvent.Kind.PROMPT), Q(kind=CallEvent.Kind.ANSWER)
    typed = ~Q(digits="")
    spoken = Q(digits="") & ~Q(speech_result="")
    rows = (
        CallEvent.objects.filter(
            call__created_at__gte=start,
            call__created_at__lt=end,
            step__in=[str(s) for s in QUESTIONS],
        )
        .exclude(call__error_code=autocall.LOST)
        .values("call__transaction__bank_name", "step")
        .annotate(
            asked=Count("id", filter=prompt),
            calls=Count("call", filter=prompt, distinct=True),
            keypad=Count("id", filter=answer & typed),
            voice=Count("id", filter=answer & spoken),
            silent=Count("id", filter=answer & Q(digits="", speech_result="")),
        )
        .order_by()
    )
    for row in rows:
        counts = banks[row["call__transaction__bank_name"]]["questions"][row["step"]]
        for name in QUESTION_FIELDS:
            counts[name] += row[name]


# --- the rollup -----------------------------------------------------------------------


def store_day(day: date, now: datetime | None = None) -> dict[str, dict]:
    """Compute `day` and replace its rollup rows; returns what was stored."""
    figures = compute_day(day)
    with transaction.atomic():
        # One writer per day: two refreshes that overlap wait here, not on a unique index.
        RollupDay.objects.get_or_create(day=day, defaults={"computed_at": now or timezone.now()})
        RollupDay.objects.select_for_update().get(day=day)
        DailyFigures.objects.filter(day=day).delete()
        DailyFigures.objects.bulk_create(
            DailyFigures(
                day=day,
                bank=bank,
                figures={k: v for k, v in f.items() if k != "rules"},
                rules=f["rules"],
            )
            for bank, f in figures.items()
        )
        RollupDay.objects.filter(day=day).update(computed_at=now or timezone.now())
    return figures


def touched_days(since: datetime, now: datetime) -> set[date]:
    """Days whose figures may have changed since `since`: today, yesterday, the arrival
    days of alerts changed or called since, and the days of calls placed since (a call's
    outcome lands within minutes of its start; an hour's margin covers a slow one)."""
    today = timezone.localdate(now)
    tz = timezone.get_default_timezone()
    recent_calls = CallAttempt.objects.filter(created_at__gte=since - timedelta(hours=1))
    alerts = (
        Transaction.objects.filter(updated_at__gte=since),
        Transaction.objects.filter(pk__in=recent_calls.values("transaction_id")),
    )
    days = {today, today - timedelta(days=1)}
    for rows in (*alerts, recent_calls):
        days.update(
            rows.annotate(day=TruncDate("created_at", tzinfo=tz))
            .order_by()
            .values_list("day", flat=True)
            .distinct()
        )
    return {d for d in days if d <= today}


def refresh(since: datetime, now: datetime | None = None) -> list[date]:
    """Recompute every day touched since `since` (the worker's periodic job)."""
    now = now or timezone.now()
    days = sorted(touched_days(since, now))
    for day in days:
        store_day(day, now)
    return days


# --- a period -------------------------------------------------------------------------


@dataclass
class Report:
    start: date
    end: date
    bank: str
    total: dict
    days: dict  # {date: figures}, every day of the period
    banks: list[str]  # banks with figures in the period
    as_of: datetime | None  # when the period's latest rollup day was computed; None: none used
    stored: set[date]  # the days read from the rollup

    def verdict_minutes(self) -> list[float]:
        return sorted(s / 60 for s in self.total["verdict_seconds"])


def report(
    start: date, end: date, bank: str = "", *, rollup: bool = True, rules: bool = False
) -> Report:
    """The figures of [start, end] (dates, both included) for one bank or all ("").

    `rules`: with every call each contact rule lists (the evidence download);
    without, total["rules"] is empty and the rollup's lists are not read
    (first_rule_calls reads the few the contact-rules page shows).
    """
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    stored, as_of = {}, None
    if rollup:
        computed = dict(RollupDay.objects.filter(day__in=days).values_list("day", "computed_at"))
        # Past days are final; the latest day's time says how fresh the figures are.
        as_of = computed[max(computed)] if computed else None
        stored = {day: {} for day in computed}
        columns = ("day", "bank", "figures", "rules") if rules else ("day", "bank", "figures")
        for row in DailyFigures.objects.filter(day__in=list(computed)).values_list(*columns):
            stored[row[0]][row[1]] = {**row[2], "rules": row[3] if rules else _no_rules()}
    total, per_day, banks = empty(), {}, set()
    for day in days:
        by_bank = stored[day] if day in stored else compute_day(day)
        banks.update(by_bank)
        per_day[day] = empty()
        for name in sorted(by_bank):  # one order, stored or not: equal lists
            if not bank or name == bank:
                figures = by_bank[name] if rules else {**by_bank[name], "rules": _no_rules()}
                add(per_day[day], figures)
        add(total, per_day[day])
    return Report(start, end, bank, total, per_day, sorted(banks), as_of, set(stored))


def _no_rules() -> dict:
    return {rule: [] for rule in RULES}


def percentile(values: list, p: float) -> float | None:
    """The p-th percentile (0–1) with linear interpolation, as PostgreSQL's percentile_cont."""
    if not values:
        return None
    ordered = sorted(values)
    rank = p * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


# --- the contact rules ----------------------------------------------------------------

RULE_TEXT = {
    "over_limit": "Automatic calls beyond {max} within {window} hours about one alert",
    "auto_outside_hours": "Automatic calls outside the customer's calling hours ({hours})",
    "manual_outside_hours": "Calls by hand outside the customer's calling hours ({hours})",
    "auto_after_opt_out": "Automatic calls after the customer opted out",
    "manual_after_opt_out": "Calls by hand after the customer opted out",
}
LISTED = 100  # calls the page lists per rule; the count is always whole, the evidence all
CHUNK = 1000  # ids per query: far under SQLite's limit on parameters


@dataclass
class RuleCall:
    call: CallAttempt
    local_time: str


def _chunks(pks: list) -> list[list]:
    return [pks[i : i + CHUNK] for i in range(0, len(pks), CHUNK)]


def first_rule_calls(r: Report, rule: str, listed: int) -> list:
    """The first `listed` entries of `rule` in `r`'s period, in the order report() adds them,
    reading only that rule's list of only the first days that have any."""
    days, n = [], 0
    for day, f in r.days.items():
        if n >= listed:
            break
        if f["rule_counts"][rule]:
            days.append(day)
            n += f["rule_counts"][rule]
    by_day = defaultdict(list)
    rows = DailyFigures.objects.filter(day__in=[d for d in days if d in r.stored])
    if r.bank:
        rows = rows.filter(bank=r.bank)
    for day, entries in rows.order_by("day", "bank").values_list("day", f"rules__{rule}"):
        by_day[day] += entries or []
    entries = []
    for day in days:
        if day not in r.stored:  # not in the rollup: worked out as report() did
            by_bank = compute_day(day)
            for name in sorted(b for b in by_bank if not r.bank or b == r.bank):
                by_day[day] += by_bank[name]["rules"][rule]
        entries += by_day[day]
    return entries[:listed]


def contact_rules(r: Report, listed: int | None = LISTED) -> dict:
    """The contact-rules report of `r`: per rule its count, whether it holds, and its calls
    (the first `listed` of each, read from the rollup; None: every one, as the evidence
    download has them, from a report() made with rules=True)."""
    if listed is None:
        rules = r.total["rules"]
    else:
        rules = {rule: first_rule_calls(r, rule, listed) for rule in RULES}
    wanted = {entry[0] for rule in RULES for entry in rules[rule][:listed]}
    longest = r.total["longest"]
    if longest:
        wanted.add(longest[1])
    calls = {}
    for chunk in _chunks(sorted(wanted)):
        calls.update(CallAttempt.objects.select_related("transaction", "placed_by").in_bulk(chunk))
    out = []
    for rule in RULES:
        count = r.total["rule_counts"][rule]
        text = RULE_TEXT[rule].format(
            max=autocall.max_calls(),
            window=settings.CALL_RETRY_WINDOW_HOURS,
            hours=settings.CALLING_HOURS,
        )
        # Alerts are counted where the rule must hold; each entry names its alert.
        alerts = len(set(r.total["rule_alerts"][rule])) if rule in MUST_BE_NONE else None
        out.append(
            {
                "key": rule,
                "text": text,
                "count": count,
                "alerts": alerts,
                "must_be_none": rule in MUST_BE_NONE,
                "holds": rule not in MUST_BE_NONE or not count,
                "calls": [
                    RuleCall(calls[pk], local)
                    for pk, local, _ in rules[rule][:listed]
                    if pk in calls
                ],
            }
        )
    return {
        "rules": out,
        "holds": all(rule["holds"] for rule in out),
        "longest": (calls.get(longest[1]), longest[0]) if longest else None,
    }
