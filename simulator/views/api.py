"""Twilio's REST API for Calls, as much of it as our code uses, under /simulator/api/.

The real twilio client talks to these views over HTTP (TWILIO_API_BASE_URL);
they check HTTP basic auth and the request as Twilio does and answer in
Twilio's JSON. Placing a call only records it and queues the call engine on
the task worker: nothing of the call runs inside this request.
"""

import base64
import binascii
import hmac
from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.http import Http404, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from simulator import rest
from simulator.models import SimCall
from simulator.personas import persona_for
from simulator.tasks import run_simulated_call

MAX_PAGE_SIZE = 1000


def _error(code: int, message: str, status: int) -> JsonResponse:
    return JsonResponse(rest.TwilioError(code, message, status).as_json(), status=status)


def _authenticated(request) -> bool:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        user, _, password = base64.b64decode(encoded, validate=True).partition(b":")
    except binascii.Error:
        return False
    # Bytes, compared in constant time: any input is a plain "no", never an error.
    return hmac.compare_digest(user, settings.TWILIO_SID.encode()) & hmac.compare_digest(
        password, settings.TWILIO_AUTH_TOKEN.encode()
    )


def twilio_api(view):
    """Simulation only (404 otherwise, even if the URLs were mounted), basic auth, own account."""

    @wraps(view)
    def wrapper(request, account_sid, *args, **kwargs):
        if not settings.SIMULATION:
            raise Http404
        if not _authenticated(request):
            response = _error(20003, "Authenticate", 401)
            response["WWW-Authenticate"] = 'Basic realm="Twilio API"'
            return response
        if account_sid != settings.TWILIO_SID:
            return _error(20404, "The requested resource was not found", 404)
        try:
            return view(request, account_sid, *args, **kwargs)
        except rest.TwilioError as e:
            return JsonResponse(e.as_json(), status=e.status)

    return csrf_exempt(wrapper)


@twilio_api
@require_http_methods(["GET", "POST"])
def calls(request, account_sid):
    if request.method == "POST":
        return _create_call(request, account_sid)
    return _list_calls(request, account_sid)


def _create_call(request, account_sid):
    data = rest.check_create(request.POST)
    call = SimCall.objects.create(
        account_sid=account_sid,
        to=data["To"],
        from_number=data["From"],
        url=data["Url"],
        method=data.get("Method", "POST"),
        status_callback=data.get("StatusCallback", ""),
        status_callback_method=data.get("StatusCallbackMethod", "POST"),
        status_callback_events=data.get("StatusCallbackEvent", []),
        machine_detection=data.get("MachineDetection", ""),
        async_amd=str(data.get("AsyncAmd", "")).lower() == "true",
        async_amd_status_callback=data.get("AsyncAmdStatusCallback", ""),
        ring_timeout=min(max(data.get("Timeout", 60), 1), 600),
        persona=persona_for(data["To"]).key,
    )
    call.start_time = call.created_at
    call.save(update_fields=["start_time"])
    run_simulated_call.enqueue(call.sid)
    return JsonResponse(rest.call_resource(call), status=201)


def _list_calls(request, account_sid):
    qs = SimCall.objects.filter(account_sid=account_sid).order_by("-created_at", "-id")
    filters = {}
    for key, lookup in (("To", "to"), ("From", "from_number"), ("Status", "state")):
        if request.GET.get(key):
            filters[key] = request.GET[key]
            qs = qs.filter(**{lookup: request.GET[key]})
    for key, lookup in (("StartTime>", "start_time__gte"), ("StartTime<", "start_time__lte")):
        if request.GET.get(key):
            filters[key] = request.GET[key]
            qs = qs.filter(**{lookup: rest.parse_start_time(request.GET[key])})
    if request.GET.get("StartTime"):
        filters["StartTime"] = request.GET["StartTime"]
        day = rest.parse_start_time(request.GET["StartTime"])
        qs = qs.filter(start_time__gte=day, start_time__lt=day + timedelta(days=1))
    try:
        page_size = min(max(int(request.GET.get("PageSize", 50)), 1), MAX_PAGE_SIZE)
        page = max(int(request.GET.get("Page", 0)), 0)
    except ValueError:
        raise rest.TwilioError(20001, "PageSize and Page must be whole numbers") from None
    return JsonResponse(
        rest.list_page(qs, account_sid=account_sid, filters=filters, page=page, page_size=page_size)
    )


@twilio_api
@require_GET
def call_detail(request, account_sid, call_sid):
    call = SimCall.objects.filter(account_sid=account_sid, sid=call_sid).first()
    if call is None:
        uri = f"/{rest.API_VERSION}/Accounts/{account_sid}/Calls/{call_sid}.json"
        return _error(20404, f"The requested resource {uri} was not found", 404)
    return JsonResponse(rest.call_resource(call))


urlpatterns = [
    path("api/2010-04-01/Accounts/<str:account_sid>/Calls.json", calls, name="api-calls"),
    path(
        "api/2010-04-01/Accounts/<str:account_sid>/Calls/<str:call_sid>.json",
        call_detail,
        name="api-call",
    ),
]
