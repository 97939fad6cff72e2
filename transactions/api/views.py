"""The alerts API's views: send alerts, read one, page through changes, the description."""

import base64
import binascii
from dataclasses import asdict
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
)
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView
from rest_framework import permissions
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import api_view
from rest_framework.response import Response

from transactions.models import ApiKey, Transaction

from .auth import ApiKeyAuthentication
from .ingest import AlertsConflict, AlertsRejected, ingest, read_alerts
from .problems import ALERT_CONFLICT, INVALID_ALERTS, PROBLEM_JSON, ProblemSerializer, problem
from .serializers import (
    MAX_ALERTS,
    AlertInSerializer,
    AlertPageSerializer,
    AlertSerializer,
    IngestResultSerializer,
)

DEFAULT_PAGE = 100
MAX_PAGE = 1000


def _problems(*statuses: int) -> dict:
    return {(status, PROBLEM_JSON): ProblemSerializer for status in statuses}


_ALERT_OR_RESULT = PolymorphicProxySerializer(
    component_name="AlertsAnswer",
    serializers=[AlertSerializer, IngestResultSerializer],
    resource_type_field_name=None,
)


@extend_schema(
    methods=["POST"],
    operation_id="send_alerts",
    summary="Send one alert, or a list of up to 1,000",
    description=(
        "Idempotent by `id`. An alert equal to the stored one changes nothing. "
        "Different content for an alert still Pending and never called updates it "
        "(audited with the key's name); for one with a call or a verdict, 409 names "
        "the ids and nothing is written. All or nothing: one bad alert (400, each "
        "bad field listed by index, id, field and reason) and none is stored. "
        "One alert sent as an object: the stored alert, 201 when new, else 200. "
        "A list: counts and every alert as stored, 200."
    ),
    request=PolymorphicProxySerializer(
        component_name="AlertsIn",
        serializers=[AlertInSerializer, AlertInSerializer(many=True)],
        resource_type_field_name=None,
        many=False,
    ),
    responses={
        200: _ALERT_OR_RESULT,
        201: AlertSerializer,
        **_problems(400, 401, 409, 413, 415, 429),
    },
)
@extend_schema(
    methods=["GET"],
    operation_id="list_alert_changes",
    summary="Page through alerts by when they last changed",
    description=(
        "Oldest change first. Follow `next` at once while `has_more`; afterwards "
        "keep asking `next` now and then for newer changes."
    ),
    parameters=[
        OpenApiParameter(
            "updated_since", datetime, description="Changes at or after this ISO 8601 time."
        ),
        OpenApiParameter("after", str, description="From a `next` link: where a page ended."),
        OpenApiParameter("limit", int, description=f"1 to {MAX_PAGE} (default {DEFAULT_PAGE})."),
    ],
    responses={200: AlertPageSerializer, **_problems(400, 401, 429)},
)
@api_view(["GET", "POST"])
def alerts(request):
    if request.method == "POST":
        return _receive(request)
    return _changes(request)


@extend_schema(
    operation_id="get_alert",
    summary="One alert: status, answers and every call",
    responses={200: AlertSerializer, **_problems(401, 404, 429)},
)
@api_view(["GET"])
def alert(request, public_id):
    txn = Transaction.objects.filter(public_id=public_id).prefetch_related("calls").first()
    if txn is None:
        return problem(404, f"No alert with id {public_id}.")
    return Response(AlertSerializer(txn).data)


def _receive(request):
    data = request.data
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_ALERTS:
        return problem(400, f"Send one alert (a JSON object) or a list of 1 to {MAX_ALERTS:,}.")
    try:
        result = ingest(read_alerts(items), request.auth)
    except AlertsRejected as e:
        bad = len({error.index for error in e.errors})
        return problem(
            400,
            f"{bad} alert(s) are not valid; none was stored.",
            type=INVALID_ALERTS,
            errors=[asdict(error) for error in e.errors],
        )
    except AlertsConflict as e:
        return problem(
            409,
            f"Already called or decided, and sent with different content: {', '.join(e.ids)}. "
            "Nothing was stored.",
            type=ALERT_CONFLICT,
            ids=e.ids,
        )
    if isinstance(data, dict):
        txn = result.rows[0]
        created = txn.public_id in result.created
        headers = {"Location": reverse("api-alert", args=[txn.public_id])}
        body = AlertSerializer(txn, context={"created": result.created}).data
        return Response(body, status=201 if created else 200, headers=headers)
    answer = {
        "created": len(result.created),
        "updated": len(result.updated),
        "unchanged": len(result.rows) - len(result.created) - len(result.updated),
        "calls_queued": result.calls_queued,
        "calls_scheduled": result.calls_scheduled,
        "alerts": result.rows,
    }
    return Response(IngestResultSerializer(answer, context={"created": result.created}).data)


def _changes(request):
    try:
        limit = _limit(request.query_params.get("limit"))
        since, after = _position(request.query_params)
    except ValueError as e:
        return problem(400, str(e))
    settled = timezone.now() - timedelta(seconds=settings.API_CHANGES_DELAY_SECONDS)
    rows = Transaction.objects.filter(updated_at__lte=settled).order_by("updated_at", "id")
    if after:
        when, pk = after
        rows = rows.filter(Q(updated_at__gt=when) | Q(updated_at=when, id__gt=pk))
    elif since:
        rows = rows.filter(updated_at__gte=since)
    page = list(rows.prefetch_related("calls")[: limit + 1])
    has_more = len(page) > limit
    page = page[:limit]
    if page:
        after = (page[-1].updated_at, page[-1].pk)
    query = f"limit={limit}"
    if after:
        query += f"&after={_cursor(*after)}"
    elif since:
        query += f"&updated_since={since.isoformat().replace('+', '%2B')}"
    next_url = request.build_absolute_uri(f"{reverse('api-alerts')}?{query}")
    return Response(
        AlertPageSerializer({"alerts": page, "has_more": has_more, "next": next_url}).data
    )


def _limit(raw) -> int:
    if raw in (None, ""):
        return DEFAULT_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE:
        raise ValueError(f"limit must be a whole number from 1 to {MAX_PAGE}.")
    return int(raw)


def _position(params) -> tuple[datetime | None, tuple[datetime, int] | None]:
    since = None
    if raw := params.get("updated_since"):
        # An unencoded "+01:00" arrives as " 01:00".
        try:
            since = parse_datetime(raw.strip().replace(" ", "+"))
        except ValueError:
            since = None
        if since is None or since.tzinfo is None:
            raise ValueError(
                "updated_since must be an ISO 8601 time with its offset, e.g. 2026-12-05T10:00:00Z."
            )
    after = None
    if raw := params.get("after"):
        try:
            padded = raw + "=" * (-len(raw) % 4)
            when, _, pk = base64.urlsafe_b64decode(padded.encode()).decode().partition("|")
            after = (datetime.fromisoformat(when), int(pk))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ValueError("after must be the value a `next` link gave.") from None
    return since, after


def _cursor(when: datetime, pk: int) -> str:
    # Unpadded: "=" would need escaping in a query string.
    return base64.urlsafe_b64encode(f"{when.isoformat()}|{pk}".encode()).decode().rstrip("=")


# --- the description and its docs page ---------------------------------------------


class KeyOrSignedIn(permissions.BasePermission):
    """A key, or a signed-in member of staff who may see transactions."""

    def has_permission(self, request, view):
        if isinstance(request.auth, ApiKey):
            return True
        user = request.user
        signed_in = bool(user and user.is_authenticated)
        return signed_in and user.has_perm("transactions.view_transaction")


class OpenApiView(SpectacularJSONAPIView):
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [KeyOrSignedIn]


class DocsView(SpectacularSwaggerSplitView):
    """Swagger UI from our static files, its settings in a script of its own (strict CSP)."""

    template_name = "api/docs.html"
    authentication_classes = [SessionAuthentication]
    permission_classes = [KeyOrSignedIn]
    url_name = "api-openapi"
    title = "Alerts API"


openapi = OpenApiView.as_view()
docs = login_required(DocsView.as_view())
