"""Fixed-window rate limits kept in Django's cache.

Limits are settings of the form "N/period" (period: s, m or h, with an
optional count: "10/5m" is ten per five minutes), read at each request.
With several web processes the cache must be shared between them (CACHE_URL:
the database cache or Redis); the default per-process memory cache lets each
process allow the full limit.
"""

import functools
import hashlib
import re
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse, JsonResponse

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([smh])\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "10/5m" -> (10, 300): at most 10 in each 300-second window."""
    match = _RATE.match(rate or "")
    if not match:
        raise ValueError(f"A rate limit looks like 10/5m (ten per five minutes), not {rate!r}.")
    count, multiple, unit = match.groups()
    return int(count), int(multiple or 1) * _SECONDS[unit]


def _window_key(scope: str, key: str, window: int) -> tuple[str, int]:
    now = time.time()
    start = int(now // window) * window
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"ratelimit:{scope}:{digest}:{start}", int(start + window - now) + 1


def used(scope: str, key: str, rate: str) -> int:
    """How many hits `key` has in the current window."""
    _, window = parse_rate(rate)
    cache_key, _ = _window_key(scope, key, window)
    return cache.get(cache_key, 0)


def is_limited(scope: str, key: str, rate: str) -> bool:
    limit, _ = parse_rate(rate)
    return used(scope, key, rate) >= limit


def hit(scope: str, key: str, rate: str) -> int:
    """Count one hit for `key`; return the count in the current window."""
    _, window = parse_rate(rate)
    cache_key, ttl = _window_key(scope, key, window)
    # add + incr: atomic on shared caches, so two processes never lose a hit.
    cache.add(cache_key, 0, ttl)
    try:
        return cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, ttl)
        return 1


def retry_after(rate: str) -> int:
    _, window = parse_rate(rate)
    return _window_key("", "", window)[1]


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _too_many(request, message: str, rate: str) -> HttpResponse:
    if getattr(request, "htmx", False):
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    else:
        response = JsonResponse({"ok": False, "message": message}, status=429)
    response["Retry-After"] = str(retry_after(rate))
    return response


def limit_login_failures(view):
    """Refuse a login POST once a username or an address has too many recent failures.

    Only failed attempts count (a wrong password re-renders the form with 200);
    a limited request is refused before the password is checked, so guessing
    on stops teaching anything.
    """

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.method != "POST":
            return view(request, *args, **kwargs)
        user_rate = settings.LOGIN_RATE_LIMIT
        ip_rate = settings.LOGIN_RATE_LIMIT_PER_ADDRESS
        username = (request.POST.get("username") or "").strip().casefold()
        ip = client_ip(request)
        if is_limited("login-user", username, user_rate) or is_limited("login-ip", ip, ip_rate):
            response = HttpResponse(
                "Too many failed sign-in attempts. Wait a few minutes and try again.",
                status=429,
                content_type="text/plain; charset=utf-8",
            )
            response["Retry-After"] = str(retry_after(user_rate))
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200:  # the form came back: the attempt failed
            hit("login-user", username, user_rate)
            hit("login-ip", ip, ip_rate)
        return response

    return wrapped


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
