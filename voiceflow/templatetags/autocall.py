"""Dashboard helpers for automatic calls: what a row waits for, and the calling-hours warning."""

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from transactions.models import QueueState
from voiceflow import autocall

register = template.Library()


@register.simple_tag
def autocall_label(txn) -> str:
    """What the row waits for: "Queued", "Calling", "Scheduled at 08:00", "Retry 2 of 3 at 14:30".

    "" when nothing is planned. Times are the analyst's (TIME_ZONE), with the
    date when it is not today.
    """
    if not txn.queue_state:
        return ""
    if txn.queue_state != QueueState.SCHEDULED or txn.next_call_at is None:
        # No query for these: a page of queued rows stays cheap to draw.
        return QueueState(txn.queue_state).label
    pending = autocall.pending_call(txn)
    at = timezone.localtime(pending.at)
    when = date_format(at, "H:i")
    if at.date() != timezone.localdate():
        when = date_format(at, "j M H:i")
    return f"{pending.label} at {when}"


@register.filter
def outside_calling_hours(txn) -> bool:
    """True when calling now would ring the customer outside CALLING_HOURS in their time zone."""
    return autocall.outside_calling_hours(txn)


@register.simple_tag
def calling_hours() -> str:
    opens, closes = autocall.calling_hours()
    return f"{opens:%H:%M}–{closes:%H:%M}"
