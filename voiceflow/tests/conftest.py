"""A local stand-in for Twilio's REST API, and calls placed through it.

The real `twilio` client talks to the stand-in over HTTP (settings.
TWILIO_API_BASE_URL); it answers the way Twilio does: a call resource with
201, or Twilio's error JSON.
"""

import json
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest

from transactions.models import CallAttempt
from voiceflow.calls import request_call


class TwilioStandIn:
    def __init__(self):
        self.requests = []  # each: method, path, headers, form (list of (key, value))
        self._replies = []  # planned (status, body, delay), first in first out
        self._lock = threading.Lock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                form = parse_qsl(body, keep_blank_values=True)
                with stand_in._lock:
                    stand_in.requests.append(
                        {
                            "method": "POST",
                            "path": self.path,
                            "headers": dict(self.headers),
                            "form": form,
                        }
                    )
                    planned = stand_in._replies.pop(0) if stand_in._replies else None
                status, reply, delay = planned or (201, stand_in.call_resource(form), 0)
                if delay:
                    time.sleep(delay)
                payload = json.dumps(reply).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        # Do not wait for a deliberately slow reply when the test is over.
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @staticmethod
    def call_resource(form) -> dict:
        values = dict(form)
        return {
            "sid": "CA" + uuid.uuid4().hex,
            "status": "queued",
            "to": values.get("To"),
            "from": values.get("From"),
            "direction": "outbound-api",
            "api_version": "2010-04-01",
        }

    def reply(self, status: int, body: dict, delay: float = 0):
        with self._lock:
            self._replies.append((status, body, delay))

    def fail(self, code: int, message: str, status: int = 400):
        """Answer the next request with Twilio's error JSON."""
        self.reply(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # The test users' passwords need no real key stretching; it costs ~0.5 s a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def twilio_api(settings):
    stand_in = TwilioStandIn()
    settings.TWILIO_API_BASE_URL = stand_in.url
    yield stand_in
    stand_in.close()


@pytest.fixture
def refused_url():
    """A local address where nothing listens: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        host, port = sock.getsockname()
    return f"http://{host}:{port}"


@pytest.fixture
def place(twilio_api):
    """Place a call for a transaction through the stand-in; returns the attempt (with its SID)."""

    def place_call(txn, **kwargs) -> CallAttempt:
        return request_call(txn, **kwargs)

    return place_call


@pytest.fixture
def call(txn, place):
    """A call placed for `txn`, the customer not yet answered."""
    return place(txn)
