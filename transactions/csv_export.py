"""CSV export of transactions, shared by the admin and the dashboard.

Cards leave only masked. Any text cell a spreadsheet would read as a formula
(starting with = + - @, tab or carriage return) gets a leading quote, so an
export opened in Excel or LibreOffice can never run something a customer or
an import put in a name or merchant.
"""

import csv

HEADER = [
    "id",
    "client_name",
    "card_number",
    "client_phone",
    "amount",
    "currency",
    "bank_name",
    "merchant_name",
    "transaction_date",
    "status",
    "authorized",
    "shared_card_details",
    "other_suspicious",
    "card_delivery",
    "updated_at",
]

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


def _row(txn) -> list[str]:
    return [
        safe_cell(v)
        for v in (
            txn.public_id,
            txn.client_name,
            txn.masked_card,
            txn.phone,
            txn.amount,
            txn.currency,
            txn.bank_name,
            txn.merchant_name,
            txn.transaction_date.isoformat(),
            txn.status,
            txn.authorized,
            txn.shared_card_details,
            txn.other_suspicious,
            txn.card_delivery or None,
            txn.updated_at.isoformat(),
        )
    ]


def write_transactions_csv(queryset, fileobj) -> int:
    """Write a header and a line per transaction to `fileobj` (has .write); return the rows."""
    writer = csv.writer(fileobj)
    writer.writerow(HEADER)
    rows = 0
    for txn in queryset.iterator(chunk_size=2000):
        writer.writerow(_row(txn))
        rows += 1
    return rows
