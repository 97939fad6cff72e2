"""A Content-Type whose charset cannot decode text is a 400 on every URL, never a 500.

Django reads the charset while it builds the request, before any middleware:
"charset=rot13" (a codec, but not a text encoding) raised LookupError there
whenever the URL had a query string, and any form read later did the same.
Both paths are tried: the WSGI application gunicorn serves, and the test
client (which builds its requests itself, so only the middleware guards it).
"""

import io
from urllib.parse import urlencode

import pytest

from conftest import twilio_signature
from ivr_project.wsgi import application
from transactions.models import CallAttempt, CallTrigger, Transaction

pytestmark = pytest.mark.django_db(transaction=True)

URLS = [
    "/",
    "/rows",
    "/login/",
    "/healthz",
    "/update_phone/TXN001",
    "/set_action/TXN001",
    "/calls/bulk/cancel",
    "/voice/TXN001/step0",
    "/status/TXN001",
]
UNUSABLE = [
    "text/plain; charset=nope",
    "application/x-www-form-urlencoded; charset=rot13",
    "application/x-www-form-urlencoded; charset=hex",
    "application/json; charset=base64",
    "application/x-www-form-urlencoded; charset=undefined",
    "application/x-www-form-urlencoded; charset=idna",
    "multipart/form-data; boundary=x; charset=zlib",
    "application/x-www-form-urlencoded; charset*=nope''abc",  # unreadable header
]


def serve(method, path, query="", content_type="", body=b"", headers=None):
    """One request through `application`, as gunicorn hands it over."""
    environ = {
        **(headers or {}),
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": content_type,
        "CONTENT_LENGTH": str(len(body)),
    }
    started = {}

    def start_response(status, headers, exc_info=None):
        started["status"] = int(status.split()[0])
        started["headers"] = dict(headers)

    chunks = application(environ, start_response)
    content = b"".join(chunks)
    chunks.close()
    return started["status"], started["headers"], content


@pytest.mark.parametrize("content_type", UNUSABLE)
@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("path", URLS)
def test_the_server_refuses_an_unusable_charset(txn, path, method, content_type):
    body = b"client_phone=%2B919800000000&action=Resolved&ids=TXN001&CallSid=CA1"
    status, headers, content = serve(method, path, "q=%FF%FE&x=1", content_type, body)
    assert status == 400
    assert headers["Content-Type"].startswith("text/plain")
    assert b"charset" in content.lower() or b"content-type" in content.lower()
    assert b"nope" not in content and b"rot13" not in content  # nothing repeated
    assert Transaction.objects.get(pk=txn.pk).phone == "+14155550101"


# The test client builds its request with Django's own class, which raises on an
# unreadable header itself: that one is tried through `application` only.
@pytest.mark.parametrize("content_type", UNUSABLE[:-1])
@pytest.mark.parametrize("path", URLS)
def test_a_signed_in_supervisor_is_refused_too(supervisor_client, txn, path, content_type):
    body = b"client_phone=%2B919800000000&action=Resolved&ids=TXN001"
    for method in ("GET", "POST"):
        response = supervisor_client.generic(method, path, body, content_type=content_type)
        assert response.status_code == 400, (method, response.content)
    txn.refresh_from_db()
    assert txn.phone == "+14155550101"
    assert txn.status == "Pending"


@pytest.mark.parametrize(
    "content_type",
    [
        "application/x-www-form-urlencoded; charset=utf-8",
        "application/x-www-form-urlencoded; charset=UTF-8",
        "application/x-www-form-urlencoded",
    ],
)
def test_a_signed_webhook_in_a_text_charset_is_served(txn, settings, content_type):
    attempt = txn.begin_call(trigger=CallTrigger.MANUAL)
    CallAttempt.objects.filter(pk=attempt.pk).update(call_sid="CA" + "1" * 32)
    attempt.refresh_from_db()
    path = "/voice/TXN001/step0"
    params = {"CallSid": attempt.call_sid, "CallStatus": "in-progress", "AccountSid": "AC1"}
    signature = twilio_signature(settings.PUBLIC_URL + path, params)
    body = urlencode(params).encode()
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature}
    status, _, content = serve("POST", path, "", content_type, body, headers)
    assert status == 200, content
    assert b"<Gather " in content


def test_a_page_with_a_text_charset_is_served(txn):
    status, headers, _ = serve("GET", "/", "q=asha", "text/plain; charset=utf-8", b"x")
    assert status == 302  # to sign in, as without a body
    assert headers["Location"].startswith("/login/")
