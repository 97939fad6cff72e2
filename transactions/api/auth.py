"""API keys: `Authorization: Bearer <key>`, each key with its own rate limit.

No session and no CSRF: DRF's views are csrf_exempt, and the only way in is
a key. A missing, wrong or revoked key is 401.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions, throttling

from ivr_project.ratelimit import hit, parse_rate, retry_after
from transactions.models import ApiKey


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None  # HasApiKey answers 401
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise exceptions.AuthenticationFailed("Send the key as: Authorization: Bearer <key>.")
        api_key = ApiKey.find(key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        api_key.mark_used()
        return (None, api_key)

    def authenticate_header(self, request):
        # Present, so DRF answers 401 (with this challenge) rather than 403.
        return 'Bearer realm="api"'


class HasApiKey(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, ApiKey)


class ApiKeyThrottle(throttling.BaseThrottle):
    """The key's own rate limit, counted in the database so every process shares it."""

    rate = None

    def allow_request(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return True  # a signed-in person reading the docs
        self.rate = request.auth.rate_limit
        limit, _ = parse_rate(self.rate)
        return hit("api-key", str(request.auth.pk), self.rate) <= limit

    def wait(self):
        return retry_after(self.rate) if self.rate else None


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = ApiKeyAuthentication
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A key from admin or `manage.py create_api_key NAME`.",
        }
