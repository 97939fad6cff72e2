"""Each figure of a Report as a table (under its chart; its CSV) and an SVG chart's geometry.

The templates draw the SVG from these numbers (rectangles, polylines, ticks):
no chart library, no script, and colours come from CSS classes, as the CSP asks.
"""

import math
from dataclasses import dataclass, field

from .figures import OUTCOMES, QUESTIONS, RESULTS, UNANSWERED, VERDICT_CALLS, WEEKDAYS, percentile

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 60, 16, 14, 52
MAX_X_LABELS = 16
MAX_TICKS = 5  # steps on the value axis


@dataclass
class Chart:
    key: str
    title: str
    description: str
    x_label: str
    y_label: str
    columns: list[str]
    rows: list[list]
    kind: str = "bars"  # or "line"
    bars: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    x_ticks: list = field(default_factory=list)
    y_ticks: list = field(default_factory=list)
    legend: list = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot(self) -> dict:
        return {
            "left": LEFT,
            "right": self.width - RIGHT,
            "top": TOP,
            "bottom": self.height - BOTTOM,
            "x_mid": (LEFT + self.width - RIGHT) / 2,
            "y_mid": (TOP + self.height - BOTTOM) / 2,
            "x_label_y": self.height - 8,
            "tick_x": LEFT - 6,
            "tick_y": self.height - BOTTOM + 16,
            "y_label_x": -(TOP + self.height - BOTTOM) / 2,
        }


def _rate(part, whole):
    return round(100 * part / whole, 1) if whole else None


def _nice_step(value: float) -> float:
    """The smallest 1, 2 or 5 × 10^k that reaches `value` in at most MAX_TICKS steps."""
    if value <= 0:
        return 1
    exp = 10 ** math.floor(math.log10(value / MAX_TICKS))
    return next(m * exp for m in (1, 2, 5, 10) if m * exp * MAX_TICKS >= value)


def _number(v) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.1f}"


def _y_axis(chart: Chart, top_value: float) -> float:
    step = _nice_step(top_value)
    steps = max(1, math.ceil(top_value / step))
    plot = chart.plot
    span = plot["bottom"] - plot["top"]
    chart.y_ticks = [
        {"y": round(plot["bottom"] - span * i / steps, 1), "label": _number(step * i)}
        for i in range(steps + 1)
    ]
    return step * steps


def _x_ticks(chart: Chart, centres: list[float], labels: list[str]):
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    chart.x_ticks = [
        {"x": round(x, 1), "label": label}
        for i, (x, label) in enumerate(zip(centres, labels, strict=True))
        if i % every == 0
    ]


def _draw_bars(chart: Chart, labels: list[str], series: list[tuple[str, str, list]]):
    """Stacked vertical bars: series [(css class, name, values per label)]."""
    plot = chart.plot
    totals = [sum(values[i] or 0 for _, _, values in series) for i in range(len(labels))]
    top = _y_axis(chart, max(totals, default=0))
    slot = (plot["right"] - plot["left"]) / max(1, len(labels))
    width = max(1.0, slot * 0.7)
    span = plot["bottom"] - plot["top"]
    centres = []
    for i, label in enumerate(labels):
        x = plot["left"] + slot * i + (slot - width) / 2
        centres.append(x + width / 2)
        base = plot["bottom"]
        for css, name, values in series:
            value = values[i] or 0
            if not value:
                continue
            h = span * value / top
            base -= h
            chart.bars.append(
                {
                    "x": round(x, 1),
                    "y": round(base, 1),
                    "w": round(width, 1),
                    "h": round(h, 1),
                    "css": css,
                    "title": f"{label}: {name} {_number(value)}",
                }
            )
    _x_ticks(chart, centres, labels)
    if len(series) > 1:
        chart.legend = [{"css": css, "name": name} for css, name, _ in series]


def _draw_lines(chart: Chart, labels: list[str], series: list[tuple[str, str, list]]):
    """Lines over labels: series [(css class, name, values, None where there is none)]."""
    chart.kind = "line"
    plot = chart.plot
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = _y_axis(chart, max(values, default=0))
    slot = (plot["right"] - plot["left"]) / max(1, len(labels))
    centres = [plot["left"] + slot * (i + 0.5) for i in range(len(labels))]
    span = plot["bottom"] - plot["top"]
    for css, name, vs in series:
        points = [
            (round(centres[i], 1), round(plot["bottom"] - span * v / top, 1))
            for i, v in enumerate(vs)
            if v is not None
        ]
        chart.lines.append(
            {
                "css": css,
                "name": name,
                "points": " ".join(f"{x},{y}" for x, y in points),
                "dots": [{"x": x, "y": y} for x, y in points],
            }
        )
    _x_ticks(chart, centres, labels)
    chart.legend = [{"css": css, "name": name} for css, name, _ in series]


# --- the figures -------------------------------------------------------------------------


def funnel(r) -> Chart:
    t = r.total
    steps = [
        ("alerts", "Alerts", t["alerts"]),
        ("called", "Called", t["called"]),
        ("answered", "Answered by a person", t["answered"]),
        *((key, label, t["results"][key]) for key, label in RESULTS.items()),
    ]
    chart = Chart(
        "funnel",
        "From alert to verdict",
        f"{t['alerts']} alerts arrived; {t['called']} were called, {t['answered']} "
        f"answered by a person; {t['results']['confirmed']} confirmed, "
        f"{t['results']['denied']} denied.",
        "Step",
        "Alerts",
        ["Step", "Alerts", "Share of alerts (%)"],
        [[label, n, _rate(n, t["alerts"])] for _, label, n in steps],
    )
    labels = ["Alerts", "Called", "Answered", "Confirmed", "Denied", "Review", "Opted out"]
    labels += ["Not reached", "No verdict"]
    _draw_bars(chart, labels, [("c-total", "Alerts", [n for _, _, n in steps])])
    return chart


def verdict_time(r) -> Chart:
    rows, medians, p90s = [], [], []
    for day, f in r.days.items():
        minutes = [s / 60 for s in f["verdict_seconds"]]
        median, p90 = percentile(minutes, 0.5), percentile(minutes, 0.9)
        medians.append(median)
        p90s.append(p90)
        rows.append([day.isoformat(), len(minutes), _round(median), _round(p90)])
    overall = r.verdict_minutes()
    chart = Chart(
        "verdict_time",
        "Time from alert to verdict (minutes)",
        f"{len(overall)} verdicts; median {_text(percentile(overall, 0.5))} min, "
        f"90th percentile {_text(percentile(overall, 0.9))} min.",
        "Day the alert arrived",
        "Minutes",
        ["Day", "Verdicts", "Median (min)", "90th percentile (min)"],
        rows,
    )
    labels = [day.strftime("%d %b") for day in r.days]
    _draw_lines(
        chart, labels, [("c-median", "Median", medians), ("c-p90", "90th percentile", p90s)]
    )
    return chart


def _round(v):
    return None if v is None else round(v, 1)


def _text(v) -> str:
    return "–" if v is None else f"{v:.1f}"


def outcomes_per_day(r) -> Chart:
    keys = list(OUTCOMES)
    rows = [
        [day.isoformat(), *(f["outcomes"].get(k, 0) for k in keys), f["calls"]]
        for day, f in r.days.items()
    ]
    chart = Chart(
        "outcomes",
        "Call outcomes per day",
        f"{r.total['calls']} calls placed in the period, by outcome.",
        "Day the call was placed",
        "Calls",
        ["Day", *OUTCOMES.values(), "Calls"],
        rows,
    )
    series = [
        (f"c-{k}", label, [f["outcomes"].get(k, 0) for f in r.days.values()])
        for k, label in OUTCOMES.items()
        if r.total["outcomes"].get(k)
    ]
    _draw_bars(chart, [day.strftime("%d %b") for day in r.days], series)
    return chart


def _answer_rate(key, title, x_label, labels, calls, answered) -> Chart:
    rates = [_rate(a, c) for c, a in zip(calls, answered, strict=True)]
    best = max(
        ((rate, label) for rate, label in zip(rates, labels, strict=True) if rate is not None),
        default=None,
    )
    chart = Chart(
        key,
        title,
        f"Highest: {best[1]} ({best[0]}% answered)." if best else "No calls in the period.",
        x_label,
        "Answered by a person (%)",
        [x_label, "Calls", "Answered by a person", "Answer rate (%)"],
        [
            [label, c, a, rate]
            for label, c, a, rate in zip(labels, calls, answered, rates, strict=True)
        ],
    )
    _draw_bars(chart, labels, [("c-rate", "Answer rate", rates)])
    return chart


def answer_by_hour(r) -> Chart:
    t = r.total
    labels = [f"{h:02d}" for h in range(24)]
    return _answer_rate(
        "answer_by_hour",
        "Answer rate by hour (customer's local time)",
        "Hour",
        labels,
        t["hour_calls"],
        t["hour_answered"],
    )


def answer_by_weekday(r) -> Chart:
    t = r.total
    return _answer_rate(
        "answer_by_weekday",
        "Answer rate by weekday (customer's local time)",
        "Weekday",
        list(WEEKDAYS),
        t["weekday_calls"],
        t["weekday_answered"],
    )


def calls_per_verdict(r) -> Chart:
    counts = r.total["calls_per_verdict"]
    verdicts = sum(counts.values())
    chart = Chart(
        "calls_per_verdict",
        "Calls per verdict",
        f"{verdicts} verdicts, by the calls placed up to and including the one that gave it "
        "(0: set by a supervisor before any call).",
        "Calls",
        "Verdicts",
        ["Calls", "Verdicts", "Share of verdicts (%)"],
        [[k, counts.get(k, 0), _rate(counts.get(k, 0), verdicts)] for k in VERDICT_CALLS],
    )
    _draw_bars(
        chart,
        list(VERDICT_CALLS),
        [("c-total", "Verdicts", [counts.get(k, 0) for k in VERDICT_CALLS])],
    )
    return chart


def unanswered(r) -> Chart:
    t = r.total
    counts = [t["outcomes"].get(k, 0) for k in UNANSWERED]
    chart = Chart(
        "unanswered",
        "Calls nobody answered, and why",
        f"{sum(counts)} of {t['calls']} calls reached nobody.",
        "Outcome",
        "Calls",
        ["Outcome", "Calls", "Share of calls (%)"],
        [[OUTCOMES[k], n, _rate(n, t["calls"])] for k, n in zip(UNANSWERED, counts, strict=True)],
    )
    labels = ["No answer", "Busy", "Voicemail", "Failed", "Dropped"]
    _draw_bars(chart, labels, [("c-unanswered", "Calls", counts)])
    return chart


def questions(r) -> Chart:
    q = r.total["questions"]
    rows = []
    for step, text in QUESTIONS.items():
        c = q.get(str(step), {})
        asked, calls = c.get("asked", 0), c.get("calls", 0)
        rows.append(
            [
                f"{step}: {text}",
                asked,
                calls,
                asked - calls,
                _rate(asked - calls, calls),
                c.get("keypad", 0),
                c.get("voice", 0),
                c.get("silent", 0),
            ]
        )
    chart = Chart(
        "questions",
        "Answers per question of the script",
        "How each question was answered (keypad, voice, or nothing heard); "
        "the table adds how often it was asked again.",
        "Question (step)",
        "Answers",
        [
            "Question",
            "Asked",
            "Calls that reached it",
            "Asked again",
            "Asked again (% of calls)",
            "Keypad",
            "Voice",
            "Nothing heard",
        ],
        rows,
    )
    labels = [f"Step {s}" for s in QUESTIONS]
    series = [
        ("c-keypad", "Keypad", [row[5] for row in rows]),
        ("c-voice", "Voice", [row[6] for row in rows]),
        ("c-silent", "Nothing heard", [row[7] for row in rows]),
    ]
    _draw_bars(chart, labels, series)
    return chart


BUILDERS = {
    "funnel": funnel,
    "verdict_time": verdict_time,
    "outcomes": outcomes_per_day,
    "answer_by_hour": answer_by_hour,
    "answer_by_weekday": answer_by_weekday,
    "calls_per_verdict": calls_per_verdict,
    "unanswered": unanswered,
    "questions": questions,
}


def all_charts(r) -> list[Chart]:
    return [build(r) for build in BUILDERS.values()]
