"""POST /call/<id>: an analyst's click on a row's badge places a verification call.

A dashboard action: it calls voiceflow's call placing and answers with the row.
"""

from django.contrib.auth.decorators import login_required, permission_required
from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path
from django.views.decorators.http import require_POST

from ivr_project.ratelimit import limit_per_user
from transactions.models import CallTrigger, Transaction
from voiceflow.calls import CallConflict, CallFailed, CallNotKnown, request_call

from .dashboard import row_response


def _answer(request, txn, *, ok: bool, message: str, status: int, **extra):
    if request.htmx:
        return row_response(request, txn, message=message, status=status)
    return JsonResponse(
        {"ok": ok, "id": txn.public_id, "status": txn.status, "message": message, **extra},
        status=status,
    )


@require_POST
@login_required
@permission_required("transactions.place_call", raise_exception=True)
@limit_per_user("call", "CALL_RATE_LIMIT", "Too many calls placed in a short time; wait a minute.")
def place_call(request, public_id):
    txn = get_object_or_404(Transaction, public_id=public_id)
    warning = ""
    if txn.opted_out_at:
        warning = f"{txn.client_name} asked not to be called again; calling on your request."
    try:
        attempt = request_call(txn, user=request.user, trigger=CallTrigger.MANUAL)
    except CallConflict as exc:
        txn.refresh_from_db()
        return _answer(request, txn, ok=False, message=exc.message, status=409)
    except CallFailed as exc:
        txn.refresh_from_db()
        status = 422 if exc.number_problem else 502
        return _answer(request, txn, ok=False, message=exc.message, status=status, code=exc.code)
    except CallNotKnown as exc:
        txn.refresh_from_db()
        return _answer(request, txn, ok=False, message=exc.message, status=202)
    message = " ".join(filter(None, [f"Calling {txn.client_name}.", warning]))
    return _answer(request, txn, ok=True, message=message, status=200, call_sid=attempt.call_sid)


urlpatterns = [path("call/<str:public_id>", place_call, name="call")]
