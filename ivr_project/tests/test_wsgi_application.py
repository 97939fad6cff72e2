"""The WSGI application gunicorn serves: one middleware stack for webhooks and pages alike."""

import io
from urllib.parse import urlencode

import pytest
from django.conf import settings

from conftest import twilio_signature
from ivr_project.wsgi import application
from transactions.models import CallAttempt, CallTrigger, Status

pytestmark = pytest.mark.django_db(transaction=True)


def serve(method, path, params=None, headers=None):
    """One request through `application`, as gunicorn hands it over."""
    body = urlencode(params or {}).encode()
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = dict(response_headers)

    chunks = application(environ, start_response)
    content = b"".join(chunks)
    chunks.close()
    return started["status"], started["headers"], content


def signed(path, params):
    return {"X-Twilio-Signature": twilio_signature(settings.PUBLIC_URL + path, params)}


@pytest.fixture
def call(txn):
    attempt = txn.begin_call(trigger=CallTrigger.MANUAL)
    CallAttempt.objects.filter(pk=attempt.pk).update(call_sid="CA" + "1" * 32)
    attempt.refresh_from_db()
    return attempt


def test_a_signed_answer_is_served_without_session_or_csrf(call):
    path = f"/voice/{call.transaction.public_id}/step0"
    params = {"CallSid": call.call_sid, "CallStatus": "in-progress", "AccountSid": "AC1"}
    status, headers, content = serve("POST", path, params, signed(path, params))
    assert status == 200
    assert headers["Content-Type"] == "text/xml; charset=utf-8"
    assert "Set-Cookie" not in headers  # no session, no CSRF cookie
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in headers  # the same stack as every page
    assert b"<Gather " in content and b"/step0/response" in content


def test_an_unsigned_webhook_is_refused_and_changes_nothing(call):
    path = f"/status/{call.transaction.public_id}"
    params = {"CallSid": call.call_sid, "CallStatus": "completed", "AccountSid": "AC1"}
    status, _, _ = serve("POST", path, params, {"X-Twilio-Signature": "forged"})
    assert status == 403
    call.refresh_from_db()
    assert call.twilio_status == ""
    assert call.transaction.status == Status.CONNECTING


def test_a_null_character_in_a_webhook_is_refused(call):
    path = f"/status/{call.transaction.public_id}"
    params = {"CallSid": call.call_sid, "CallStatus": "complete\x00d"}
    status, _, _ = serve("POST", path, params, signed(path, params))
    assert status == 400


def test_pages_still_need_a_login(call):
    status, headers, _ = serve("GET", "/")
    assert status == 302
    assert headers["Location"] == "/login/?next=/"
    assert "Content-Security-Policy" in headers
