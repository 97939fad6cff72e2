"""Twilio's Calls REST resource on a local port, for tests of automatic calling.

The real `twilio` client (in this process or in a db_worker subprocess) talks
to it over HTTP. It checks the account credentials, counts every call it
accepts, answers the list endpoint (`To`, `StartTime>` filters) and can be
told to answer slowly, so a test can kill a worker while a request is open:

- `hold_after_accepting`: the call is recorded (Twilio has it), then the
  answer waits until `release()`;
- `hold_then_lose`: the answer waits, and the call is never recorded (the
  request never reached Twilio, as far as anyone can tell).
"""

import base64
import contextlib
import json
import threading
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class TwilioStandIn:
    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls: list[dict] = []
        self.mode = "normal"  # or "hold_after_accepting", "hold_then_lose"
        self.requests = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        self.request_arrived = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "TwilioStandIn":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()

    def release(self) -> None:
        self._release.set()

    def placed_to(self, number: str) -> int:
        return sum(1 for call in self.calls if call["to"] == number)

    # --- the resource ---------------------------------------------------------

    def _resource(self, call: dict) -> dict:
        return {
            "sid": call["sid"],
            "account_sid": self.account_sid,
            "to": call["to"],
            "from": call["from"],
            "status": "queued",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
            "date_created": format_datetime(call["created"]),
            "date_updated": format_datetime(call["created"]),
            "start_time": None,
            "end_time": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{call['sid']}.json",
        }

    def _create(self, form: dict) -> tuple[int, dict]:
        self.requests += 1
        self.request_arrived.set()
        to, from_ = form.get("To", [""])[0], form.get("From", [""])[0]
        if not to or not from_ or not form.get("Url"):
            return 400, {"code": 21201, "message": "To, From and Url are required", "status": 400}
        call = {
            "sid": "CA" + uuid.uuid4().hex,
            "to": to,
            "from": from_,
            "url": form["Url"][0],
            "created": datetime.now(UTC),
        }
        if self.mode == "hold_after_accepting":
            with self._lock:
                self.calls.append(call)
            self._release.wait(60)
        elif self.mode == "hold_then_lose":
            self._release.wait(60)
            return 503, {"code": 20500, "message": "lost", "status": 503}
        else:
            with self._lock:
                self.calls.append(call)
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
        path = f"/2010-04-01/Accounts/{self.account_sid}/Calls.json"
        return 200, {
            "calls": [self._resource(c) for c in reversed(found)],
            "first_page_uri": path,
            "next_page_uri": None,
            "previous_page_uri": None,
            "page": 0,
            "page_size": 50,
            "start": 0,
            "end": max(len(found) - 1, 0),
            "uri": path,
        }

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _authorised(self) -> bool:
                expected = f"{standin.account_sid}:{standin.auth_token}".encode()
                return self.headers.get("Authorization", "") == (
                    "Basic " + base64.b64encode(expected).decode()
                )

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                # The worker may have been killed while we held its request.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(data)

            def _route(self) -> bool:
                path = urlparse(self.path).path
                if path != f"/2010-04-01/Accounts/{standin.account_sid}/Calls.json":
                    self._answer(404, {"code": 20404, "message": "Not found", "status": 404})
                    return False
                if not self._authorised():
                    self._answer(401, {"code": 20003, "message": "Authenticate", "status": 401})
                    return False
                return True

            def do_POST(self):
                if not self._route():
                    return
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                self._answer(*standin._create(form))

            def do_GET(self):
                if not self._route():
                    return
                self._answer(*standin._list(parse_qs(urlparse(self.path).query)))

        return Handler
