"""Errors as RFC 9457 problem details (application/problem+json), for every API error."""

from http import HTTPStatus

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, serializers
from rest_framework.response import Response
from rest_framework.views import set_rollback

PROBLEM_JSON = "application/problem+json"
# Problem types with more to say than their status: relative URIs (RFC 9457 3.1.1),
# explained in the API's description.
INVALID_ALERTS = "/api/v1/problems/invalid-alerts"
ALERT_CONFLICT = "/api/v1/problems/alert-conflict"


def problem(status: int, detail: str, *, type="about:blank", headers=None, **extra) -> Response:
    body = {
        "type": type,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        **extra,
    }
    return Response(body, status=status, headers=headers, content_type=PROBLEM_JSON)


def exception_handler(exc, context):
    """DRF's handler, answering problem+json: 401, 403, 404, 405, 415, 429, parse errors."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None  # a server error: Django's 500
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))
    detail = exc.detail
    if isinstance(detail, list | dict):  # ValidationError's shapes; our views raise none
        detail = str(detail)
    set_rollback()
    return problem(exc.status_code, str(detail), headers=headers)


class ProblemErrorSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="The alert's place in the list, from 0.")
    id = serializers.CharField(help_text="The alert's id as sent (empty when missing).")
    field = serializers.CharField()
    reason = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """The schema of every error answer (documentation only)."""

    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    errors = ProblemErrorSerializer(
        many=True, required=False, help_text="invalid-alerts: each bad field of each bad alert."
    )
    ids = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="alert-conflict: the ids that have a call or a verdict.",
    )
