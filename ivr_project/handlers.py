"""Twilio's webhooks get a lean middleware stack; every other request the full one.

Twilio sends no cookies and no CSRF token and reads XML, not pages, so
sessions, login, CSRF, messages, CSP and htmx do nothing for /voice/ and
/status/ but would cost each webhook about a fifth of its time. The security
headers and the NUL check still apply; the signature check is on every view
(voiceflow.security.twilio_webhook).
"""

from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler

WEBHOOK_PATHS = ("/voice/", "/status/")
WEBHOOK_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ivr_project.middleware.RefuseNullCharactersMiddleware",
]


class WebhookHandler(WSGIHandler):
    def load_middleware(self, is_async=False):
        # Django builds the chain from settings.MIDDLEWARE, once, at start-up.
        full = settings.MIDDLEWARE
        settings.MIDDLEWARE = WEBHOOK_MIDDLEWARE
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = full


def application_with_lean_webhooks(full: WSGIHandler):
    webhooks = WebhookHandler()

    def application(environ, start_response):
        if environ.get("PATH_INFO", "").startswith(WEBHOOK_PATHS):
            return webhooks(environ, start_response)
        return full(environ, start_response)

    return application
