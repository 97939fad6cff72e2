"""Placing calls through Twilio's REST API, and tidying up calls Twilio never reported on.

The real `twilio` client is used everywhere; only its REST base URL changes
(settings.TWILIO_API_BASE_URL: the built-in simulator, or a test's stand-in).
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from twilio.base.exceptions import TwilioException, TwilioRestException

from transactions.models import (
    CALLABLE_STATUSES,
    CallAttempt,
    CallEvent,
    CallOutcome,
    CallTrigger,
    QueueState,
    Status,
    Transaction,
)

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


class CallConflict(Exception):
    """The row may not be called now (a call is under way, it is resolved, no phone...)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


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


def _claim(txn: Transaction, trigger: str) -> None:
    """Move the row to Connecting, or raise CallConflict saying why not."""
    if not txn.phone:
        raise CallConflict(f"{txn.public_id} has no phone number to call.")
    condition = Q(status__in=CALLABLE_STATUSES)
    values = {"status": Status.CONNECTING}
    if trigger == CallTrigger.MANUAL:
        # An analyst's call replaces whatever automatic call was planned.
        values.update(queue_state=QueueState.NONE, next_call_at=None)
    else:
        # The customer asked not to be called: only an analyst's own click may.
        condition &= Q(opted_out_at__isnull=True)
    if txn._update_if(condition, **values):
        return
    txn.refresh_from_db()
    if txn.status == Status.CONNECTING:
        raise CallConflict(f"A call to {txn.public_id} is already under way.")
    if txn.status == Status.RESOLVED:
        raise CallConflict(f"{txn.public_id} is resolved; it is not called again.")
    if txn.opted_out_at:
        raise CallConflict(f"{txn.client_name} asked not to be called automatically.")
    raise CallConflict(f"{txn.public_id} cannot be called while it is {txn.status}.")


def _describe_network_error(exc: Exception) -> str:
    import requests

    if isinstance(exc, requests.Timeout):
        return "Could not reach Twilio (no answer in time)"
    if isinstance(exc, requests.ConnectionError):
        return "Could not reach Twilio (connection refused or lost)"
    return "Could not reach Twilio"


def _fail(
    txn: Transaction, attempt: CallAttempt, code: str, reason: str, number_problem: bool
) -> CallFailed:
    now = timezone.now()
    CallAttempt.objects.filter(pk=attempt.pk).update(
        error_code=code,
        error_message=reason[:500],
        outcome=CallOutcome.FAILED,
        twilio_status="failed",
        ended_at=now,
    )
    attempt.refresh_from_db()
    txn._update_if(Q(status=Status.CONNECTING), status=Status.DISCONNECTED)
    logger.warning("Call for %s not placed: %s (%s)", txn.public_id, reason, code or "-")
    return CallFailed(attempt, code, reason, number_problem=number_problem)


def request_call(txn: Transaction, *, user=None, trigger=CallTrigger.MANUAL) -> CallAttempt:
    """Claim the row, record the attempt and ask Twilio to place the call (synchronously).

    Raises CallConflict (nothing changed) or CallFailed (the attempt keeps
    Twilio's code and message, the row is Disconnected).
    """
    _claim(txn, trigger)
    attempt = CallAttempt.objects.create(transaction=txn, trigger=trigger, placed_by=user)
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
    except (requests.RequestException, TwilioException) as exc:
        raise _fail(txn, attempt, "", _describe_network_error(exc), False) from exc
    except Exception as exc:
        # Whatever went wrong, the row must not stay in Connecting.
        logger.exception("Unexpected error placing a call for %s", txn.public_id)
        reason = "The call could not be placed (unexpected error)"
        raise _fail(txn, attempt, "", reason, False) from exc

    # A status callback may have raced us here and filled the SID already.
    CallAttempt.objects.filter(pk=attempt.pk).update(call_sid=call.sid)
    CallAttempt.objects.filter(pk=attempt.pk, twilio_status="").update(
        twilio_status=call.status or "queued"
    )
    attempt.refresh_from_db()
    logger.info("Call %s placed for %s", call.sid, txn.public_id)
    return attempt


def sweep_stale_calls() -> int:
    """Rows left in Connecting with no word from Twilio for STALE_CALL_MINUTES become Disconnected.

    "No word" means no status callback, prompt or answer recorded for the
    latest attempt within the window. Returns how many rows were changed.
    """
    cutoff = timezone.now() - timedelta(minutes=settings.STALE_CALL_MINUTES)
    swept = 0
    for txn in Transaction.objects.filter(status=Status.CONNECTING, updated_at__lt=cutoff):
        attempt = txn.calls.annotate(last_event=Max("events__created_at")).order_by("-id").first()
        if attempt is not None:
            last_heard = max(filter(None, [attempt.created_at, attempt.last_event]))
            if last_heard >= cutoff:
                continue
        # Only while still Connecting and unchanged since we looked.
        if not txn._update_if(
            Q(status=Status.CONNECTING, updated_at=txn.updated_at), status=Status.DISCONNECTED
        ):
            continue
        swept += 1
        if attempt is not None:
            message = f"No word from Twilio for {settings.STALE_CALL_MINUTES} minutes"
            CallAttempt.objects.filter(pk=attempt.pk, outcome="").update(
                outcome=CallOutcome.FAILED, error_message=message
            )
            CallAttempt.objects.filter(pk=attempt.pk, ended_at__isnull=True).update(
                ended_at=timezone.now()
            )
            CallEvent.objects.create(call=attempt, kind=CallEvent.Kind.NOTE, prompt=message)
        logger.info("Stale call for %s: Connecting → Disconnected", txn.public_id)
    return swept
