"""Dashboard helpers for automatic calls: what a row waits for, and the calling-hours warning."""

from functools import lru_cache

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format

from transactions.models import QueueState
from voiceflow import autocall

register = template.Library()


@register.simple_tag
def autocall_label(txn) -> str:
    """What the row waits for: "Queued", "Calling", "Scheduled at 08:00 IST", "Retry 2 of 3 at …".

    "" when nothing is planned. Times are the analyst's (TIME_ZONE), named, since
    calling hours are the customer's: "21:30" alone read as either. With the
    date when it is not today.
    """
    if not txn.queue_state:
        return ""
    if txn.queue_state != QueueState.SCHEDULED or txn.next_call_at is None:
        return txn.queue_label
    at = timezone.localtime(txn.next_call_at)
    when = date_format(at, "H:i T")
    if at.date() != timezone.localdate():
        when = date_format(at, "j M H:i T")
    return f"{txn.queue_label} at {when}"


@register.filter
def outside_calling_hours(txn, now=None, window=None) -> bool:
    """True when calling now would ring the customer outside CALLING_HOURS in their time zone.

    autocall.outside_calling_hours, with each number's time zone remembered:
    reading it from the number (libphonenumber) costs more than drawing the
    rest of a dashboard row, and a page asks for fifty. `window` is
    autocall.calling_hours(), when the caller has it already.
    """
    if not txn.phone:
        return False
    opens, closes = window or autocall.calling_hours()
    zone = _customer_time_zone(txn.phone, settings.DEFAULT_CUSTOMER_TIME_ZONE)
    local = (now or timezone.now()).astimezone(zone)
    return not opens <= local.time() < closes


@lru_cache(maxsize=20_000)
def _customer_time_zone(phone, default_zone):
    # default_zone is part of the key: the answer depends on that setting too.
    return autocall.customer_time_zone(phone)


@register.simple_tag
def calling_hours() -> str:
    opens, closes = autocall.calling_hours()
    return f"{opens:%H:%M}–{closes:%H:%M}"
