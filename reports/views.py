"""The supervisors' reports page and the contact-rules report, each also as CSV."""

import csv
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from transactions.csv_export import safe_cell

from . import charts, figures

VIEW = "reports.view_reports"
# The evidence lists customers' alerts and who called them: exported by those who may
# export transactions (supervisors), like the dashboard's CSV.
EXPORT = "transactions.export_transactions"
DEFAULT_DAYS = 7
MAX_DAYS = 366
EARLIEST, LATEST = date(2000, 1, 1), date(2999, 12, 31)
MAX_BANK = 200


def _period(query) -> tuple[dict, list[str]]:
    """(from, to, bank) from the query, defaulting to the last 7 days; and what was wrong."""
    today = timezone.localdate()
    values = {"start": today - timedelta(days=DEFAULT_DAYS - 1), "end": today, "bank": ""}
    errors = []
    for name, key in (("from", "start"), ("to", "end")):
        raw = query.get(name, "").strip()
        if not raw:
            continue
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            errors.append(f"“{name.capitalize()}” is not a date: use YYYY-MM-DD.")
            continue
        if not EARLIEST <= day <= LATEST:
            errors.append(f"“{name.capitalize()}” must be between 2000 and 2999.")
            continue
        values[key] = day
    if not errors and values["start"] > values["end"]:
        errors.append("The period starts after it ends: “From” must be on or before “To”.")
    elif not errors and (values["end"] - values["start"]).days >= MAX_DAYS:
        errors.append(f"Choose a period of at most {MAX_DAYS} days.")
    bank = query.get("bank", "").strip()
    if len(bank) > MAX_BANK:
        errors.append(f"A bank’s name has at most {MAX_BANK} characters.")
    else:
        values["bank"] = bank
    return values, errors


def _form_ctx(request, values, errors) -> dict:
    kept = request.GET.copy()
    for name in ("format", "figure"):
        kept.pop(name, None)
    query = kept.urlencode()
    return {
        "start": request.GET.get("from", "") if errors else values["start"].isoformat(),
        "end": request.GET.get("to", "") if errors else values["end"].isoformat(),
        "bank": values["bank"],
        "errors": errors,
        "query": query,
        "query_base": f"{query}&" if query else "",
        "TIME_ZONE": settings.TIME_ZONE,
    }


def _csv(name: str, columns, rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    writer.writerow([safe_cell(c) for c in columns])
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return response


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def reports_page(request):
    values, errors = _period(request.GET)
    figure = request.GET.get("figure", "")
    csv_wanted = request.GET.get("format") == "csv"
    if csv_wanted and figure not in charts.BUILDERS:
        errors.append(f"Unknown figure. Use one of: {', '.join(charts.BUILDERS)}.")
    ctx = _form_ctx(request, values, errors)
    if errors:
        return render(request, "reports/reports.html", ctx, status=400)
    r = figures.report(values["start"], values["end"], values["bank"])
    if csv_wanted:
        chart = charts.BUILDERS[figure](r)
        return _csv(f"{figure}-{r.start}-{r.end}", chart.columns, chart.rows)
    ctx.update(report=r, charts=charts.all_charts(r), banks=_banks(r))
    return render(request, "reports/reports.html", ctx)


def _banks(r) -> list[str]:
    return sorted({*r.banks, r.bank} - {""})


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def contact_rules(request):
    values, errors = _period(request.GET)
    csv_wanted = request.GET.get("format") == "csv"
    if csv_wanted and not request.user.has_perm(EXPORT):
        raise PermissionDenied("Only supervisors download the evidence.")
    ctx = _form_ctx(request, values, errors)
    if errors:
        return render(request, "reports/contact_rules.html", ctx, status=400)
    r = figures.report(values["start"], values["end"], values["bank"], rules=csv_wanted)
    rules = figures.contact_rules(r, listed=None if csv_wanted else figures.LISTED)
    if csv_wanted:
        return _csv(f"contact-rules-{r.start}-{r.end}", *_evidence(r, rules))
    ctx.update(report=r, rules=rules, banks=_banks(r), may_export=request.user.has_perm(EXPORT))
    return render(request, "reports/contact_rules.html", ctx)


def _evidence(r, rules) -> tuple[list, list]:
    """The contact-rules report as one table: a summary line per rule, then each call listed."""
    columns = [
        "rule",
        "holds",
        "count",
        "transaction",
        "bank",
        "placed at",
        "customer's local time",
        "trigger",
        "placed by",
        "outcome",
        "duration (s)",
    ]
    period = f"{r.start} to {r.end}" + (f", {r.bank}" if r.bank else ", all banks")
    rows = [["period", "", "", period, "", "", "", "", "", "", ""]]
    for rule in rules["rules"]:
        rows.append([rule["text"], rule["holds"], rule["count"], *[""] * 8])
        for listed in rule["calls"]:
            rows.append([rule["text"], "", "", *_call_cells(listed.call, listed.local_time)])
    if rules["longest"]:
        call, seconds = rules["longest"]
        rows.append(["Longest call", "", seconds, *_call_cells(call, "")])
    return columns, rows


def _call_cells(call, local_time) -> list:
    return [
        call.transaction.public_id,
        call.transaction.bank_name,
        timezone.localtime(call.created_at).isoformat(timespec="seconds"),
        local_time,
        call.get_trigger_display(),
        call.placed_by.username if call.placed_by else "",
        call.get_outcome_display(),
        call.duration_seconds,
    ]


urlpatterns = [
    path("reports", reports_page, name="reports"),
    path("reports/contact-rules", contact_rules, name="reports-contact-rules"),
]
