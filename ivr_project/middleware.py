"""Refuse NUL characters in any request parameter, before any view sees them.

PostgreSQL cannot store NUL in text (SQLite can, which hides the problem in
development), so a NUL in a search box, an API field or a webhook parameter
would turn into a 500 deep inside a query. Django's forms refuse NUL for the
same reason (ProhibitNullCharactersValidator); this does it for every view.
"""

import json

from django.http import HttpResponseBadRequest

NUL = "\x00"


def _has_nul(querydict) -> bool:
    return any(NUL in key or any(NUL in v for v in values) for key, values in querydict.lists())


def _json_has_nul(body: bytes) -> bool:
    if b"\\u0000" not in body.lower():
        return False
    try:
        return _contains_nul(json.loads(body))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False  # not JSON: the view says so


def _contains_nul(value) -> bool:
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False


class RefuseNullCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path or _has_nul(request.GET):
            return HttpResponseBadRequest("Null characters are not allowed.")
        if request.method == "POST":
            if request.content_type == "application/json":
                if _json_has_nul(request.body):
                    return HttpResponseBadRequest("Null characters are not allowed.")
            elif _has_nul(request.POST):
                return HttpResponseBadRequest("Null characters are not allowed.")
        return self.get_response(request)
