"""CSV export of transactions, shared by the admin and the dashboard.

Cards leave only masked. Any text cell a spreadsheet would read as a formula
(starting with = + - @, tab or carriage return) gets a leading quote, so an
export opened in Excel or LibreOffice can never run something a customer or
an import put in a name or merchant.
"""

import csv

from django.http import StreamingHttpResponse
from django.utils import timezone

from .cards import mask

# Each CSV column (the Flask app's names) and the field it is read from, as
# tuples: building a model instance per row cost more than writing its line.
COLUMNS = {
    "id": "public_id",
    "client_name": "client_name",
    "card_number": "card_last4",  # written masked
    "client_phone": "phone",
    "amount": "amount",
    "currency": "currency",
    "bank_name": "bank_name",
    "merchant_name": "merchant_name",
    "transaction_date": "transaction_date",
    "status": "status",
    "authorized": "authorized",
    "shared_card_details": "shared_card_details",
    "other_suspicious": "other_suspicious",
    "card_delivery": "card_delivery",
    "updated_at": "updated_at",
}
HEADER = list(COLUMNS)

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """One cell as text, neutralised if a spreadsheet would take it for a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def _row(values) -> list[str]:
    public_id, name, last4, phone, amount, currency, bank, merchant, day, status = values[:10]
    authorized, shared, other, delivery, updated = values[10:]
    return [
        safe_cell(v)
        for v in (
            public_id,
            name,
            mask(last4),
            phone,
            amount,
            currency,
            bank,
            merchant,
            day.isoformat(),
            status,
            authorized,
            shared,
            other,
            delivery or None,
            updated.isoformat(),
        )
    ]


_BLOCK = 500  # rows per read and per write: a few hundred kB, never megabytes


def csv_lines(queryset):
    """The export as text: the header, then lines in blocks of up to _BLOCK transactions.

    A generator, so a download is streamed: a million rows never sit in a
    web worker's memory at once, and each block is one write to the client.
    """
    writer = csv.writer(_Line())
    yield writer.writerow(HEADER)
    block = []
    for values in queryset.values_list(*COLUMNS.values()).iterator(chunk_size=_BLOCK):
        block.append(writer.writerow(_row(values)))
        if len(block) == _BLOCK:
            yield "".join(block)
            block = []
    if block:
        yield "".join(block)


def csv_download(queryset) -> StreamingHttpResponse:
    """The export of `queryset` as a file download, streamed as it is read."""
    response = StreamingHttpResponse(csv_lines(queryset), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="transactions-{stamp}.csv"'
    return response


class _Line:
    """A file for csv.writer whose write() hands the line back instead of keeping it."""

    def write(self, text: str) -> str:
        return text
