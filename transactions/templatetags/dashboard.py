"""Formatting for the dashboard: money the Indian way, status badges."""

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from html import escape
from urllib.parse import quote

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone
from django.utils.safestring import mark_safe

from transactions.models import CALLABLE_STATUSES, Status
from voiceflow import autocall
from voiceflow.templatetags.autocall import autocall_label, calling_hours, outside_calling_hours

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
def is_callable(status):
    return status in CALLABLE_STATUSES


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


# --- the dashboard row ----------------------------------------------------------
# A page draws 50 rows and the poll and row actions draw them too: drawn by
# Django's template engine, a row cost about half a millisecond (hundreds of
# variable lookups, three {% url %}, per-row includes); drawn here, a few
# dozen microseconds. Every value goes through _e (html.escape), as
# autoescaping would. What every row shares sits on <tbody id="rows"> (hx-target,
# hx-swap) or in the CSS (each column's alignment, by position).

_NEEDS_ESCAPE = re.compile(r"[&<>\"']").search


def _e(value) -> str:
    """html.escape(value), which most names, ids and phones do not need (one scan then)."""
    value = str(value)
    return escape(value) if _NEEDS_ESCAPE(value) else value


def _row_env(context) -> dict:
    """What every row of one rendering shares: permissions, URL prefixes, the time."""
    cached = context.render_context.get("dashboard_row_env")
    if cached is not None:
        return cached
    perms = context.get("perms")

    def allowed(codename):
        return bool(perms) and f"transactions.{codename}" in perms

    def prefix(name):
        # Each row's URL is this prefix + its id: reverse() once, not three times a row.
        try:
            url = reverse(name, args=["-"])
        except NoReverseMatch:
            return None
        if not url.endswith("/-"):
            raise ValueError(f"The URL {name!r} must end in the transaction id.")
        return url[:-1]

    env = {
        "place_call": allowed("place_call"),
        "edit_phone": allowed("edit_phone"),
        "detail": prefix("transaction_detail"),
        "phone": prefix("api-update-phone"),
        "call": prefix("voiceflow:call"),
        "hours": calling_hours(),
        "window": autocall.calling_hours(),
        "now": timezone.now(),
        "days": {},  # date → its <time>: a page often holds few distinct days
        "months": {},  # 11 → "Nov", as dateformat's "M" says it
    }
    context.render_context["dashboard_row_env"] = env
    return env


def _day_month_year(day, months) -> str:
    """dateformat.format(day, "j M Y"), the month's name looked up once a rendering, not a row."""
    month = months.get(day.month)
    if month is None:
        month = months[day.month] = dateformat.format(day, "M")
    return f"{day.day} {month} {day.year:04d}"


def _local(value, fmt) -> str:
    return dateformat.format(timezone.localtime(value), fmt)


def _phone_cell(t, pid, qid, env, message, error_field) -> str:
    phone = _e(t.phone)
    if not (env["phone"] and env["edit_phone"]):
        return f'<span class="num">{phone}</span>'
    url = env["phone"] + qid
    invalid = error_field == "phone"
    error = ""
    if invalid and message:
        error = f'<p class="field-error" id="phone-error-{pid}" role="alert">{_e(message)}</p>'
    return (
        f'<form class="phone-form" method="post" action="{url}" hx-post="{url}"'
        ' hx-trigger="submit, change" hx-sync="this:drop">'
        f'<input id="phone-{pid}" class="phone-input num{" invalid" if invalid else ""}"'
        f' aria-label="Phone number of {pid}"'
        f' name="client_phone" value="{phone}" type="tel" autocomplete="off" spellcheck="false"'
        ' maxlength="32" title="Click to edit; Enter saves, Escape cancels"'
        + (f' aria-invalid="true" aria-describedby="phone-error-{pid}"' if invalid else "")
        + f">{error}</form>"
    )


def _badge(t, pid, qid, env, slug, label, glyph) -> str:
    inner = (
        f'<span class="glyph" aria-hidden="true">{glyph}</span>'
        f' <span class="badge-text">{label}</span>'
    )
    if not (env["call"] and env["place_call"] and t.status in CALLABLE_STATUSES):
        busy = ' aria-busy="true"' if t.status == Status.CONNECTING else ""
        return f'<span class="badge status-{slug}"{busy}>{inner}</span>'
    name = _e(t.client_name)
    confirm = ""
    if t.status == Status.FRAUD:
        confirm = f' hx-confirm="{pid} is marked as fraud. Call {name} again?"'
    elif outside_calling_hours(t, env["now"], env["window"]):
        confirm = (
            f" hx-confirm=\"It is outside {name}'s calling hours ({env['hours']} their time)."
            ' Call now anyway?"'
        )
    url = env["call"] + qid
    return (
        f'<button type="button" class="badge status-{slug} callable" hx-post="{url}"'
        f' hx-sync="this:drop" hx-disabled-elt="this"{confirm}'
        f' aria-label="{label}: call {name} about {pid}">{inner}'
        ' <span class="badge-call" aria-hidden="true">☎ Call</span></button>'
    )


def _notes(t, message, error_field, is_error) -> str:
    notes = []
    if message and error_field != "phone":
        kind, role = (" error", "alert") if is_error else ("", "status")
        notes.append(f'<p class="row-msg{kind}" role="{role}">{_e(message)}</p>')
    failure = last_failure(t)
    if failure and not is_error and t.status != Status.CONNECTING:
        notes.append(f'<p class="row-fail" title="Latest call">{_e(failure)}</p>')
    if t.opted_out_at:
        when = _local(t.opted_out_at, "j M Y H:i")
        notes.append(f'<span class="tag tag-optout" title="Opted out {when}">Opted out</span>')
    if t.queue_state:
        title = f' title="{_local(t.next_call_at, "j M Y H:i")}"' if t.next_call_at else ""
        notes.append(
            f'<span class="tag tag-queue queue-{_e(t.queue_state)}"{title}>'
            f"{_e(autocall_label(t))}</span>"
        )
    return f'<div class="row-notes">{"".join(notes)}</div>'


def _row(t, env, oob, message="", error_field="", is_error=False) -> str:
    """One dashboard row: <tr> with its id, version (data-v), phone form, badge and notes."""
    pid = _e(t.public_id)
    qid = quote(t.public_id, safe="")  # in a URL path
    slug, label, glyph = STATUS_DISPLAY.get(t.status, ("unknown", _e(t.status), "?"))
    select = ""
    if env["place_call"]:
        select = (
            f'<input type="checkbox" id="select-{pid}" name="ids" value="{pid}" form="bulk"'
            f' hx-preserve aria-label="Select {pid} for bulk calling">'
        )
    detail = f'<a href="{env["detail"]}{qid}">{pid}</a>' if env["detail"] else pid
    day = t.transaction_date
    shown_day = env["days"].get(day)
    if shown_day is None:
        shown_day = env["days"][day] = (
            f'<time datetime="{day:%Y-%m-%d}">{_day_month_year(day, env["months"])}</time>'
        )
    phone = _phone_cell(t, pid, qid, env, message, error_field)
    # Columns by position (the CSS styles them so): select, ID, client, card, phone,
    # amount, bank, merchant, date, status.
    return (
        f'<tr id="row-{pid}" data-id="{pid}" data-v="{row_version(t.updated_at)}"'
        f' class="txn status-{slug}"{' hx-swap-oob="true"' if oob else ""}>'
        f"<td>{select}</td><td>{detail}</td><td>{_e(t.client_name)}</td>"
        f"<td>{_e(t.masked_card)}</td><td>{phone}</td>"
        f"<td>{_e(money(t.amount, t.currency))}</td><td>{_e(t.bank_name)}</td>"
        f"<td>{_e(t.merchant_name)}</td><td>{shown_day}</td>"
        f"<td>{_badge(t, pid, qid, env, slug, label, glyph)}"
        f"{_notes(t, message, error_field, is_error)}</td></tr>"
    )


@register.simple_tag(takes_context=True)
def txn_row(context, t, oob=None):
    """One dashboard row (see _row).

    Context: perms, and for a row answering an action message, error_field,
    is_error; oob (from the context unless given) makes it an out-of-band swap.
    """
    if oob is None:
        oob = context.get("oob", False)
    return mark_safe(  # noqa: S308 - _row escapes every value
        _row(
            t,
            _row_env(context),
            oob,
            context.get("message", ""),
            context.get("error_field", ""),
            context.get("is_error", False),
        )
    )


@register.simple_tag(takes_context=True)
def txn_rows(context, txns):
    """The rows of a page, drawn in one go (no template loop over fifty rows)."""
    env = _row_env(context)
    return mark_safe("".join(_row(t, env, oob=False) for t in txns))  # noqa: S308 - as txn_row


@register.simple_tag(takes_context=True)
def count_links(context):
    """The status filters: "All" and one link a status, each with its count (drawn like rows).

    Context: all_url, status (the active filter), total, counts (dashboard._counts).
    """
    url = _e(context.get("all_url", ""))
    on = '"' if context.get("status") else ' active" aria-current="true"'
    links = [
        f'<a href="{url}" hx-get="{url}" class="count count-all{on}>'
        '<span class="count-label">All</span>'
        f' <span class="count-n">{context.get("total", 0)}</span></a>'
    ]
    for c in context.get("counts", ()):
        url = _e(c["url"])
        on = ' active" aria-current="true"' if c["active"] else '"'
        links.append(
            f'<a href="{url}" hx-get="{url}" class="count status-{c["slug"]}{on}'
            f' data-status="{_e(c["status"])}">'
            f'<span class="glyph" aria-hidden="true">{c["glyph"]}</span>'
            f' <span class="count-label">{c["label"]}</span>'
            f' <span class="count-n">{c["n"]}</span></a>'
        )
    return mark_safe("\n".join(links))  # noqa: S308 - every value above is escaped or ours
