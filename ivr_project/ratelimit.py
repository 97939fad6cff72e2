"""Rate limits, counted in the database so that every web process shares them.

Limits are settings of the form "N/period" (period: s, m or h, with an
optional count: "10/5m" is ten per five minutes), read at each request.

- Failed sign-ins (LOGIN_RATE_LIMIT per name, LOGIN_RATE_LIMIT_PER_ADDRESS per
  client address) are django-axes' to count: the hooks below give it our two
  limits, the folded name, the client's address and the refusal page.
- Calls an analyst places by hand (CALL_RATE_LIMIT) are counted per fixed
  window by `limit_per_user`. django-ratelimit would do this on a cache with
  an atomic increment (memcached, Redis); our stores are SQLite and
  PostgreSQL, where Django's database cache increments by a read and a
  write, so the count is one row per window, raised by a conditional UPDATE.
"""

import functools
import hashlib
import math
import re
import time
import unicodedata
from datetime import UTC, datetime, timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from ipware import get_client_ip

from ivr_project.models import RateCount

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "10/5m" -> (10, 300): at most 10 in each 300-second window."""
    match = _RATE.match(rate or "")
    count, multiple, unit = match.groups() if match else (0, 0, "s")
    window = int(multiple or 1) * _SECONDS[unit]
    if int(count) < 1 or window < 1:
        raise ValueError(f"A rate limit looks like 10/5m (ten per five minutes), not {rate!r}.")
    return int(count), window


# --- Sign-in: django-axes ------------------------------------------------------


def login_name(request, credentials=None) -> str:
    """The name a sign-in counts against: folded as Django folds it, and case too.

    The form folds a name (NFKC) before looking it up, so "ｓam" signs in as
    "sam"; counting the raw name gave each look-alike a count of its own.
    """
    name = (credentials or {}).get("username")
    if name is None:
        name = request.POST.get("username", "") if request is not None else ""
    folded = unicodedata.normalize("NFKC", str(name)).strip()
    return unicodedata.normalize("NFKC", folded.casefold())[:150]


def client_address(request) -> str | None:
    """The client's address: the connection's, or the one the trusted proxies saw.

    With TRUSTED_PROXY_COUNT proxies in front, each appending the address it
    saw to X-Forwarded-For, the client is that many entries from the right;
    anything further left was written by the client. django-ipware reads it.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        address, _ = get_client_ip(
            request,
            proxy_count=proxies - 1,  # the last proxy is the connection, not in the header
            request_header_order=["HTTP_X_FORWARDED_FOR"],
            strict=False,  # a client's junk on the left is skipped, not a reason to give up
        )
        if address:
            return address
    address, _ = get_client_ip(request, request_header_order=["REMOTE_ADDR"])
    return address


def login_failure_limit(request=None, credentials=None) -> int:
    return parse_rate(settings.LOGIN_RATE_LIMIT)[0]


def login_cool_off(request=None) -> timedelta:
    """How long failures are kept: the longer of the two windows."""
    windows = (settings.LOGIN_RATE_LIMIT, settings.LOGIN_RATE_LIMIT_PER_ADDRESS)
    return timedelta(seconds=max(parse_rate(rate)[1] for rate in windows))


class SignInLimits(AxesDatabaseHandler):
    """django-axes' database handler, with a limit and a window for each count.

    Axes keeps a row per name, address and browser with its failures and the
    time of the last one, and compares one number with one limit
    (AXES_FAILURE_LIMIT, the per-name one). get_failures answers with the count
    nearest its own limit, put on the per-name limit's scale.
    """

    def _counts(self, request, credentials):
        # In AXES_LOCKOUT_PARAMETERS' order: by name, by address.
        by_name, by_address = self.filter_user_attempts(request, credentials)
        rates = (settings.LOGIN_RATE_LIMIT, settings.LOGIN_RATE_LIMIT_PER_ADDRESS)
        now = getattr(request, "axes_attempt_time", None) or timezone.now()
        for attempts, rate in zip((by_name, by_address), rates, strict=True):
            limit, window = parse_rate(rate)
            since = now - timedelta(seconds=window)
            yield attempts.filter(attempt_time__gte=since), limit, window, now

    def get_failures(self, request, credentials=None) -> int:
        left = min(
            limit - (attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0)
            for attempts, limit, _, _ in self._counts(request, credentials)
        )
        return login_failure_limit() - left

    def seconds_until_allowed(self, request, credentials=None) -> int:
        """When each count at its limit will have fallen below it again."""
        wait = 0
        for attempts, limit, window, now in self._counts(request, credentials):
            rows = list(attempts.order_by("attempt_time"))
            total = sum(row.failures_since_start for row in rows)
            for row in rows:  # the oldest row leaves its window first
                if total < limit:
                    break
                total -= row.failures_since_start
                ends = row.attempt_time + timedelta(seconds=window) - now
                wait = max(wait, math.ceil(ends.total_seconds()))
        return wait


def login_refused(request, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the site's 429 page, and when to come back."""
    handler = AxesProxyHandler.get_implementation()
    seconds = 0
    if isinstance(handler, SignInLimits):
        seconds = handler.seconds_until_allowed(request, credentials)
    seconds = max(1, seconds or int(login_cool_off().total_seconds()))
    minutes = math.ceil(seconds / 60)
    context = {
        "title": "Too many failed sign-in attempts",
        "message": "This name or address has had too many failed sign-in attempts.",
        "retry": f"Try again in {minutes} minute{'s' if minutes != 1 else ''}.",
        "back_url": request.get_full_path(),  # the sign-in form it came from (site or admin)
        "back_label": "Back to sign-in",
    }
    response = render(request, "429.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


# --- Per-user limits: our fixed windows ----------------------------------------


def hit(scope: str, key: str, rate: str) -> int:
    """Count one request for `key` in the current window; return the count so far."""
    _, window = parse_rate(rate)
    now = time.time()
    start = int(now // window) * window
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    name = f"{scope}:{digest}:{start}"
    with transaction.atomic():
        RateCount.objects.filter(expires_at__lte=datetime.fromtimestamp(now, UTC)).delete()
        # The UPDATE locks the row until commit, so the count read after it is ours alone.
        counted = RateCount.objects.filter(key=name).update(hits=F("hits") + 1)
        if not counted:
            ends = datetime.fromtimestamp(start + window, UTC)
            _, created = RateCount.objects.get_or_create(
                key=name, defaults={"hits": 1, "expires_at": ends}
            )
            if not created:  # another process made the row first
                RateCount.objects.filter(key=name).update(hits=F("hits") + 1)
        return RateCount.objects.values_list("hits", flat=True).get(key=name)


def retry_after(rate: str) -> int:
    _, window = parse_rate(rate)
    return int(window - time.time() % window) + 1


def _too_many(request, message: str, rate: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    else:
        response = JsonResponse({"ok": False, "message": message}, status=429)
    response["Retry-After"] = str(retry_after(rate))
    return response


def limit_per_user(scope: str, setting: str, message: str):
    """Allow each signed-in user at most settings.<setting> requests (put below login_required)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            rate = getattr(settings, setting)
            limit, _ = parse_rate(rate)
            if hit(scope, str(request.user.pk), rate) > limit:
                return _too_many(request, message, rate)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
