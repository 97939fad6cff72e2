"""Set up one benchmark phase inside Django: a signed-in analyst, calls to answer, requests.

Run by bench/run.py with the phase's environment (database, PUBLIC_URL, key).
Writes, into --out: one request file per endpoint (METHOD, path, body and
headers, tab-separated, read by bench/requests.lua) and prepared.json.
"""

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivr_project.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

from transactions.models import CallAttempt, Status, Transaction  # noqa: E402
from transactions.roles import ANALYSTS, SUPERVISORS  # noqa: E402

FORM = "Content-Type: application/x-www-form-urlencoded"


def _session_cookie(username="bench-analyst", role=ANALYSTS) -> str:
    user, _ = User.objects.get_or_create(username=username)
    user.groups.add(Group.objects.get(name=role))
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    # The backend a password sign-in records (the first, django-axes, only counts failures).
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def _calls(kind: str, pool: int, phase: str, **fields) -> list[tuple[str, str]]:
    """`pool` call attempts spread over the first transactions: [(public_id, CallSid)].

    A transaction has one live call at a time (a database constraint), and the
    small database's 20 rows carry thousands of calls each: these are recorded
    as ended, which a webhook does not read (a final status callback then
    skips the end-of-call handling it would do once per call).
    """
    txns = list(Transaction.objects.order_by("id").values_list("id", "public_id")[:pool])
    attempts = []
    ended = timezone.now()
    for n in range(pool):
        txn_id, _ = txns[n % len(txns)]
        sid = f"CA{phase}{kind}{n:08d}".ljust(34, "0")[:34]
        attempts.append(CallAttempt(transaction_id=txn_id, call_sid=sid, ended_at=ended, **fields))
    CallAttempt.objects.bulk_create(attempts, batch_size=1000)
    Transaction.objects.filter(id__in=[t for t, _ in txns]).update(status=Status.CONNECTING)
    by_id = dict(txns)
    return [(by_id[a.transaction_id], a.call_sid) for a in attempts]


def _signed_lines(calls, path_for, extra: dict) -> list[str]:
    validator = RequestValidator(settings.TWILIO_AUTH_TOKEN)
    lines = []
    for public_id, sid in calls:
        path = path_for(public_id)
        params = {
            "AccountSid": settings.TWILIO_SID,
            "CallSid": sid,
            "From": settings.TWILIO_NUMBER,
            "To": "+919800000000",
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
            **extra,
        }
        signature = validator.compute_signature(settings.PUBLIC_URL + path, params)
        lines.append(
            "\t".join(["POST", path, urlencode(params), f"{FORM}|X-Twilio-Signature: {signature}"])
        )
    return lines


def _get(path: str, cookie: str = "", htmx: bool = False) -> str:
    headers = []
    if cookie:
        headers.append(f"Cookie: {cookie}")
    if htmx:
        headers.append("HX-Request: true")
    return "\t".join(["GET", path, "", "|".join(headers)])


def poll_path() -> str:
    """The dashboard's poll as the page would send it, asking for changes since now.

    The token comes from the dashboard's own poll_token (signed, issued to the
    bench analyst); `shown` lists the first page's rows and their versions.
    """
    from django.utils import timezone

    from transactions.templatetags.dashboard import row_version
    from transactions.views.dashboard import poll_token

    user = User.objects.get(username="bench-analyst")
    first_page = Transaction.objects.order_by("-transaction_date", "-id")[:50]
    shown = "~".join(f"{t.public_id}.{row_version(t.updated_at)}" for t in first_page)
    return "/rows?" + urlencode({"since": poll_token(user.pk, timezone.now()), "shown": shown})


def _as_autovacuum_would():
    """Fresh statistics, and on PostgreSQL no dead rows, after the import and the set-up above.

    A production server's autovacuum does this within minutes; a test server
    may run with autovacuum off, and then the rows the set-up rewrote (and
    left dead) would slow every index scan of the run.
    """
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out")
    parser.add_argument("--phase")
    parser.add_argument("--pool", type=int, default=6000)
    parser.add_argument("--full", action="store_true", help="also the dashboard and API requests")
    parser.add_argument("--poll", action="store_true", help="only print the poll's path, for now")
    args = parser.parse_args()
    if args.poll:
        print(poll_path())
        return
    if not (args.out and args.phase):
        parser.error("--out and --phase are required")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    cookie = _session_cookie()
    phase = hashlib.sha256(args.phase.encode()).hexdigest()[:6]
    files = {
        "healthz": [_get("/healthz")],
        "step0": _signed_lines(
            _calls("S", args.pool, phase, twilio_status="in-progress"),
            lambda pid: f"/voice/{pid}/step0",
            {"CallStatus": "in-progress"},
        ),
        "answer": _signed_lines(
            _calls("A", args.pool, phase, twilio_status="in-progress", current_step="0"),
            lambda pid: f"/voice/{pid}/step0/response",
            {
                "CallStatus": "in-progress",
                "SpeechResult": "No, I did not make this payment",
                "Confidence": "0.91",
            },
        ),
        "status": _signed_lines(
            _calls("C", args.pool, phase, twilio_status="initiated", last_sequence=0),
            lambda pid: f"/status/{pid}",
            {
                "CallStatus": "ringing",
                "SequenceNumber": "1",
                "CallbackSource": "call-progress-events",
            },
        ),
    }
    info = {"cookie": cookie, "rows": Transaction.objects.count()}
    if args.full:
        middle = Transaction.objects.order_by("id")[Transaction.objects.count() // 2]
        searches = {
            "search_name": middle.client_name,
            "search_phone": middle.phone[-8:],
            "search_merchant": middle.merchant_name,
        }
        for key, q in searches.items():
            files[key] = [_get("/?" + urlencode({"q": q}), cookie)]
            info[key] = {"q": q, "matches": Transaction.objects.search(q).count()}
        files["dashboard"] = [_get("/", cookie)]
        # The CSV export is a supervisor's: downloaded once, whole (bench/run.py).
        info["supervisor_cookie"] = _session_cookie("bench-supervisor", SUPERVISORS)
        files["api_500"] = [_get("/transactions?limit=500", cookie)]
    _as_autovacuum_would()
    for name, lines in files.items():
        (out / f"{name}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    info["endpoints"] = sorted(files)
    (out / "prepared.json").write_text(json.dumps(info, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
