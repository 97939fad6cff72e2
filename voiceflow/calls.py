"""Placing calls through Twilio's REST API, and tidying up calls Twilio never reported on.

The real `twilio` client is used everywhere; only its REST base URL changes
(settings.TWILIO_API_BASE_URL: the built-in simulator, or a test's stand-in).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Case, Max, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException

from transactions.models import (
    CALL_NOT_KNOWN,
    CallAttempt,
    CallEvent,
    CallOutcome,
    CallRefused,
    CallTrigger,
    Status,
)
from voiceflow import autocall

logger = logging.getLogger(__name__)

# The progress events we ask for (Twilio accepts only these four).
STATUS_CALLBACK_EVENTS = ["initiated", "ringing", "answered", "completed"]

# Twilio error codes an analyst can act on, in words they can act on.
TWILIO_ERRORS = {
    20003: "Twilio refused our credentials; check TWILIO_SID and TWILIO_AUTH_TOKEN",
    20429: "Twilio is busy with too many calls; try again in a minute",
    21210: "Our caller number is not verified with Twilio; check TWILIO_NUMBER",
    21211: "Twilio rejected the number",
    21214: "The number cannot be reached",
    21215: "Calls to this country are not enabled in our Twilio account",
    21216: "Calls to this number are not allowed",
    21217: "Twilio rejected the number",
    13224: "The number is not in international (E.164) form",
}
# Problems with the customer's number (422) rather than with Twilio or us (502).
NUMBER_ERRORS = {21211, 21214, 21215, 21216, 21217, 13224}


# The row may not be called now; raised by Transaction.begin_call, nothing changed.
CallConflict = CallRefused


class CallFailed(Exception):
    """Twilio did not place the call. The attempt records why; the row is Disconnected."""

    def __init__(self, attempt: CallAttempt, code: str, reason: str, *, number_problem=False):
        super().__init__(reason)
        self.attempt = attempt
        self.code = code
        self.reason = reason
        self.number_problem = number_problem

    @property
    def message(self) -> str:
        return f"{self.reason} ({self.code})" if self.code else self.reason


class CallNotKnown(Exception):
    """Twilio gave no readable answer: the call may have been placed.

    The attempt stays on the line (the row cannot be called again) until a
    webhook of the call arrives or Twilio's call list says; see settle_unknown_calls.
    """

    def __init__(self, attempt: CallAttempt):
        super().__init__(NOT_KNOWN_MESSAGE)
        self.attempt = attempt
        self.message = NOT_KNOWN_MESSAGE


NOT_KNOWN_MESSAGE = (
    "Twilio did not answer in time, so the call may have been placed. The row shows it "
    "as soon as Twilio reports; it cannot be called again until then."
)
# How long after a request that got no answer Twilio's call list is trusted to show
# the call, if it was placed at all.
NOT_KNOWN_GRACE = timedelta(seconds=60)


def twilio_client():
    """The real client (twilio.rest.Client), with a short timeout so a click never hangs."""
    # Imported on first use: twilio.rest and requests add ~5 MB to every web worker,
    # and most requests (pages, webhooks) never place a call.
    from twilio.http.http_client import TwilioHttpClient
    from twilio.rest import Client

    http_client = TwilioHttpClient(timeout=settings.TWILIO_HTTP_TIMEOUT)
    client = Client(settings.TWILIO_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)
    if settings.TWILIO_API_BASE_URL:
        client.api.base_url = settings.TWILIO_API_BASE_URL
    return client


def webhook_url(name: str, public_id: str) -> str:
    return settings.PUBLIC_URL + reverse(name, args=[public_id])


def _never_sent(exc: Exception) -> bool:
    """True when the request cannot have reached Twilio (no connection was made)."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, NewConnectionError)


def _describe_network_error(exc: Exception) -> str:
    import requests

    if isinstance(exc, requests.Timeout):
        return "Could not reach Twilio (no answer in time)"
    return "Could not reach Twilio (connection refused)"


def _fail(txn, attempt: CallAttempt, code: str, reason: str, number_problem: bool) -> CallFailed:
    CallAttempt.objects.filter(pk=attempt.pk).update(
        error_code=code,
        error_message=reason[:500],
        outcome=CallOutcome.FAILED,
        twilio_status="failed",
        ended_at=timezone.now(),
    )
    attempt.refresh_from_db()
    txn.record_call_end(attempt, Status.DISCONNECTED)
    logger.warning("Call for %s not placed: %s (%s)", txn.public_id, reason, code or "-")
    return CallFailed(attempt, code, reason, number_problem=number_problem)


def request_call(txn, *, user=None, trigger=CallTrigger.MANUAL) -> CallAttempt:
    """Record the attempt and ask Twilio to place the call (synchronously).

    Raises CallConflict (nothing changed), CallFailed (the attempt keeps
    Twilio's code and message and has ended; a row without a verdict is
    Disconnected) or CallNotKnown (no readable answer and the call not found
    yet: the attempt stays on the line until settle_unknown_calls knows).
    """
    attempt = txn.begin_call(trigger=trigger, user=user)
    import requests  # loaded with the twilio client anyway (see twilio_client)

    try:
        call = twilio_client().calls.create(
            to=txn.phone,
            from_=settings.TWILIO_NUMBER,
            url=webhook_url("voiceflow:step0", txn.public_id),
            method="POST",
            status_callback=webhook_url("voiceflow:status", txn.public_id),
            status_callback_event=STATUS_CALLBACK_EVENTS,
            status_callback_method="POST",
            machine_detection="Enable",
        )
    except TwilioRestException as exc:
        code = exc.code or ""
        reason = TWILIO_ERRORS.get(code) or (exc.msg or f"Twilio answered {exc.status}")
        raise _fail(txn, attempt, str(code), reason, code in NUMBER_ERRORS) from exc
    except (requests.RequestException, TwilioException, ValueError) as exc:
        if _never_sent(exc):
            raise _fail(txn, attempt, "", _describe_network_error(exc), False) from exc
        # Sent, but no readable answer (a read timeout, a dropped or garbled answer):
        # Twilio may have placed the call.
        return _look_up_after_no_answer(txn, attempt, exc)
    except Exception as exc:
        logger.exception("Unexpected error placing a call for %s", txn.public_id)
        return _look_up_after_no_answer(txn, attempt, exc)

    # A status callback may have raced us here and given the SID already.
    attempt.adopt(call.sid, call.status or "queued")
    attempt.refresh_from_db()
    logger.info("Call %s placed for %s", call.sid, txn.public_id)
    return attempt


def _look_up_after_no_answer(txn, attempt: CallAttempt, exc: Exception) -> CallAttempt:
    """The attempt, if Twilio's call list shows the call placed; else raise CallNotKnown."""
    CallAttempt.objects.filter(pk=attempt.pk).update(
        error_code=CALL_NOT_KNOWN, error_message=NOT_KNOWN_MESSAGE[:500]
    )
    attempt.refresh_from_db()
    logger.warning("Call for %s: no readable answer from Twilio (%s)", txn.public_id, exc)
    _settle(attempt, timezone.now())
    attempt.refresh_from_db()
    if attempt.call_sid:
        return attempt  # it was placed: adopted, and its webhooks work
    raise CallNotKnown(attempt) from exc


def find_placed_call(attempt: CallAttempt) -> str | None:
    """The SID of a call Twilio placed for this attempt and no other, per its call list.

    Raises on a network or Twilio error: then nobody knows yet.
    """
    txn = attempt.transaction
    since = attempt.created_at - timedelta(seconds=5)
    calls = twilio_client().calls.list(to=txn.phone, start_time_after=since, limit=20)
    ours = [
        c
        for c in calls
        if (c.date_created or c.start_time or since) >= since
        and getattr(c, "_from", None) in (None, "", settings.TWILIO_NUMBER)
    ]
    known = set(
        CallAttempt.objects.filter(call_sid__in=[c.sid for c in ours]).values_list(
            "call_sid", flat=True
        )
    )
    fresh = [c for c in ours if c.sid not in known]
    if not fresh:
        return None
    return min(fresh, key=lambda c: c.date_created or since).sid


def _settle(attempt: CallAttempt, now) -> str:
    """Look a not-known call up at Twilio: "adopted", "not placed" or "waiting"."""
    from twilio.base.exceptions import TwilioException as ClientError

    try:
        sid = find_placed_call(attempt)
    except (ClientError, OSError, ValueError) as exc:
        logger.warning("Cannot ask Twilio about call #%s yet: %s", attempt.pk, exc)
        return "waiting"
    if sid:
        attempt.adopt(sid)
        logger.warning("Adopted call %s for %s after no answer", sid, attempt.transaction)
        return "adopted"
    if now - attempt.created_at < NOT_KNOWN_GRACE:
        return "waiting"  # Twilio may still be taking the request
    ended = CallAttempt.objects.filter(
        pk=attempt.pk, ended_at__isnull=True, call_sid__isnull=True
    ).update(
        ended_at=now,
        outcome=CallOutcome.FAILED,
        error_code="",
        error_message="Twilio did not place the call",
    )
    if ended:
        attempt.refresh_from_db()
        attempt.transaction.record_call_end(attempt, Status.DISCONNECTED)
    return "not placed"


def settle_unknown_calls(now=None) -> dict:
    """Calls whose request got no readable answer: adopt the ones Twilio placed, end the others."""
    now = now or timezone.now()
    counts = {"adopted": 0, "not placed": 0, "waiting": 0}
    pending = CallAttempt.objects.filter(
        error_code=CALL_NOT_KNOWN, call_sid__isnull=True, ended_at__isnull=True
    ).select_related("transaction")
    for attempt in pending:
        counts[_settle(attempt, now)] += 1
    return counts


def sweep_stale_calls() -> int:
    """Calls with no word from Twilio for STALE_CALL_MINUTES end as failed; returns how many.

    "No word" means no status callback, prompt or answer recorded within the
    window. Until then the call counts as on the line, and the row cannot be
    called again.
    """
    cutoff = timezone.now() - timedelta(minutes=settings.STALE_CALL_MINUTES)
    live = CallAttempt.objects.filter(ended_at__isnull=True, created_at__lt=cutoff)
    stale = live.annotate(last_event=Max("events__created_at")).filter(
        Q(last_event__isnull=True) | Q(last_event__lt=cutoff)
    )
    message = f"No word from Twilio for {settings.STALE_CALL_MINUTES} minutes"
    swept = 0
    for attempt in stale.select_related("transaction"):
        # Only while it has still not ended: a callback arriving now wins.
        ended = CallAttempt.objects.filter(pk=attempt.pk, ended_at__isnull=True).update(
            ended_at=timezone.now(),
            outcome=Case(When(outcome="", then=Value(CallOutcome.FAILED)), default="outcome"),
            error_message=Case(When(outcome="", then=Value(message)), default="error_message"),
        )
        if not ended:
            continue
        swept += 1
        CallEvent.objects.create(call=attempt, kind=CallEvent.Kind.NOTE, prompt=message)
        attempt.transaction.record_call_end(attempt, Status.DISCONNECTED)
        attempt.refresh_from_db()
        autocall.report_unreachable(attempt)  # a voicemail recorded before it went silent
        logger.info("Stale call %s for %s ended", attempt, attempt.transaction.public_id)
    return swept
