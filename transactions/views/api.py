"""The JSON API, compatible with the Flask app's: list, change a phone, set a status.

Every URL needs a session login; an anonymous request is redirected to the
login page (one behaviour for browsers and scripts alike). A logged-in user
without the permission gets 403 JSON. POSTs need the CSRF token (the
`X-CSRFToken` header is accepted). htmx requests from the dashboard get the
re-rendered row instead of JSON.
"""

import json
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from transactions.importer import seed_row
from transactions.models import MANUAL_STATUSES, CallAttempt, Status, Transaction
from transactions.templatetags.dashboard import status_label
from transactions.views.dashboard import row_response

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000


def _error(message, status):
    return JsonResponse({"error": message}, status=status)


def _permission_json(perm):
    """Like permission_required(raise_exception=True), but the 403 is JSON."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(perm):
                return _error("You do not have permission to do that.", 403)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def _get_txn(public_id):
    return Transaction.objects.filter(public_id=public_id).first()


def _body(request) -> dict:
    """JSON body or form fields, as one dict; ValueError for a body that is neither."""
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except RecursionError:
            # json.loads recurses once per level: a body of 100,000 "[" exhausts the stack.
            raise ValueError("JSON nested too deeply") from None
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        return data
    return request.POST.dict()


def _int_param(request, name, default, lowest, highest):
    raw = request.GET.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number") from None
    if not lowest <= value <= highest:
        raise ValueError(f"{name} must be between {lowest} and {highest}")
    return value


def _as_json(txn) -> dict:
    """A row as the Flask app sent it, plus what the dashboard shows of its calls and review."""
    row = seed_row(txn)
    row["answers"] = txn.answers()
    # The latest call's failure, as on the dashboard (None once a later call did not fail).
    last_error = CallAttempt(
        error_code=txn.last_error_code or "", error_message=txn.last_error_message or ""
    ).failure_reason
    row["last_error"] = last_error or None
    row["needs_review"] = txn.needs_review
    row["on_call"] = txn.on_call
    row["updated_at"] = txn.updated_at.isoformat()
    return row


@require_GET
@never_cache
@login_required
@_permission_json("transactions.view_transaction")
def transactions(request):
    status = request.GET.get("status", "")
    if status and status not in Status.values:
        return _error(f"status must be one of: {', '.join(Status.values)}", 400)
    try:
        limit = _int_param(request, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        offset = _int_param(request, "offset", 0, 0, 10**9)
    except ValueError as e:
        return _error(str(e), 400)

    queryset = Transaction.objects.search(request.GET.get("q", ""))
    if status:
        queryset = queryset.filter(status=status)
    total = queryset.count()
    page = queryset.with_call_info()[offset : offset + limit]
    response = JsonResponse([_as_json(t) for t in page], safe=False)
    response["X-Total-Count"] = str(total)
    return response


@require_POST
@login_required
@_permission_json("transactions.edit_phone")
def update_phone(request, public_id):
    txn = _get_txn(public_id)
    if txn is None:
        return _error("No such transaction.", 404)
    try:
        raw = _body(request).get("client_phone", "")
        txn.set_phone_by(request.user, str(raw or ""), source="api")
    except ValueError as e:
        return _reply(request, txn, f"Bad request body: {e}", "phone", 400)
    except ValidationError as e:
        return _reply(request, txn, " ".join(e.messages), "phone", 400)
    if request.htmx:
        return row_response(request, txn, message=f"Phone saved: {txn.phone}")
    return JsonResponse({"client_phone": txn.phone})


@require_POST
@login_required
@_permission_json("transactions.set_status")
def set_action(request, public_id):
    txn = _get_txn(public_id)
    if txn is None:
        return _error("No such transaction.", 404)
    try:
        action = _body(request).get("action", "")
    except ValueError as e:
        return _reply(request, txn, f"Bad request body: {e}", "status", 400)
    if action not in MANUAL_STATUSES:
        return _reply(
            request, txn, f"action must be one of: {', '.join(MANUAL_STATUSES)}", "status", 400
        )
    changed = txn.set_status_by(request.user, action, source="api")
    if request.htmx:
        label = status_label(action)
        message = f"Status set to {label}." if changed else f"Already {label}."
        return row_response(request, txn, message=message)
    return JsonResponse({"id": txn.public_id, "action": txn.status, "changed": changed})


def _reply(request, txn, message, error_field, status):
    if request.htmx:
        return row_response(request, txn, message=message, error_field=error_field, status=status)
    return _error(message, status)


urlpatterns = [
    path("transactions", transactions, name="api-transactions"),
    path("update_phone/<str:public_id>", update_phone, name="api-update-phone"),
    path("set_action/<str:public_id>", set_action, name="api-set-action"),
]
