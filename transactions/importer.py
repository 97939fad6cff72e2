"""Moving data in and out of the Flask app's `data/transactions.json` shape.

    [{"id": "TXN001", "client_name": "...", "card_number": "***1234",
      "client_phone": "+14155550101", "amount": 2500.75, "bank_name": "...",
      "merchant_name": "...", "transaction_date": "15/03/2025", "action": "Resolved"}]

Import is all or nothing: every row is checked first, and one bad row stops
the whole import with a report naming each bad row (unless skip_invalid).
Rows are upserted by id, a batch per INSERT ... ON CONFLICT DO UPDATE, all
inside one database transaction, so 100,000 rows take seconds.
"""

import json
import queue
import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import phonenumbers
from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import CharField, DateField, DecimalField
from django.utils import timezone

from . import indexed
from .cards import card_last4, mask
from .models import Status, Transaction
from .phones import normalise_phone

SEED_FIELDS = [
    "id",
    "client_name",
    "card_number",
    "client_phone",
    "amount",
    "bank_name",
    "merchant_name",
    "transaction_date",
    "action",
]
# Written by an upsert (when one of them changes); created_at, the answers and the
# call/queue fields of an existing row are left as they are.
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
BATCH_SIZE = 1000

_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_SEED_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_STATUS_BY_LABEL = {label.casefold(): label for label in Status.values}
_MAX_AMOUNT = Decimal("999999999999.99")  # max_digits=14, decimal_places=2
_TEXT_LIMITS = {"client_name": 200, "bank_name": 200, "merchant_name": 200}


@dataclass
class RowError:
    index: int  # position in the JSON array, from 0
    id: str
    field: str
    reason: str

    def __str__(self):
        return f"index {self.index}, id {self.id or '?'}: {self.field}: {self.reason}"


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pans_reduced: int = 0
    kept_in_call: int = 0  # rows whose call was in progress: the file's status was not applied
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
        data = json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FileUnreadable(f"not valid JSON: {e}") from None
    if not isinstance(data, list):
        raise FileUnreadable("expected a JSON array of transactions, [{...}, ...]")
    return data


# --- parsing one row ----------------------------------------------------------


def _text(row, key):
    value = row.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError("missing")
    if not isinstance(value, str):
        raise ValidationError("must be text")
    value = value.strip()
    if len(value) > _TEXT_LIMITS[key]:
        raise ValidationError(f"longer than {_TEXT_LIMITS[key]} characters")
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
    if amount != amount.quantize(Decimal("0.01")):
        raise ValidationError("more than two decimal places")
    if amount > _MAX_AMOUNT:
        raise ValidationError("too large")
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
    if not isinstance(value, str) or value.strip().casefold() not in _STATUS_BY_LABEL:
        raise ValidationError(f"“{value}” is not one of: {', '.join(Status.values)}")
    return _STATUS_BY_LABEL[value.strip().casefold()]


_E164_SPACED = re.compile(r"\+[1-9][0-9 ]{5,24}")


def _e164_if_plainly_valid(raw: str) -> str | None:
    """raw as E.164 when it is "+", a country code and a valid national number, else None.

    libphonenumber's own validity check (its metadata) on the digits as given,
    without its general-purpose parse, which costs more than the check. None
    (use normalise_phone) whenever parse could read the digits differently:
    a leading 0, or digits that begin like the country's national prefix.
    """
    if not _E164_SPACED.fullmatch(raw):
        return None
    digits = raw.replace(" ", "")
    if len(digits) > 16:  # E.164: at most 15 digits
        return None
    for size in (1, 2, 3):  # country codes are prefix-free
        code = int(digits[1 : 1 + size])
        if code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            break
    else:
        return None
    national = digits[1 + size :]
    # The metadata parse would use for this country code (its main region).
    region = phonenumbers.region_code_for_country_code(code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region_or_calling_code(code, region)
    if not national or national[0] == "0" or metadata is None:
        return None
    prefix = metadata.national_prefix_for_parsing or metadata.national_prefix
    if prefix and re.match(prefix, national):
        return None
    number = phonenumbers.PhoneNumber(country_code=code, national_number=int(national))
    return digits if phonenumbers.is_valid_number(number) else None


def _phone(raw) -> tuple[str | None, str | None]:
    """(E.164, None) or (None, why not)."""
    if not isinstance(raw, str):
        raw = ""  # a number or list is as good as missing: ask for text
    fast = _e164_if_plainly_valid(raw.strip())
    if fast:
        return fast, None
    try:
        return normalise_phone(raw), None
    except ValidationError as e:
        return None, " ".join(e.messages)


def _parse_row(row, phone_cache) -> tuple[dict, list[tuple[str, str]], bool]:
    """(model values, [(field, reason)], whether a full card number was reduced)."""
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
    # Customers recur: each distinct number is checked once per import.
    key = raw_phone if isinstance(raw_phone, str) else ""
    if key not in phone_cache:
        phone_cache[key] = _phone(raw_phone)
    values["phone"], phone_problem = phone_cache[key]
    if phone_problem:
        problems.append(("client_phone", phone_problem))

    values["amount"] = check("amount", parse_amount, row.get("amount"))
    values["transaction_date"] = check("transaction_date", parse_date, row.get("transaction_date"))
    values["status"] = check("action", parse_action, row.get("action"))
    return values, problems, reduced


def parse_rows(data: list) -> tuple[list[dict], ImportResult]:
    """Check every row; return the good ones as model field values, and a result with the bad."""
    result = ImportResult(rows=len(data))
    good = [row for batch in _checked_batches(data, result, len(data) or 1) for row in batch]
    return good, result


def _checked_batches(data: list, result: ImportResult, size: int):
    """Check the rows in order; yield the good ones `size` at a time, note the bad in result."""
    batch, seen, phone_cache = [], {}, {}
    for index, row in enumerate(data):
        if not isinstance(row, dict):
            result.errors.append(RowError(index, "", "row", "not a JSON object"))
            continue
        values, problems, reduced = _parse_row(row, phone_cache)
        row_id = values.get("public_id") or str(row.get("id") or "")
        if row_id and row_id in seen:
            problems.append(("id", f"same id as index {seen[row_id]}"))
        if problems:
            result.errors.extend(RowError(index, row_id, f, r) for f, r in problems)
            continue
        seen[row_id] = index
        result.pans_reduced += reduced
        batch.append(values)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


# --- import and export --------------------------------------------------------


_DONE = object()


def import_rows(data: list, *, dry_run=False, skip_invalid=False) -> ImportResult:
    """Validate `data` (the seed's shape) and upsert it by id.

    Raises ImportRejected (nothing kept) when a row is bad and skip_invalid is
    false. A dry run does the whole import and rolls it back, so its counts
    are exact and nothing is kept.

    Rows are checked in a second thread while the database writes the batches
    already checked (both drivers release the GIL while the database works),
    all inside one transaction: a bad row found late rolls back what was
    written, so the import is still all or nothing.
    """
    result = ImportResult(rows=len(data), dry_run=dry_run)
    upsert = _Upsert(connections[Transaction.objects.db], timezone.now())
    checked, stop = queue.SimpleQueue(), threading.Event()

    def check_rows():
        try:
            for batch in _checked_batches(data, result, upsert.batch_size):
                if stop.is_set():  # the writing thread failed: nobody will read on
                    return
                checked.put(batch)
        except BaseException as e:  # handed to the writing thread, which raises it
            checked.put(e)
        else:
            checked.put(_DONE)

    checker = threading.Thread(target=check_rows, name="import-check", daemon=True)
    with transaction.atomic():
        indexed.allow_bulk_load(Transaction.objects.db)
        # For the report only: the upsert itself leaves any row in a call alone.
        in_call = set(
            Transaction.objects.filter(status=Status.CONNECTING).values_list("public_id", flat=True)
        )
        checker.start()
        try:
            while (batch := checked.get()) is not _DONE:
                if isinstance(batch, BaseException):
                    raise batch
                if result.errors and not skip_invalid:
                    continue  # rejected: keep checking only, to name every bad row
                created, updated = upsert(batch)
                result.created += created
                result.updated += updated
                result.unchanged += len(batch) - created - updated
                if in_call:  # usually none: no pass over the batch then
                    result.kept_in_call += sum(
                        1
                        for row in batch
                        if row["public_id"] in in_call and row["status"] != Status.CONNECTING
                    )
        finally:
            stop.set()
            checker.join()
        if result.errors and not skip_invalid:
            raise ImportRejected(result)  # leaving the block rolls every batch back
        if dry_run:
            transaction.set_rollback(True)
    result.imported = not dry_run
    return result


class _Upsert:
    """INSERT ... ON CONFLICT (public_id) DO UPDATE, many rows a statement.

    Hand-written because the ORM's bulk_create spent two thirds of an import
    building SQL, and it cannot skip rows that did not change: here an existing
    row is rewritten only when the file changes it, so a repeated import leaves
    rows, their updated_at and the dashboard alone. SQLite takes the rows as
    VALUES; PostgreSQL as one array per column through UNNEST (as Django's own
    bulk_create does there), so the statement stays small however many rows.
    """

    def __init__(self, connection, now):
        self.connection = connection
        self.unnest = connection.vendor == "postgresql"
        meta = Transaction._meta
        self.fields = [f for f in meta.concrete_fields if not f.primary_key]
        # Columns the file does not give get their model default (the timestamps: now).
        self.defaults = {
            f.attname: f.get_db_prep_save(
                now if f.attname in ("created_at", "updated_at") else f.get_default(), connection
            )
            for f in self.fields
        }
        self.prepare = {f.attname: self._preparer(f, connection) for f in self.fields}
        if self.unnest:
            self.batch_size = BATCH_SIZE * 5
        else:
            most = connection.features.max_query_params or 10_000
            self.batch_size = max(1, min(BATCH_SIZE, most // len(self.fields)))

        qn = connection.ops.quote_name
        table = qn(meta.db_table)
        compared = [meta.get_field(name).column for name in UPSERT_FIELDS if name != "updated_at"]
        # Only quoted names from the model go into the SQL; every value is a parameter.
        columns = ", ".join(qn(f.column) for f in self.fields)
        self.head = f"INSERT INTO {table} ({columns}) "
        self.one_row = f"({', '.join(['%s'] * len(self.fields))})"
        self.arrays = ", ".join(
            f"(%s)::{f.db_type(connection).split('(')[0]}[]" for f in self.fields
        )
        new = {c: f"excluded.{qn(c)}" for c in [*compared, "updated_at"]}
        # A row in a call keeps its status: the call's outcome is written only over
        # "Connecting" (a conditional update), so a status from the file would lose it.
        status = qn(meta.get_field("status").column)
        new[meta.get_field("status").column] = (
            f"CASE WHEN {table}.{status} = %s THEN {table}.{status} ELSE excluded.{status} END"
        )
        self.tail = (
            f" ON CONFLICT ({qn(meta.get_field('public_id').column)}) DO UPDATE SET "
            + ", ".join(f"{qn(c)} = {new[c]}" for c in [*compared, "updated_at"])
            + " WHERE "
            + " OR ".join(f"{table}.{qn(c)} <> {new[c]}" for c in compared)
            # Inserted and changed rows come back: true for the inserted ones (this run's
            # created_at), false for the changed ones.
            + f" RETURNING {qn(meta.get_field('created_at').column)} = %s"
        )
        # The tail's parameters: "Connecting" in SET and in WHERE, then created_at.
        self.tail_params = [Status.CONNECTING, Status.CONNECTING]

    @staticmethod
    def _preparer(f, connection):
        if isinstance(f, CharField):
            return None  # text is sent as it is
        # parse_amount and parse_date already give an exact Decimal that fits the
        # column and a date: skip the fields' own re-conversion, only adapt them.
        if isinstance(f, DecimalField):
            return lambda value, connection: connection.ops.adapt_decimalfield_value(
                value, f.max_digits, f.decimal_places
            )
        if type(f) is DateField:
            return lambda value, connection: connection.ops.adapt_datefield_value(value)
        return f.get_db_prep_save

    def _values(self, row):
        for f in self.fields:
            if f.attname not in row:
                yield self.defaults[f.attname]
            elif prepare := self.prepare[f.attname]:
                yield prepare(row[f.attname], self.connection)
            else:
                yield row[f.attname]

    def __call__(self, rows: list[dict]) -> tuple[int, int]:
        """Write `rows`; return how many were (inserted, changed)."""
        values = [list(self._values(row)) for row in rows]
        if self.unnest:
            sql = f"{self.head}SELECT * FROM UNNEST({self.arrays}){self.tail}"  # noqa: S608
            params = [list(column) for column in zip(*values, strict=True)]
        else:
            sql = f"{self.head}VALUES {', '.join([self.one_row] * len(rows))}{self.tail}"
            params = [value for row in values for value in row]
        with self.connection.cursor() as cursor:
            cursor.execute(sql, [*params, *self.tail_params, self.defaults["created_at"]])
            written = [bool(inserted) for (inserted,) in cursor.fetchall()]
        inserted = sum(written)
        return inserted, len(written) - inserted


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
