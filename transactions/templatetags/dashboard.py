"""Formatting for the dashboard: money the Indian way, status badges, a row's version."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template

from transactions.models import CALLABLE_STATUSES, Status

register = template.Library()

CURRENCY_SYMBOLS = {"INR": "₹", "USD": "$", "EUR": "€", "GBP": "£"}

# Text, a glyph and a colour class: colour is never the only signal.
STATUS_DISPLAY = {
    Status.PENDING: ("pending", "Pending", "●"),
    Status.CONNECTING: ("connecting", "Connecting", "◌"),
    Status.RESOLVED: ("resolved", "Resolved", "✓"),
    Status.FRAUD: ("fraud", "Fraud", "⚠"),
    Status.NOT_ANSWERED: ("not-answered", "Not Answered", "✕"),
    Status.DISCONNECTED: ("disconnected", "Disconnected", "⊘"),
}


def group_indian(whole: str) -> str:
    """12345678 → 1,23,45,678 (lakh and crore grouping)."""
    if len(whole) <= 3:
        return whole
    head, tail = whole[:-3], whole[-3:]
    pairs = []
    while len(head) > 2:
        pairs.insert(0, head[-2:])
        head = head[:-2]
    if head:
        pairs.insert(0, head)
    return ",".join([*pairs, tail])


def _group_western(whole: str) -> str:
    return f"{int(whole):,}"


@register.filter
def money(amount, currency="INR"):
    """2350.1, "INR" → "₹2,350.10"; lakh grouping for rupees, thousands otherwise."""
    try:
        value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError):
        return ""
    sign = "-" if value < 0 else ""
    whole, _, cents = f"{abs(value):.2f}".partition(".")
    grouped = group_indian(whole) if currency == "INR" else _group_western(whole)
    symbol = CURRENCY_SYMBOLS.get(currency)
    if symbol:
        return f"{sign}{symbol}{grouped}.{cents}"
    return f"{sign}{grouped}.{cents} {currency}"


@register.filter
def status_slug(status):
    return STATUS_DISPLAY.get(status, ("unknown", status, "?"))[0]


@register.filter
def status_label(status):
    return STATUS_DISPLAY.get(status, ("unknown", status, "?"))[1]


@register.filter
def status_glyph(status):
    return STATUS_DISPLAY.get(status, ("unknown", status, "?"))[2]


@register.filter
def offers_call(txn) -> bool:
    """Whether the row's badge is a call button: a callable status, and no call on the line.

    on_call comes from Transaction.objects.with_call_info(); the click is checked
    again when it arrives (Transaction.begin_call).
    """
    return txn.status in CALLABLE_STATUSES and not getattr(txn, "on_call", False)


@register.filter
def row_version(updated_at) -> int:
    """What a row on screen shows, as a number: its updated_at in microseconds."""
    if updated_at is None:
        return 0
    return int(updated_at.timestamp()) * 1_000_000 + updated_at.microsecond


@register.simple_tag
def last_failure(txn):
    """The latest call's failure, e.g. "Twilio rejected the number (21211)"."""
    message = getattr(txn, "last_error_message", "") or ""
    code = getattr(txn, "last_error_code", "") or ""
    if code and message:
        return f"{message} ({code})"
    return message or (f"Error {code}" if code else "")
