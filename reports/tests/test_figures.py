"""Every figure of the reports, checked against the hand-built ledger (tests/conftest.py)."""

import pytest

from reports import charts, figures

from .conftest import ALPHA, BETA, MONDAY, TUESDAY

pytestmark = pytest.mark.django_db


def _report(bank=""):
    return figures.report(MONDAY, TUESDAY, bank, rollup=False, rules=True)


def _table(chart):
    return {row[0]: row[1:] for row in chart.rows}


def test_the_funnel_counts_alerts_that_arrived_in_the_period(ledger):
    t = _report().total
    # T8 arrived the day before; T7's only attempt was never placed (worker lost).
    assert (t["alerts"], t["called"], t["answered"]) == (8, 6, 4)
    assert t["results"] == {
        "confirmed": 1,  # T1
        "denied": 2,  # T2, T5 (by hand)
        "needs_review": 1,  # T6
        "opted_out": 1,  # T4
        "unreachable": 2,  # T3 (voicemail is no person), T9
        "open": 1,  # T7
    }
    table = _table(charts.funnel(_report()))
    assert table["Alerts"] == [8, 100.0]
    assert table["Answered by a person"] == [4, 50.0]
    assert table["Not reached"] == [2, 25.0]


def test_time_to_verdict_runs_from_the_alert_to_the_first_verdict(ledger):
    r = _report()
    # T1 answered 31 min after, T2 5.5 min; T5 and T6 marked by hand after 60 and 30 min.
    assert sorted(r.days[MONDAY]["verdict_seconds"]) == [330, 1860]
    assert sorted(r.days[TUESDAY]["verdict_seconds"]) == [1800, 3600]
    assert _table(charts.verdict_time(r)) == {
        "2026-03-02": [2, 18.2, 28.4],  # median (5.5+31)/2 = 18.25; p90 5.5+0.9*25.5 = 28.45
        "2026-03-03": [2, 45.0, 57.0],
    }
    minutes = r.verdict_minutes()
    assert figures.percentile(minutes, 0.5) == pytest.approx(30.5)
    assert figures.percentile(minutes, 0.9) == pytest.approx(31 + 0.7 * 29)


def test_calls_per_verdict_counts_the_calls_up_to_the_verdict(ledger):
    # T1 on its 2nd call, T2 on its 1st; T5 and T6 by hand before any call.
    assert _report().total["calls_per_verdict"] == {"0": 2, "1": 1, "2": 1, "3": 0, "4+": 0}


def test_outcomes_per_day_count_the_calls_placed_that_day(ledger):
    r = _report()
    monday = {k: v for k, v in r.days[MONDAY]["outcomes"].items() if v}
    tuesday = {k: v for k, v in r.days[TUESDAY]["outcomes"].items() if v}
    assert monday == {"no-answer": 2, "confirmed": 2, "denied": 1, "voicemail": 1, "busy": 1}
    assert tuesday == {"no-answer": 2, "failed": 1, "opted-out": 1, "busy": 1, "confirmed": 1}
    assert (r.total["calls"], r.total["calls_answered"]) == (13, 5)
    assert _table(charts.unanswered(r)) == {
        "Not answered": [4, 30.8],
        "Busy": [2, 15.4],
        "Voicemail": [1, 7.7],
        "Failed": [1, 7.7],
        "Dropped before an answer": [0, 0.0],
    }


def test_answer_rates_use_the_customers_local_hour_and_weekday(ledger):
    t = _report().total
    calls = {h: n for h, n in enumerate(t["hour_calls"]) if n}
    answered = {h: n for h, n in enumerate(t["hour_answered"]) if n}
    # New York's 00:30, 02:40 (T9's number then), 09:00, 16:00 and 08:00; London's 08:30,
    # 10:30, 17:30; the rest Indian time.
    assert calls == {0: 1, 2: 1, 8: 2, 9: 3, 10: 2, 12: 1, 16: 1, 17: 1, 22: 1}
    assert answered == {8: 1, 9: 1, 10: 1, 12: 1, 22: 1}
    # T3's third call is Tuesday in India but Monday afternoon in New York.
    assert t["weekday_calls"] == [8, 5, 0, 0, 0, 0, 0]
    assert t["weekday_answered"] == [3, 2, 0, 0, 0, 0, 0]
    assert _table(charts.answer_by_hour(_report()))["09"] == [3, 1, 33.3]


def test_each_question_counts_its_asks_and_how_it_was_answered(ledger):
    q = _report().total["questions"]
    assert q == {
        "0": {"asked": 2, "calls": 2, "keypad": 1, "voice": 1, "silent": 0},
        "1": {"asked": 2, "calls": 1, "keypad": 1, "voice": 0, "silent": 1},
        "2": {"asked": 1, "calls": 1, "keypad": 0, "voice": 1, "silent": 0},
        "4": {"asked": 1, "calls": 1, "keypad": 1, "voice": 0, "silent": 0},
    }
    row = _table(charts.questions(_report()))["1: Did you share your card details?"]
    assert row == [2, 1, 1, 100.0, 1, 0, 1]


def test_the_contact_rules_find_each_broken_and_each_listed_call(ledger):
    rules = figures.contact_rules(_report())
    by_rule = {rule["key"]: rule for rule in rules["rules"]}
    listed = {key: [c.call.pk for c in rule["calls"]] for key, rule in by_rule.items()}
    calls = ledger.calls
    assert listed == {
        "over_limit": [calls["t3d"].pk],
        "auto_outside_hours": [calls["t3a"].pk, calls["t9a"].pk],
        "manual_outside_hours": [calls["t6a"].pk],
        "auto_after_opt_out": [calls["t4b"].pk],
        "manual_after_opt_out": [calls["t4c"].pk],
    }
    assert by_rule["over_limit"]["alerts"] == 1
    then = by_rule["auto_outside_hours"]["calls"][1].local_time
    assert then == "2026-03-02 02:40 America/New_York"
    assert by_rule["manual_outside_hours"]["calls"][0].call.placed_by.username == "alice"
    assert not rules["holds"]
    assert [rule["holds"] for rule in rules["rules"]] == [False, False, True, False, True]
    call, seconds = rules["longest"]
    assert (call.pk, seconds) == (calls["t8a"].pk, 600)


def test_the_contact_rules_hold_when_no_automatic_call_broke_them(ledger):
    rules = figures.contact_rules(figures.report(MONDAY, MONDAY, ALPHA, rollup=False, rules=True))
    assert rules["holds"]
    assert [rule["count"] for rule in rules["rules"]] == [0, 0, 0, 0, 0]


def test_one_banks_figures_leave_the_others_out(ledger):
    t = _report(BETA).total
    assert (t["alerts"], t["called"], t["answered"], t["calls"]) == (4, 3, 1, 8)
    assert {k: v for k, v in t["results"].items() if v} == {
        "unreachable": 2,
        "opted_out": 1,
        "open": 1,
    }
    assert _report(ALPHA).total["alerts"] + t["alerts"] == 8
    assert _report("No Such Bank").total == figures.empty()


def test_the_rollup_gives_the_same_figures_as_the_ledger(ledger):
    for day in (MONDAY, TUESDAY):
        figures.store_day(day)
    for bank in ("", ALPHA, BETA):
        for rules in (False, True):
            stored = figures.report(MONDAY, TUESDAY, bank, rules=rules)
            direct = figures.report(MONDAY, TUESDAY, bank, rollup=False, rules=rules)
            assert stored.as_of is not None
            assert stored.total == direct.total
            assert stored.days == direct.days
            assert stored.banks == direct.banks == [ALPHA, BETA]
    assert figures.report(MONDAY, TUESDAY, rules=True).total["rules"]["over_limit"]


@pytest.mark.parametrize("stored_days", [(), (MONDAY,), (MONDAY, TUESDAY)])
@pytest.mark.parametrize("listed", [1, 2, figures.LISTED])
def test_the_page_lists_the_first_calls_of_the_evidence_reading_only_those(
    ledger, stored_days, listed
):
    for day in stored_days:
        figures.store_day(day)
    for bank in ("", ALPHA, BETA):
        evidence = figures.contact_rules(
            figures.report(MONDAY, TUESDAY, bank, rules=True), listed=None
        )
        page = figures.contact_rules(figures.report(MONDAY, TUESDAY, bank), listed=listed)
        for full, shown in zip(evidence["rules"], page["rules"], strict=True):
            assert shown["calls"] == full["calls"][:listed]
            assert (shown["count"], shown["alerts"]) == (full["count"], full["alerts"])
            assert shown["count"] == len(full["calls"])
        assert page["longest"] == evidence["longest"]


def test_the_page_s_figures_leave_the_rules_lists_out(ledger):
    assert figures.report(MONDAY, TUESDAY, rollup=False).total["rules"] == figures.empty()["rules"]
