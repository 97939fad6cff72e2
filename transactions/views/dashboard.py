"""The analysts' dashboard: the table, its live poll, a transaction's detail, supervisor tools.

Every fragment is a partial of one template (Django's {% partialdef %}): the
page includes it, htmx asks for it alone ("page.html#name").
"""

from collections import Counter
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.core.signing import BadSignature, SignatureExpired, TimestampSigner
from django.db.models import Count, Q
from django.http import HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from transactions import indexed
from transactions.csv_export import csv_download
from transactions.models import MANUAL_STATUSES, Status, Transaction
from transactions.templatetags.dashboard import STATUS_DISPLAY, row_version

VIEW = "transactions.view_transaction"
PAGE_SIZE = 50
MAX_QUERY_LENGTH = 200
POLL_SECONDS = 5  # settings.DASHBOARD_POLL_SECONDS overrides (browser tests poll faster)
# The poll asks again for rows changed a little before its last answer, so a
# transaction that committed after our answer, with an earlier updated_at
# (a call placed inside a long transaction, a clock a little behind), is not missed.
POLL_OVERLAP = timedelta(seconds=10)
# The poll's token: signed, so only the dashboard issues it; short-lived, so a
# 204 without a session check answers only someone logged in minutes ago.
POLL_SALT = "dashboard-poll"
POLL_TOKEN_MAX_AGE = 10 * 60
# The parameters that say which rows the analyst looks at (kept in links, the poll, the export).
VIEW_PARAMS = ("q", "status", "review", "sort", "page")

# ?sort= value → ORDER BY; each one ends in a unique column so pages never overlap.
SORTS = {
    "-date": ("-transaction_date", "-id"),
    "date": ("transaction_date", "id"),
    "-amount": ("-amount", "-id"),
    "amount": ("amount", "id"),
    "status": ("status", "-transaction_date", "-id"),
    "-status": ("-status", "-transaction_date", "-id"),
}
DEFAULT_SORT = "-date"
SORT_COLUMNS = [("date", "Date"), ("amount", "Amount"), ("status", "Status")]


class BadParams(ValueError):
    """A parameter the dashboard cannot use; its message never repeats what was sent."""


def _bad_request(error) -> HttpResponse:
    # Plain text: whatever a message holds, a browser never reads it as a page.
    return HttpResponseBadRequest(str(error), content_type="text/plain; charset=utf-8")


def _view_params(query) -> dict:
    """The view the analyst is looking at (search, status, needs review, sort, page), checked."""
    q = query.get("q", "").strip()
    if len(q) > MAX_QUERY_LENGTH:
        raise BadParams(f"Search for at most {MAX_QUERY_LENGTH} characters.")
    status = query.get("status", "")
    if status and status not in Status.values:
        raise BadParams(f"Unknown status. Use one of: {', '.join(Status.values)}.")
    review = query.get("review", "")
    if review not in ("", "1"):
        raise BadParams("review must be 1 (only rows that need review) or left out.")
    sort = query.get("sort", "") or DEFAULT_SORT
    if sort not in SORTS:
        raise BadParams(f"Unknown sort. Use one of: {', '.join(SORTS)}.")
    return {
        "q": q,
        "status": status,
        "review": review,
        "sort": sort,
        "page": query.get("page", "1"),
    }


def _query_string(params, **changes) -> str:
    """?q=…&status=… for a link, leaving out defaults so URLs stay short."""
    values = {**params, **changes}
    if values.get("sort") == DEFAULT_SORT:
        values["sort"] = ""
    if str(values.get("page", "")) == "1":
        values["page"] = ""
    kept = {k: v for k, v in values.items() if v not in ("", None)}
    return "?" + urlencode(kept) if kept else "?"


def _filtered(params):
    """(transactions matching the search and the review filter, the same narrowed to the
    status filter and sorted, their status counts when the search listed them, else None)."""
    searched, counts = Transaction.objects.all(), None
    if params["q"]:
        match, counts = indexed.search_with_counts(params["q"], Transaction.objects.db)
        searched = searched.filter(match)
    if params["review"]:
        searched, counts = _needing_review(searched)
    shown = searched.filter(status=params["status"]) if params["status"] else searched
    return searched, shown.order_by(*SORTS[params["sort"]]), counts


def _needing_review(searched):
    """(the rows of `searched` that need review, their status counts).

    Few rows need review: they are listed once from txn_review_idx with their
    statuses, so the page and its counts are lookups by id, as a search's are.
    Without the list, SQLite walks the status index for "needs review and
    Resolved" (130 ms at 200,000 rows, 10 ms listed) and counts statuses the same way.
    """
    flagged = searched.filter(needs_review=True)
    listed = dict(flagged.order_by().values_list("pk", "status")[: indexed.EAGER_MAX + 1])
    if len(listed) > indexed.EAGER_MAX:
        by_status = {f"n{i}": Count("pk", filter=Q(status=s)) for i, s in enumerate(Status.values)}
        counts = flagged.aggregate(**by_status)  # one pass over the partial index
        return flagged, {s: counts[f"n{i}"] for i, s in enumerate(Status.values)}
    return Transaction.objects.filter(pk__in=list(listed)), Counter(listed.values())


def _counts(params, searched, known=None) -> dict:
    """The status counts (each a filter link) and the "needs review" toggle with its count."""
    counts = dict.fromkeys(Status.values, 0)
    counts.update(searched.status_counts() if known is None else known)
    total = sum(counts.values())
    # With the toggle on, every row counted needs review; off, the partial index counts them.
    to_review = total if params["review"] else searched.filter(needs_review=True).count()
    items = [
        {
            "status": status,
            "slug": slug,
            "label": label,
            "glyph": glyph,
            "n": counts.get(status, 0),
            "active": params["status"] == status,
            "url": _query_string(params, status=status, page=1),
        }
        for status, (slug, label, glyph) in STATUS_DISPLAY.items()
    ]
    return {
        "counts": items,
        "counts_signature": ",".join(str(c["n"]) for c in items) + f"/{to_review}",
        "total": total,
        "by_status": counts,
        "to_review": to_review,
        "all_url": _query_string(params, status="", page=1),
        "review_url": _query_string(params, review="" if params["review"] else "1", page=1),
    }


def poll_token(user_id, since: datetime) -> str:
    """The signed changed-since token: "rows changed after `since`", issued to user_id."""
    return TimestampSigner(salt=POLL_SALT).sign(f"{user_id}.{int(since.timestamp() * 1000)}")


def _read_token(raw) -> tuple[str, datetime, bool]:
    """(user id, since, expired) of an authentic token; BadParams for anything else."""
    signer = TimestampSigner(salt=POLL_SALT)
    try:
        try:
            value, expired = signer.unsign(raw or "", max_age=POLL_TOKEN_MAX_AGE), False
        except SignatureExpired:
            value, expired = signer.unsign(raw), True
        user_id, _, millis = value.partition(".")
        since = datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    except (BadSignature, ValueError, OverflowError, OSError):
        raise BadParams("since must be the token from the previous answer.") from None
    return user_id, since, expired


def _poll_seconds():
    return getattr(settings, "DASHBOARD_POLL_SECONDS", POLL_SECONDS)


def _poll_url(params, user, now) -> str:
    since = poll_token(user.pk, now - POLL_OVERLAP)
    return reverse("dashboard-rows") + _query_string(params, since=since)


def _sort_links(params) -> list[dict]:
    links = []
    for key, label in SORT_COLUMNS:
        current = params["sort"].lstrip("-") == key
        descending = params["sort"].startswith("-")
        # A click on the sorted column flips it; on another column starts descending.
        next_sort = (key if descending else f"-{key}") if current else f"-{key}"
        links.append(
            {
                "key": key,
                "label": label,
                "url": _query_string(params, sort=next_sort, page=1),
                "aria": ("descending" if descending else "ascending") if current else "none",
            }
        )
    return links


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def dashboard(request):
    try:
        params, notice = _view_params(request.GET), ""
    except BadParams as e:
        # A bad link still shows the table: the default view, and why.
        params, notice = _view_params(QueryDict()), f"{e} Showing every transaction instead."
    searched, shown, known = _filtered(params)
    counts = _counts(params, searched, known)
    page_obj = _page(params, shown, counts)
    params["page"] = page_obj.number
    ctx = {
        **params,
        **counts,
        "page_obj": page_obj,
        "sort_links": {link["key"]: link for link in _sort_links(params)},
        "prev_url": (
            _query_string(params, page=page_obj.previous_page_number())
            if page_obj.has_previous()
            else ""
        ),
        "next_url": (
            _query_string(params, page=page_obj.next_page_number()) if page_obj.has_next() else ""
        ),
        "dashboard_url": reverse("dashboard"),
        "export_url": reverse("dashboard-export") + _query_string(params, page=""),
        "poll_url": _poll_url(params, request.user, timezone.now()),
        "poll_seconds": _poll_seconds(),
        "notice": notice,
        "search_hint": indexed.SEARCH_TOO_SHORT if indexed.too_short(params["q"]) else "",
    }
    template = "transactions/dashboard.html"
    fragment = request.htmx and not request.htmx.history_restore_request
    if fragment:
        template += "#results"
    response = render(request, template, ctx, status=400 if notice else 200)
    if fragment:
        # The address bar shows the view without empty or default parameters.
        response["HX-Push-Url"] = reverse("dashboard") + _query_string(params).rstrip("?")
    # The same URL answers a page or a fragment: caches must tell them apart.
    patch_vary_headers(response, ["HX-Request"])
    return response


def _page(params, shown, counts):
    """The page of `shown` the view asks for (the last one past the end)."""
    paginator = Paginator(shown.with_call_info(), PAGE_SIZE)
    # The status counts already say how many rows the view has: no COUNT(*).
    paginator.count = counts["by_status"][params["status"]] if params["status"] else counts["total"]
    return paginator.get_page(params["page"])


# `shown` is "ID.version~ID.version": characters a URL carries as they are, so
# the quiet poll's query string decodes without a percent-escape (ids never
# hold "." or "~").
def _parse_shown(raw) -> dict[str, int | None]:
    """ "ID.version~ID.version" (the rows on screen and what they show) → {id: version}."""
    shown = {}
    for item in raw.split("~", PAGE_SIZE * 2)[: PAGE_SIZE * 2]:
        public_id, _, version = item.partition(".")
        if public_id:
            # A version is a microsecond timestamp; anything else is no version.
            shown[public_id] = int(version) if version.isdigit() and len(version) <= 20 else None
    return shown


@require_GET
@never_cache
def rows(request):
    """The live poll: rows changed since the token, as out-of-band swaps; 204 when none.

    The no-change answer is one indexed query on updated_at: no session, no
    user, no permission query, no rendering. That is safe because the token
    is signed (nobody can make one), was issued by the dashboard to a
    logged-in analyst at most POLL_TOKEN_MAX_AGE ago, and a 204 tells its
    holder only "nothing changed since then". Any answer that carries data
    (rows, counts, a fresh token) goes through login and permission checks,
    as does a token that is expired, forged or holds `stale` rows.
    """
    if request.htmx and not request.GET.get("stale"):
        try:
            _, since, expired = _read_token(request.GET.get("since"))
        except BadParams:
            expired = True  # the full path says why, after login
        # Served by txn_updated_idx.
        if not expired and not Transaction.objects.changed_since(since).exists():
            return HttpResponse(status=204)
    return _changed_rows(request)


@login_required
@permission_required(VIEW, raise_exception=True)
def _changed_rows(request):
    """The poll's answer with data; an old but authentic token of this user still counts."""
    if not request.htmx:
        # A person who opens the poll's URL gets the dashboard it belongs to.
        view = {k: v for k, v in request.GET.items() if k in VIEW_PARAMS}
        return redirect(reverse("dashboard") + _query_string(view).rstrip("?"))
    try:
        user_id, since, _ = _read_token(request.GET.get("since"))
        params = _view_params(request.GET)
    except BadParams as e:
        return _bad_request(e)
    if user_id != str(request.user.pk):
        # The page was drawn for someone else (another login in this browser): redraw it.
        response = _bad_request("since was issued to another user: reload the page.")
        response["HX-Refresh"] = "true"
        return response
    now = timezone.now()
    # Here something changed since the token (rows() asked), or the token expired, or
    # the page holds rows it could not update (`stale`): every case has an answer.
    stale = {i for i in request.GET.get("stale", "").split(",") if i}
    shown = _parse_shown(request.GET.get("shown", ""))
    candidates = (
        Transaction.objects.with_call_info()
        .filter(public_id__in=list(shown))
        .filter(Q(updated_at__gt=since) | Q(public_id__in=list(stale)))
    )
    changed = [
        t
        for t in candidates
        if t.public_id in stale or row_version(t.updated_at) != shown[t.public_id]
    ]
    searched, in_view, known = _filtered(params)
    new_rows = []
    if str(params["page"]) == "1":
        # New transactions in this view go on top of the first page.
        new_rows = (
            in_view.with_call_info()
            .changed_since(since)
            .filter(created_at__gt=since)
            .exclude(public_id__in=list(shown))[:PAGE_SIZE]
        )
    counts = _counts(params, searched, known)
    ctx = {
        **params,
        **counts,
        # For the "Showing 1–50 of N" line; no row is read.
        "page_obj": _page(params, in_view, counts),
        "send_counts": counts["counts_signature"] != request.GET.get("counts"),
        "changed": changed,
        "new_rows": new_rows,
        "poll_url": _poll_url(params, request.user, now),
        "poll_seconds": _poll_seconds(),
        "oob": True,
    }
    return render(request, "transactions/rows.html#poll_answer", ctx)


def row_response(request, txn, *, message="", error_field="", status=200):
    """The dashboard row of `txn` (the htmx swap target of row actions).

    `message` is shown on the row (an error when status >= 400); `error_field`
    ("phone", "status") puts it beside that field instead. The row is read
    again from the database, so it shows what is stored: after a rejected
    phone, the old number.
    """
    fresh = Transaction.objects.with_call_info().filter(pk=txn.pk).first() or txn
    ctx = {
        "t": fresh,
        "message": message,
        "error_field": error_field,
        "is_error": status >= 400,
    }
    return render(request, "transactions/rows.html#row", ctx, status=status)


@require_GET
@login_required
@permission_required(VIEW, raise_exception=True)
def transaction_detail(request, public_id):
    txn = get_object_or_404(Transaction.objects.with_call_info(), public_id=public_id)
    calls = txn.calls.select_related("placed_by").prefetch_related("events")
    ctx = {
        "t": txn,
        "calls": calls,
        "audit": txn.audit.select_related("user", "api_key"),
        "manual_statuses": [(s, STATUS_DISPLAY[s][1]) for s in MANUAL_STATUSES],
    }
    return render(request, "transactions/detail.html", ctx)


@require_POST
@login_required
@permission_required("transactions.set_status", raise_exception=True)
def set_status(request, public_id):
    """A supervisor's manual status from the detail page (audited by the model)."""
    txn = get_object_or_404(Transaction, public_id=public_id)
    new_status = request.POST.get("status", "")
    if new_status not in MANUAL_STATUSES:
        text = f"Choose one of: {', '.join(STATUS_DISPLAY[s][1] for s in MANUAL_STATUSES)}."
        if request.htmx:
            return row_response(request, txn, message=text, error_field="status", status=400)
        messages.error(request, text)
        return redirect("transaction_detail", public_id=txn.public_id)
    flagged = txn.needs_review
    changed = txn.set_status_by(request.user, new_status, source="dashboard")
    text = _status_set_message(new_status, changed, flagged)
    if request.htmx:
        return row_response(request, txn, message=text)
    messages.success(request, text)
    return redirect("transaction_detail", public_id=txn.public_id)


def _status_set_message(new_status, changed, flagged) -> str:
    label = STATUS_DISPLAY[new_status][1]
    if not changed:
        return f"The status already was {label}."
    if flagged:
        return f"Status set to {label}; the row no longer needs review."
    return f"Status set to {label}."


@require_GET
@login_required
@permission_required("transactions.export_transactions", raise_exception=True)
def export_csv(request):
    """The current filtered view (all pages), as CSV, streamed."""
    try:
        params = _view_params(request.GET)
    except BadParams as e:
        return _bad_request(e)
    _, queryset, _ = _filtered(params)
    return csv_download(queryset)


urlpatterns = [
    path("", dashboard, name="dashboard"),
    path("rows", rows, name="dashboard-rows"),
    path("export.csv", export_csv, name="dashboard-export"),
    path("t/<str:public_id>", transaction_detail, name="transaction_detail"),
    path("t/<str:public_id>/status", set_status, name="transaction_set_status"),
]
