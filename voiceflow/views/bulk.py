"""Bulk calling from the dashboard: queue the selected rows, or every pending one, or cancel.

The calls themselves are placed by the task worker, CALLS_PER_SECOND at most,
inside each customer's calling hours (voiceflow/autocall.py).
"""

from django.conf import settings
from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_POST

from transactions.models import Status, Transaction
from voiceflow import autocall, tasks

PLACE_CALL = "transactions.place_call"
# A selection is a page of rows or a few; "call all pending" covers the rest,
# settings.BULK_CALL_LIMIT per request.
MAX_SELECTED = 1000


def _answer(request, *, ok: bool, message: str, status: int = 200, **counts):
    if request.htmx:
        ctx = {"ok": ok, "message": message}
        response = render(request, "voiceflow/bulk_result.html", ctx, status=status)
        if ok:
            # The dashboard's poll listens for this and fetches the changed rows now.
            response["HX-Trigger"] = "rows-changed"
        return response
    return JsonResponse({"ok": ok, "message": message, **counts}, status=status)


def _selected(request):
    """The selected rows' ids from the form (`ids`, repeated), or an error message."""
    ids = [i.strip() for i in request.POST.getlist("ids") if i.strip()]
    if not ids:
        return None, "Select at least one transaction."
    if len(ids) > MAX_SELECTED:
        return None, f"Select at most {MAX_SELECTED} transactions, or use “Call all pending”."
    return ids, ""


def _queued(request, rows, requested: int):
    limit = settings.BULK_CALL_LIMIT
    result = tasks.request_bulk_calls(rows, user=request.user, source="bulk", limit=limit)
    result.skipped = requested - result.total - result.left
    return _answer(
        request,
        ok=True,
        message=str(result),
        queued=result.queued,
        scheduled=result.scheduled,
        skipped=result.skipped,
        left=result.left,
    )


@require_POST
@login_required
@permission_required(PLACE_CALL, raise_exception=True)
def call_selected(request):
    ids, error = _selected(request)
    if error:
        return _answer(request, ok=False, message=error, status=400)
    return _queued(request, Transaction.objects.filter(public_id__in=ids), len(set(ids)))


@require_POST
@login_required
@permission_required(PLACE_CALL, raise_exception=True)
def call_all_pending(request):
    rows = Transaction.objects.filter(status=Status.PENDING)
    q = request.POST.get("q", "").strip()
    if len(q) > 200:
        return _answer(request, ok=False, message="Search for at most 200 characters.", status=400)
    rows = rows.search(q)
    return _queued(request, rows, rows.count())


@require_POST
@login_required
@permission_required(PLACE_CALL, raise_exception=True)
def cancel_selected(request):
    ids, error = _selected(request)
    if error:
        return _answer(request, ok=False, message=error, status=400)
    rows = Transaction.objects.filter(public_id__in=ids)
    cancelled = autocall.cancel_calls(rows, user=request.user, source="bulk")
    return _answer(
        request, ok=True, message=f"{cancelled} automatic calls cancelled.", cancelled=cancelled
    )


urlpatterns = [
    path("calls/bulk", call_selected, name="bulk_call"),
    path("calls/bulk/pending", call_all_pending, name="bulk_call_pending"),
    path("calls/bulk/cancel", cancel_selected, name="bulk_cancel"),
]
