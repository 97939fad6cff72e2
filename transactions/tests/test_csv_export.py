import csv
import io
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from transactions.csv_export import HEADER, csv_lines, safe_cell
from transactions.models import Status, Transaction


def export(queryset):
    lines = list(csv.reader(io.StringIO("".join(csv_lines(queryset)))))
    return len(lines) - 1, lines


def test_it_writes_a_header_and_a_masked_row_per_transaction(make_transaction):
    txn = make_transaction(
        public_id="TXN001",
        card_last4="4821",
        amount=Decimal("2350.10"),
        status=Status.RESOLVED,
        authorized=True,
    )

    count, lines = export(Transaction.objects.all())

    assert count == 1
    assert lines[0] == HEADER
    row = dict(zip(HEADER, lines[1], strict=True))
    assert row["id"] == "TXN001"
    assert row["card_number"] == "***4821"
    assert row["amount"] == "2350.10"
    assert row["currency"] == "INR"
    assert row["transaction_date"] == "2025-03-15"
    assert row["status"] == "Resolved"
    assert (row["authorized"], row["shared_card_details"], row["card_delivery"]) == ("yes", "", "")
    assert row["updated_at"] == txn.updated_at.isoformat()


def test_it_defuses_cells_a_spreadsheet_would_run(make_transaction):
    make_transaction(client_name='=HYPERLINK("http://evil.example")', merchant_name="@SUM(A1)")
    make_transaction(client_name="-2+3", merchant_name="\tcmd")

    _, lines = export(Transaction.objects.order_by("id"))

    names = [(line[1], line[7]) for line in lines[1:]]
    assert names == [
        ('\'=HYPERLINK("http://evil.example")', "'@SUM(A1)"),
        ("'-2+3", "'\tcmd"),
    ]
    # The phone starts with + as well, so it is quoted too.
    assert lines[1][3] == "'+14155550101"


def test_safe_cell_leaves_ordinary_text_alone():
    assert safe_cell("Asha Rao") == "Asha Rao"
    assert safe_cell(None) == ""
    assert safe_cell(False) == "no"
    assert safe_cell(Decimal("1.50")) == "1.50"


def test_it_writes_only_the_header_for_no_rows(db):
    count, lines = export(Transaction.objects.none())

    assert (count, lines) == (0, [HEADER])


@given(st.text())
def test_no_cell_ever_starts_like_a_formula(text):
    assert not safe_cell(text).startswith(("=", "+", "-", "@", "\t", "\r"))


def test_a_line_break_inside_a_cell_is_still_one_row(make_transaction):
    make_transaction(client_name="Asha\nRao", merchant_name="Croma\r\nAndheri")

    count, lines = export(Transaction.objects.all())

    assert count == 1
    assert lines[1][1:2] == ["Asha\nRao"]
