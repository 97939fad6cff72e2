"""Outcome events: what the bank hears of a case, signed per Standard Webhooks and delivered.

- `record_event` is the outbox: the Transaction model methods call it inside the
  database transaction that changes the case, so a verdict and its event are
  committed together or not at all. It freezes the payload, adds one Delivery
  per active endpoint that wants the type, and enqueues their tasks in that
  same transaction (the task queue is a table of the same database).
- `deliver` sends one delivery: claimed by a conditional update (so two workers
  never send the same attempt), signed with the standardwebhooks library,
  POSTed with a short timeout on the task worker's "events" queue, never in
  a web request. A non-2xx answer or a timeout is retried with backoff for
  EVENT_RETRY_WINDOW_HOURS, then the delivery fails.
- Order per case and endpoint: a delivery waits while an older event of the same
  case to the same endpoint is pending or sending; each success starts the next.
- At least once: `sweep` (run by the worker's periodic tick) re-enqueues
  deliveries that are overdue, including those whose worker died mid-send.
"""

import json
import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone
from standardwebhooks import Webhook

from .models import (
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    OutcomeEvent,
    Transaction,
    WebhookEndpoint,
)

logger = logging.getLogger(__name__)

EXCERPT = 500
# A sending delivery not finished this long after its request's timeout lost its worker.
LEASE_MARGIN = timedelta(seconds=30)
# A task normally takes a due delivery within a second: the sweep waits this long
# before queueing another, and queues one at most this often while the worker is away.
SWEEP_GRACE = timedelta(seconds=60)
SWEEP_BATCH = 200
OPEN = (DeliveryState.PENDING, DeliveryState.SENDING)


# --- what is sent


def record_event(txn: Transaction, event_type: str) -> OutcomeEvent:
    """Record an event about `txn` with its deliveries; call it inside the change's transaction."""
    now = timezone.now()
    payload = {"type": event_type, "timestamp": now.isoformat(), "data": txn.as_alert()}
    event = OutcomeEvent.objects.create(
        type=event_type,
        transaction=txn,
        created_at=now,
        payload=json.loads(json.dumps(payload, cls=DjangoJSONEncoder)),
    )
    # Few endpoints: filtered here, as JSON containment differs between SQLite and PostgreSQL.
    active = WebhookEndpoint.objects.filter(active=True)
    endpoints = [e for e in active if event_type in e.event_types]
    deliveries = Delivery.objects.bulk_create(
        Delivery(event=event, endpoint=endpoint, next_attempt_at=now) for endpoint in endpoints
    )
    for delivery in deliveries:
        _enqueue(delivery.pk)
    return event


def body(event: OutcomeEvent) -> str:
    return json.dumps(event.payload, separators=(",", ":"))


def signed_headers(endpoint: WebhookEndpoint, event: OutcomeEvent, data: str, now) -> dict:
    """The Standard Webhooks headers; the timestamp is this attempt's (receivers check it)."""
    # After a rotation one signature per secret, space-separated: either verifies.
    signature = " ".join(
        Webhook(secret).sign(event.msg_id, now, data) for secret in endpoint.signing_secrets(now)
    )
    return {
        "Content-Type": "application/json",
        "User-Agent": "ivr-outcome-events",
        "webhook-id": event.msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


# --- delivering


def _enqueue(pk: int, when: datetime | None = None) -> None:
    from .tasks import deliver_event

    (deliver_event.using(run_after=when) if when else deliver_event).enqueue(pk)


def retry_delay(attempts: int) -> timedelta:
    """Wait after the `attempts`-th failed attempt: the schedule's steps, then its last."""
    delays = settings.EVENT_RETRY_DELAYS_SECONDS
    return timedelta(seconds=delays[min(attempts, len(delays)) - 1])


def _older_open(delivery: Delivery):
    return Delivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        event__transaction_id=delivery.event.transaction_id,
        event_id__lt=delivery.event_id,
        state__in=OPEN,
    )


def _next_in_line(delivery: Delivery) -> None:
    """Start the oldest open delivery of the same case and endpoint (order held it back)."""
    following = (
        Delivery.objects.filter(
            endpoint_id=delivery.endpoint_id,
            event__transaction_id=delivery.event.transaction_id,
            event_id__gt=delivery.event_id,
            state=DeliveryState.PENDING,
        )
        .order_by("event_id")
        .first()
    )
    if following is not None:
        now = timezone.now()
        Delivery.objects.filter(pk=following.pk, state=DeliveryState.PENDING).update(
            next_attempt_at=now
        )
        _enqueue(following.pk)


def _post(url: str, data: str, headers: dict) -> dict:
    """One request; what the attempt log keeps of it. Never raises for the network."""
    import requests

    started = time.monotonic()
    outcome = {"http_status": None, "response_excerpt": "", "error": ""}
    try:
        with requests.post(
            url,
            data=data.encode(),
            headers=headers,
            timeout=settings.EVENT_HTTP_TIMEOUT,
            allow_redirects=False,  # a redirect is an answer to fix, not to follow
            stream=True,
        ) as response:
            outcome["http_status"] = response.status_code
            # Read only the start: an endpoint's answer may be large.
            excerpt = response.raw.read(EXCERPT * 4, decode_content=True) or b""
            outcome["response_excerpt"] = excerpt.decode(errors="replace")[:EXCERPT]
    except requests.Timeout:
        outcome["error"] = f"No answer within {settings.EVENT_HTTP_TIMEOUT:g} s"
    except requests.RequestException as exc:
        outcome["error"] = f"{type(exc).__name__}: {exc}"[:EXCERPT]
    outcome["duration_ms"] = round((time.monotonic() - started) * 1000)
    return outcome


def deliver(pk: int) -> str:
    """Send delivery `pk` if it is due and next in line; returns what happened."""
    now = timezone.now()
    delivery = Delivery.objects.select_related("event", "endpoint").filter(pk=pk).first()
    if delivery is None or delivery.state not in OPEN:
        return "done"
    if delivery.next_attempt_at and delivery.next_attempt_at > now:
        return "not due"  # a task for its time exists, or the sweep will make one
    if not delivery.endpoint.active:
        return "endpoint inactive"  # kept pending: sent if the endpoint is switched on again
    older = _older_open(delivery).order_by("next_attempt_at").first()
    if older is not None:
        # Held for order until the older one's time, so the sweep leaves it alone;
        # the older one's success (or failure) starts it at once.
        Delivery.objects.filter(
            pk=pk, state=DeliveryState.PENDING, next_attempt_at=delivery.next_attempt_at
        ).update(next_attempt_at=max(older.next_attempt_at or now, now))
        return "waiting for an older event"
    lease = now + timedelta(seconds=settings.EVENT_HTTP_TIMEOUT) + LEASE_MARGIN
    claimed = Delivery.objects.filter(
        pk=pk, state=delivery.state, next_attempt_at=delivery.next_attempt_at
    ).update(
        state=DeliveryState.SENDING,
        next_attempt_at=lease,
        attempts=F("attempts") + 1,
        first_attempt_at=Coalesce("first_attempt_at", now),
    )
    if not claimed:
        return "taken"  # another worker has it
    data = body(delivery.event)
    headers = signed_headers(delivery.endpoint, delivery.event, data, now)
    result = _post(delivery.endpoint.url, data, headers)
    return _record(delivery, lease, now, result)


def _record(delivery: Delivery, lease: datetime, sent_at: datetime, result: dict) -> str:
    now = timezone.now()
    status = result["http_status"]
    # Only while this worker's lease holds: a sweep may have handed it on meanwhile.
    mine = Delivery.objects.filter(
        pk=delivery.pk, state=DeliveryState.SENDING, next_attempt_at=lease
    )
    with transaction.atomic():
        DeliveryAttempt.objects.create(delivery=delivery, at=sent_at, **result)
        if status is not None and 200 <= status < 300:
            if mine.update(state=DeliveryState.DELIVERED, delivered_at=now, next_attempt_at=None):
                _next_in_line(delivery)
            return "delivered"
        delivery.refresh_from_db(fields=["attempts", "first_attempt_at"])
        window = timedelta(hours=settings.EVENT_RETRY_WINDOW_HOURS)
        due = now + retry_delay(delivery.attempts)
        if due > (delivery.first_attempt_at or sent_at) + window:
            if mine.update(state=DeliveryState.FAILED, next_attempt_at=None):
                logger.warning("Gave up on %s to %s", delivery.event, delivery.endpoint)
                _next_in_line(delivery)
            return "failed"
        if mine.update(state=DeliveryState.PENDING, next_attempt_at=due):
            _enqueue(delivery.pk, due)
    return f"retry at {due.isoformat()}"


def sweep(now: datetime | None = None) -> int:
    """Enqueue deliveries that are overdue: their task was lost, or their worker died sending."""
    now = now or timezone.now()
    overdue = (
        Delivery.objects.filter(state__in=OPEN, next_attempt_at__lte=now - SWEEP_GRACE)
        .filter(endpoint__active=True)
        .order_by("next_attempt_at", "id")
        .values_list("pk", "state", "next_attempt_at")[:SWEEP_BATCH]
    )
    queued = 0
    for pk, state, due in overdue:
        with transaction.atomic():
            # Due now, and not overdue again for a while: one new task per sweep window
            # even when no worker takes them (a stopped events worker).
            again = Delivery.objects.filter(pk=pk, state=state, next_attempt_at=due)
            if again.update(state=DeliveryState.PENDING, next_attempt_at=now):
                _enqueue(pk)
                queued += 1
    return queued


def redeliver(deliveries) -> int:
    """Send these deliveries again now (delivered or failed ones too); returns how many."""
    now = timezone.now()
    pks = list(deliveries.exclude(state=DeliveryState.SENDING).values_list("pk", flat=True))
    with transaction.atomic():
        # A fresh start: the backoff from its first step, a new window (the log keeps all).
        Delivery.objects.filter(pk__in=pks).exclude(state=DeliveryState.SENDING).update(
            state=DeliveryState.PENDING,
            attempts=0,
            next_attempt_at=now,
            first_attempt_at=None,
            delivered_at=None,
        )
        for pk in pks:
            _enqueue(pk)
    return len(pks)


def redeliver_events(events) -> int:
    """Every delivery of these events again; endpoints added since get one too."""
    with transaction.atomic():
        for event in events:
            for endpoint in WebhookEndpoint.objects.filter(active=True):
                if event.type in endpoint.event_types:
                    Delivery.objects.get_or_create(
                        event=event, endpoint=endpoint, defaults={"next_attempt_at": timezone.now()}
                    )
        return redeliver(Delivery.objects.filter(event__in=[e.pk for e in events]))


def redeliver_failed(endpoints=None) -> int:
    failed = Delivery.objects.filter(state=DeliveryState.FAILED)
    if endpoints is not None:
        failed = failed.filter(endpoint__in=endpoints)
    return redeliver(failed)
