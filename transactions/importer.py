"""Moving data in and out of the Flask app's `data/transactions.json` shape.

    [{"id": "TXN001", "client_name": "...", "card_number": "***1234",
      "client_phone": "+14155550101", "amount": 2500.75, "bank_name": "...",
      "merchant_name": "...", "transaction_date": "15/03/2025", "action": "Resolved"}]

Import is all or nothing: every row is checked before anything is written,
and one bad row stops the whole import with a report naming each bad row
(unless skip_invalid). Rows are then upserted by id with bulk_create, a
batch at a time, inside one database transaction.

The file never silently overrides a status it does not own: a row with the
customer's verdict, a status set by hand, or a call in progress keeps its
status (its other fields are still updated), and the result lists it.
"""

import gc
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef

from . import indexed
from .cards import card_last4, mask
from .models import (
    FINAL_STATUSES,
    MANUAL_STATUSES,
    AuditEntry,
    CallAttempt,
    Status,
    Transaction,
)
from .phones import normalise_phone

# What a file sets on an existing row. created_at, the customer's answers and the
# call and queue fields belong to the row and are never written by an import.
UPSERT_FIELDS = [
    "client_name",
    "card_last4",
    "phone",
    "amount",
    "bank_name",
    "merchant_name",
    "transaction_date",
    "status",
    "updated_at",
]
_COMPARED = [name for name in UPSERT_FIELDS if name != "updated_at"]
# Rows read and written a round. bulk_create splits each round again into INSERTs
# as long as the backend allows (SQLite: 32,766 parameters, 1,424 rows of 23 columns).
# 5,000 rather than 1,000 took an import of 100,000 rows from 11.3 to 10.8 s.
BATCH_SIZE = 5000

_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_SEED_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_STATUS_BY_LABEL = {label.casefold(): label for label in Status.values}
_MAX_AMOUNT = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
_TEXT_LIMITS = {"client_name": 200, "bank_name": 200, "merchant_name": 200}
# NUL (PostgreSQL refuses it in text) and unpaired surrogates (not encodable as UTF-8).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


@dataclass
class RowError:
    index: int  # position in the JSON array, from 0
    id: str
    field: str
    reason: str

    def __str__(self):
        return f"index {self.index}, id {self.id or '?'}: {self.field}: {self.reason}"


@dataclass
class KeptStatus:
    """An existing row that kept its status instead of the file's."""

    id: str
    status: str
    file_status: str
    reason: str

    def __str__(self):
        return (
            f"{self.id}: kept {self.status} ({self.reason}); "
            f"the file's status {self.file_status} was not applied"
        )


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pans_reduced: int = 0
    kept: list[KeptStatus] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    imported: bool = False

    @property
    def skipped(self) -> int:
        return len({e.index for e in self.errors})


class ImportRejected(Exception):
    """Some rows are bad and skip_invalid was not asked for: nothing was written."""

    def __init__(self, result: ImportResult):
        self.result = result
        super().__init__(f"{result.skipped} bad row(s); nothing imported")


class FileUnreadable(Exception):
    """The input is not JSON, or not a list of objects."""


def load_json(stream) -> list:
    try:
        # Decimals, not floats: 1e400 stays 1E+400 (too large) instead of inf, and
        # NaN and Infinity, which Python reads although JSON has no such values,
        # reach the row's checks and are refused there, naming the row.
        data = json.load(stream, parse_float=Decimal, parse_constant=Decimal)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FileUnreadable(f"not valid JSON: {e}") from None
    except RecursionError:
        raise FileUnreadable("not valid JSON: nested too deeply") from None
    if not isinstance(data, list):
        raise FileUnreadable("expected a JSON array of transactions, [{...}, ...]")
    return data


# --- reading one row ----------------------------------------------------------


def _text(row, key):
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError("missing")
    if not isinstance(value, str):
        raise ValidationError("must be text")
    value = value.strip()
    if len(value) > _TEXT_LIMITS[key]:
        raise ValidationError(f"longer than {_TEXT_LIMITS[key]} characters")
    if unstorable := UNSTORABLE.search(value):
        raise ValidationError(f"contains U+{ord(unstorable[0]):04X}, which cannot be stored")
    return value


def parse_amount(value) -> Decimal:
    if isinstance(value, bool) or value is None or value == "":
        raise ValidationError("missing or not a number")
    try:
        # str() first: a float like 2500.75 becomes exactly Decimal("2500.75").
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation:
        raise ValidationError(f"“{value}” is not a number") from None
    if not amount.is_finite():
        raise ValidationError(f"“{value}” is not a number")
    if amount < 0:
        raise ValidationError("must not be negative")
    if amount > _MAX_AMOUNT:  # before quantize(), which cannot round 1e400 to cents
        raise ValidationError("too large")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError("more than two decimal places")
    return amount.quantize(Decimal("0.01"))


def parse_date(value) -> date:
    """dd/mm/yyyy as the seed writes it, or ISO (2025-03-15, or a date-time)."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError("missing")
    text = value.strip()
    try:
        if seed := _SEED_DATE.match(text):
            day, month, year = map(int, seed.groups())
            return date(year, month, day)
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise ValidationError(f"“{text}” is not a date; use dd/mm/yyyy or yyyy-mm-dd") from None


def parse_action(value) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        return Status.PENDING  # the seed left new rows without an action
    label = _STATUS_BY_LABEL.get(value.strip().casefold()) if isinstance(value, str) else None
    if label == Status.CONNECTING:  # a call is under way: only placing one sets it
        raise ValidationError(
            f"only placing a call sets Connecting; use one of: {', '.join(MANUAL_STATUSES)}"
        )
    if label is None:
        raise ValidationError(f"“{value}” is not one of: {', '.join(MANUAL_STATUSES)}")
    return label


def _parse_row(row, phones) -> tuple[dict, list[tuple[str, str]], bool]:
    """(model values, [(field, reason)], whether a full card number was reduced)."""
    values, problems, reduced = parse_case(row, phones)
    try:
        values["status"] = parse_action(row.get("action"))
    except ValidationError as e:
        values["status"] = None
        problems.append(("action", " ".join(e.messages)))
    return values, problems, reduced


def parse_case(row: dict, phones: dict) -> tuple[dict, list[tuple[str, str]], bool]:
    """The seed's fields but the status: (model values, [(field, reason)], card reduced?).

    The importer and the alerts API both read a case with it. `phones` caches
    each raw number's (E.164, problem): customers recur, and libphonenumber's
    parse is the slowest check.
    """
    values, problems, reduced = {}, [], False

    def check(key, fn, *args):
        try:
            return fn(*args)
        except ValidationError as e:
            problems.append((key, " ".join(e.messages)))
            return None

    public_id = row.get("id")
    if not isinstance(public_id, str) or not _ID.match(public_id.strip()):
        problems.append(("id", "missing, or not 1–32 letters, digits, - or _"))
    else:
        values["public_id"] = public_id.strip()
    for key in ("client_name", "bank_name", "merchant_name"):
        values[key] = check(key, _text, row, key)

    card = check("card_number", card_last4, row.get("card_number"))
    if card:
        values["card_last4"], reduced = card

    raw_phone = row.get("client_phone")
    raw_phone = raw_phone if isinstance(raw_phone, str) else ""  # a number or list: ask for text
    if raw_phone not in phones:
        try:
            phones[raw_phone] = (normalise_phone(raw_phone), None)
        except ValidationError as e:
            phones[raw_phone] = (None, " ".join(e.messages))
    values["phone"], phone_problem = phones[raw_phone]
    if phone_problem:
        problems.append(("client_phone", phone_problem))

    values["amount"] = check("amount", parse_amount, row.get("amount"))
    values["transaction_date"] = check("transaction_date", parse_date, row.get("transaction_date"))
    return values, problems, reduced


def _check_rows(data: list, result: ImportResult) -> list[dict]:
    """The good rows as model field values, in order; every bad one noted in result."""
    good, seen, phones = [], {}, {}
    for index, row in enumerate(data):
        if not isinstance(row, dict):
            result.errors.append(RowError(index, "", "row", "not a JSON object"))
            continue
        values, problems, reduced = _parse_row(row, phones)
        row_id = values.get("public_id") or str(row.get("id") or "")
        if row_id and row_id in seen:
            problems.append(("id", f"same id as index {seen[row_id]}"))
        if problems:
            result.errors.extend(RowError(index, row_id, f, r) for f, r in problems)
            continue
        seen[row_id] = index
        result.pans_reduced += reduced
        good.append(values)
    return good


# --- import and export --------------------------------------------------------


def import_rows(data: list, *, dry_run=False, skip_invalid=False) -> ImportResult:
    """Check `data` (the seed's shape) and upsert it by id.

    Raises ImportRejected (nothing written) when a row is bad and skip_invalid
    is false. A dry run does the whole import and rolls it back, so its counts
    are exact and nothing is kept.
    """
    result = ImportResult(rows=len(data), dry_run=dry_run)
    with _no_cycle_collection():
        rows = _check_rows(data, result)
        if result.errors and not skip_invalid:
            raise ImportRejected(result)
        with transaction.atomic():
            indexed.allow_bulk_load(Transaction.objects.db)
            for start in range(0, len(rows), BATCH_SIZE):
                _upsert(rows[start : start + BATCH_SIZE], result)
            if dry_run:
                transaction.set_rollback(True)
    result.imported = not dry_run
    return result


@contextmanager
def _no_cycle_collection():
    """Python's cycle collector paused while the import runs.

    bulk_create makes several short-lived objects per value (23 columns a row);
    they set the collector off again and again, and each time it walked the
    whole file held in memory: 100,000 rows took 13.9 s instead of 11.3.
    The import makes almost no reference cycles, so nothing is left uncollected.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _upsert(rows: list[dict], result: ImportResult) -> None:
    """Write the new and changed rows of one batch; count them and the unchanged."""
    existing = _existing([values["public_id"] for values in rows])
    with_status, keeping_status = [], []
    for values in rows:
        old = existing.get(values["public_id"])
        if old is None:
            result.created += 1
            with_status.append(values)
            continue
        reason = _why_status_stays(old)
        if reason and values["status"] != old["status"]:
            kept = KeptStatus(old["public_id"], old["status"], values["status"], reason)
            result.kept.append(kept)
            values["status"] = old["status"]
        if all(values[name] == old[name] for name in _COMPARED):
            # Not rewritten: its updated_at stays, so the dashboard has nothing to fetch.
            result.unchanged += 1
            continue
        result.updated += 1
        (keeping_status if reason else with_status).append(values)
    _write(with_status, UPSERT_FIELDS)
    # Status left out of the update: the row's own status stands whatever happens meanwhile.
    _write(keeping_status, [name for name in UPSERT_FIELDS if name != "status"])


def _existing(public_ids: list[str]) -> dict[str, dict]:
    """{public_id: the stored row's compared fields, set_by_hand, on_call} of those present.

    Locked until the import commits, so no call or supervisor changes a status
    between this read and the write (SQLite: the import holds the write lock).
    """
    status_audits = AuditEntry.objects.filter(transaction=OuterRef("pk"), field="status")
    live_calls = CallAttempt.objects.filter(transaction=OuterRef("pk"), ended_at__isnull=True)
    rows = (
        Transaction.objects.filter(public_id__in=public_ids)
        .annotate(set_by_hand=Exists(status_audits), on_call=Exists(live_calls))
        .select_for_update()
        .order_by("pk")
        .values("public_id", *_COMPARED, "set_by_hand", "on_call")
    )
    return {row["public_id"]: row for row in rows}


def _why_status_stays(row: dict) -> str:
    """Why an existing row's status is not the file's to change ("" when it is)."""
    if row["set_by_hand"] and row["status"] != Status.CONNECTING:
        return "set by hand"
    if row["status"] in FINAL_STATUSES:
        return "the customer's verdict"
    if row["on_call"] or row["status"] == Status.CONNECTING:
        # The call's outcome is written only over Connecting: the file's status would lose it.
        return "a call is in progress"
    return ""


def _write(rows: list[dict], update_fields: list[str]) -> None:
    if rows:
        Transaction.objects.bulk_create(
            [Transaction(**values) for values in rows],
            update_conflicts=True,
            unique_fields=["public_id"],
            update_fields=update_fields,
        )


def seed_row(txn) -> dict:
    """One transaction in the seed's shape (also the JSON API's base fields)."""
    return {
        "id": txn.public_id,
        "client_name": txn.client_name,
        "card_number": mask(txn.card_last4),
        "client_phone": txn.phone,
        "amount": float(txn.amount),
        "bank_name": txn.bank_name,
        "merchant_name": txn.merchant_name,
        "transaction_date": txn.transaction_date.strftime("%d/%m/%Y"),
        "action": txn.status,
    }


def write_json(queryset, stream) -> int:
    """Stream `queryset` to `stream` as the seed's JSON array, a row per line; return rows."""
    rows = 0
    stream.write("[")
    for txn in queryset.iterator(chunk_size=2000):
        stream.write(",\n" if rows else "\n")
        stream.write(json.dumps(seed_row(txn), ensure_ascii=False))
        rows += 1
    stream.write("\n]\n" if rows else "]\n")
    return rows
