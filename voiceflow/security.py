"""Every Twilio webhook passes `twilio_webhook`: POST only, no CSRF token, a valid signature."""

import base64
import functools
import hashlib
import hmac
import logging

from django.conf import settings
from django.http import HttpResponseForbidden
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.request_validator import RequestValidator

logger = logging.getLogger(__name__)


def signed_url(request) -> str:
    """The URL Twilio called, as Twilio saw it.

    Behind a proxy or tunnel the request's own host and scheme are not the
    public ones, so the URL is rebuilt from PUBLIC_URL; the query string is
    kept exactly as received (re-encoding it would change the signature).
    """
    url = settings.PUBLIC_URL + request.path
    query = request.META.get("QUERY_STRING", "")
    if query:
        url += "?" + query
    return url


@functools.cache
def _validator(token: str) -> RequestValidator:
    return RequestValidator(token)


def form_signature(token: str, url: str, form) -> str:
    """Twilio's X-Twilio-Signature of a form POST to `url` (a QueryDict).

    Twilio's algorithm, as the twilio library computes it: the URL, then each
    parameter's name and value(s), names and values sorted; HMAC-SHA1 with
    the auth token, in base64. Written out because the library's version,
    made for any kind of mapping, cost a webhook more than its database work.
    """
    payload = url + "".join(
        name + value for name in sorted(form) for value in sorted(set(form.getlist(name)))
    )
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def is_signed_by_twilio(request) -> bool:
    signature = request.META.get("HTTP_X_TWILIO_SIGNATURE", "")
    if not signature:
        return False
    token = settings.TWILIO_AUTH_TOKEN
    url = signed_url(request)
    # Twilio signs the URL we gave it, so one HMAC settles a genuine request;
    # the library's full check (the URL with and without its port) does the rest.
    expected = form_signature(token, url, request.POST)
    return hmac.compare_digest(expected.encode(), signature.encode()) or _validator(token).validate(
        url, request.POST, signature
    )


def twilio_webhook(view):
    """csrf_exempt + require_POST + X-Twilio-Signature check; a bad or missing one gets 403."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not is_signed_by_twilio(request):
            # The path only: never the signature, the token or the parameters.
            logger.warning("Rejected a webhook with a bad or missing signature: %s", request.path)
            return HttpResponseForbidden(
                "Invalid Twilio signature.", content_type="text/plain; charset=utf-8"
            )
        return view(request, *args, **kwargs)

    return csrf_exempt(require_POST(wrapped))
