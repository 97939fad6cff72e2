"""Every Twilio webhook passes `twilio_webhook`: POST only, no CSRF token, a valid signature."""

import functools
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
    public ones, so the URL is rebuilt from PUBLIC_URL, never the Host header;
    the query string is kept exactly as received (re-encoding it would change
    the signature).
    """
    url = settings.PUBLIC_URL + request.path
    query = request.META.get("QUERY_STRING", "")
    if query:
        url += "?" + query
    return url


def is_signed_by_twilio(request) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    return bool(signature) and validator.validate(signed_url(request), request.POST, signature)


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
