"""Requests Django could not read safely are refused with 400 before any view sees them.

- A Content-Type whose charset cannot decode text ("charset=nope", "rot13",
  "hex", "undefined"): Django decodes the query string and the form with it,
  and the LookupError or UnicodeError that follows was a 500 on any URL.
- NUL characters in any parameter. PostgreSQL cannot store NUL in text
  (SQLite can, which hides the problem in development), so a NUL in a search
  box, an API field or a webhook parameter would turn into a 500 deep inside
  a query. Django's forms refuse NUL for the same reason
  (ProhibitNullCharactersValidator); this does it for every view.
- A body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413, said in words.

The integration API (/api/) gets these answers as problem+json, as it gets every error.
"""

import codecs
import json
from contextlib import suppress
from functools import lru_cache
from http import HTTPStatus

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse, JsonResponse
from django.utils.http import parse_header_parameters

# Every byte value: a charset Django may use must decode them, strictly or with "replace".
_EVERY_BYTE = bytes(range(256))
UNREADABLE_CONTENT_TYPE = "The Content-Type header cannot be read. Send UTF-8 form data or JSON."
UNUSABLE_CHARSET = "Unknown charset in the Content-Type header. Send UTF-8."
NULL_CHARACTERS = "Null characters are not allowed."


def refuse(request, detail: str, status: int = 400) -> HttpResponse:
    """The refusal in the caller's language: problem+json for the API, plain text elsewhere."""
    if request.path.startswith("/api/"):
        body = {"type": "about:blank", "title": HTTPStatus(status).phrase, "status": status}
        return JsonResponse(
            {**body, "detail": detail}, status=status, content_type="application/problem+json"
        )
    # Plain text, and the charset is not repeated.
    return HttpResponse(detail, status=status, content_type="text/plain; charset=utf-8")


@lru_cache(maxsize=64)
def text_charset(name: str) -> bool:
    """Whether request parameters can be decoded with this charset, as Django decodes them.

    codecs.lookup() alone is not enough: it also knows codecs that are not
    text encodings (rot13, hex, base64, zlib: LookupError when decoding) and
    ones that fail on any input ("undefined") or on the "replace" handler
    Django's form parsing uses ("idna").
    """
    try:
        codecs.lookup(name)
        _EVERY_BYTE.decode(name, "replace")
        with suppress(UnicodeDecodeError):  # Django reads such a query string as Latin-1
            _EVERY_BYTE.decode(name)
    except (LookupError, UnicodeError, ValueError, TypeError):
        return False
    return True


def _content_type_problem(request) -> str:
    if getattr(request, "content_type_unreadable", False):
        return UNREADABLE_CONTENT_TYPE
    charset = request.content_params.get("charset")
    if charset is not None and not text_charset(charset.lower()):
        return UNUSABLE_CHARSET
    return ""


class ContentTypeCheckedRequest(WSGIRequest):
    """The WSGI request (ivr_project/wsgi.py), built without decoding anything.

    Django's WSGIRequest sets `encoding` from the Content-Type's charset in its
    constructor, and that setter builds request.GET at once. An unusable
    charset with a query string ("?q=%FF"), an unreadable Content-Type or too
    many parameters raised there, before any middleware, where nothing turns
    an exception into a response: the server answered 500. Here the charset is
    only kept when it can decode text, and RefuseUnreadableRequestsMiddleware
    refuses the rest with 400.
    """

    def _set_content_type_params(self, meta):
        try:
            self.content_type, self.content_params = parse_header_parameters(
                meta.get("CONTENT_TYPE", "")
            )
        except ValueError:
            self.content_type, self.content_params = "", {}
            self.content_type_unreadable = True
            return
        charset = self.content_params.get("charset")
        if charset is not None and text_charset(charset.lower()):
            self._encoding = charset  # not the setter: nothing is decoded yet


class RefuseUnusableCharsetMiddleware:
    """First in MIDDLEWARE: nothing before it reads request.GET or request.POST."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        problem = _content_type_problem(request)
        if problem:
            return refuse(request, problem)
        return self.get_response(request)


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
            return refuse(request, NULL_CHARACTERS)
        if request.method == "POST":
            try:
                if request.content_type == "application/json":
                    has_nul = _json_has_nul(request.body)
                else:
                    has_nul = _has_nul(request.POST)
            except RequestDataTooBig:
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                return refuse(request, f"The body is over the {limit:,}-byte limit.", 413)
            if has_nul:
                return refuse(request, NULL_CHARACTERS)
        return self.get_response(request)
