"""Twilio's Calls REST resource on a local port: the one stand-in for Twilio in the tests.

The real `twilio` client (in this process, in a db_worker subprocess or in the
autocall benchmark) talks to it over HTTP, through settings.TWILIO_API_BASE_URL.
It answers as Twilio does:

- it checks the account's Basic credentials (401 with Twilio's error JSON);
- it records every request it receives (method, path, headers, form, query);
- CreateCall (POST Calls.json) answers 201 with a call resource and keeps the
  call for the list endpoint (GET Calls.json, `To` and `StartTime>` filters);
- `reply()` / `fail()` plan the answer to the next CreateCall (status, body,
  delay; Twilio's error JSON), first in first out; a planned answer is all
  Twilio does with that request, the call is not kept;
- two hold modes let a test kill a worker while a request is open:
  `hold_after_accepting` keeps the call (Twilio has it), then holds the answer
  until `release()`; `hold_then_lose` holds the answer and never keeps the call
  (the request never reached Twilio, as far as anyone can tell).
"""

import base64
import contextlib
import json
import threading
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, urlparse

API_VERSION = "2010-04-01"


def twilio_error(code: int, message: str, status: int) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class TwilioStandIn:
    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[dict] = []  # each: method, path, headers, form, query
        self.calls: list[dict] = []  # the calls Twilio has: sid, to, from, url, created
        self.mode = "normal"  # or "hold_after_accepting", "hold_then_lose"
        self.request_arrived = threading.Event()
        self._replies: list[tuple[int, dict, float]] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # Do not wait for a held or deliberately slow answer when the test is over.
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def calls_path(self) -> str:
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls.json"

    def start(self) -> "TwilioStandIn":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    # --- what a test asks of it -----------------------------------------------

    def reply(self, status: int, body: dict, delay: float = 0) -> None:
        """Answer the next CreateCall with `body` and `status`, after `delay` seconds."""
        with self._lock:
            self._replies.append((status, body, delay))

    def fail(self, code: int, message: str, status: int = 400) -> None:
        """Answer the next CreateCall with Twilio's error JSON."""
        self.reply(status, twilio_error(code, message, status))

    def release(self) -> None:
        """Let held answers go."""
        self._release.set()

    def placed_to(self, number: str) -> int:
        with self._lock:
            return sum(1 for call in self.calls if call["to"] == number)

    def create_requests(self) -> list[dict]:
        """Every CreateCall request received so far, answered or not."""
        with self._lock:
            return [r for r in self.requests if r["method"] == "POST"]

    def call_resource(self, to: str = "", from_: str = "", sid: str = "") -> dict:
        """A call resource as CreateCall answers it, for a planned reply."""
        created = datetime.now(UTC)
        return self._resource(
            {"sid": sid or "CA" + uuid.uuid4().hex, "to": to, "from": from_, "created": created}
        )

    # --- the resource ---------------------------------------------------------

    def _resource(self, call: dict) -> dict:
        return {
            "sid": call["sid"],
            "account_sid": self.account_sid,
            "to": call["to"],
            "from": call["from"],
            "status": "queued",
            "direction": "outbound-api",
            "api_version": API_VERSION,
            "date_created": format_datetime(call["created"]),
            "date_updated": format_datetime(call["created"]),
            "start_time": None,
            "end_time": None,
            "uri": f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{call['sid']}.json",
        }

    def _create(self, form: dict) -> tuple[int, dict]:
        with self._lock:
            planned = self._replies.pop(0) if self._replies else None
        self.request_arrived.set()
        if planned:
            status, body, delay = planned
            if delay:
                time.sleep(delay)  # a slow Twilio is what the test is about
            return status, body
        to, from_, url = (form.get(key, [""])[0] for key in ("To", "From", "Url"))
        if not to or not from_ or not url:
            return 400, twilio_error(21201, "To, From and Url are required", 400)
        call = {
            "sid": "CA" + uuid.uuid4().hex,
            "to": to,
            "from": from_,
            "url": url,
            "created": datetime.now(UTC),
        }
        if self.mode == "hold_then_lose":
            self._release.wait(60)
            return 503, twilio_error(20500, "lost", 503)
        with self._lock:
            self.calls.append(call)
        if self.mode == "hold_after_accepting":
            self._release.wait(60)
        return 201, self._resource(call)

    def _list(self, query: dict) -> tuple[int, dict]:
        to = query.get("To", [None])[0]
        after = query.get("StartTime>", [None])[0]
        since = datetime.fromisoformat(after.replace("Z", "+00:00")) if after else None
        if since and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        with self._lock:
            found = [
                c
                for c in self.calls
                if (to is None or c["to"] == to) and (since is None or c["created"] >= since)
            ]
        return 200, {
            "calls": [self._resource(c) for c in reversed(found)],
            "first_page_uri": self.calls_path,
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": 50,
            "start": 0,
            "end": max(len(found) - 1, 0),
            "uri": self.calls_path,
        }

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _record(self, form: list) -> None:
                url = urlparse(self.path)
                with standin._lock:
                    standin.requests.append(
                        {
                            "method": self.command,
                            "path": url.path,
                            "headers": dict(self.headers),
                            "form": form,
                            "query": parse_qsl(url.query, keep_blank_values=True),
                        }
                    )

            def _authorised(self) -> bool:
                expected = f"{standin.account_sid}:{standin.auth_token}".encode()
                return self.headers.get("Authorization", "") == (
                    "Basic " + base64.b64encode(expected).decode()
                )

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                # The client may have given up waiting (a timeout test, a killed worker).
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)

            def _refused(self) -> bool:
                if urlparse(self.path).path != standin.calls_path:
                    self._answer(404, twilio_error(20404, "Not found", 404))
                    return True
                if not self._authorised():
                    self._answer(401, twilio_error(20003, "Authenticate", 401))
                    return True
                return False

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                self._record(parse_qsl(body, keep_blank_values=True))
                if not self._refused():
                    self._answer(*standin._create(parse_qs(body, keep_blank_values=True)))

            def do_GET(self):
                self._record([])
                if not self._refused():
                    self._answer(*standin._list(parse_qs(urlparse(self.path).query)))

        return Handler
