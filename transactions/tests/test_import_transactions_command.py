import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from transactions.models import AuditEntry, Transaction

DATA = Path(__file__).parent / "data" / "flask_transactions.json"


def run(*args, stdin=None, monkeypatch=None):
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command("import_transactions", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def write_rows(tmp_path, rows):
    path = tmp_path / "transactions.json"
    path.write_text(json.dumps(rows))
    return str(path)


def test_it_imports_a_file_and_says_what_it_did(db):
    out, _ = run(str(DATA))

    assert "Imported 5 of 5 rows: 5 new, 0 updated, 0 unchanged, 0 skipped" in out
    assert "rows/s" in out
    assert "1 full card number(s) were reduced to their last four digits" in out
    assert Transaction.objects.count() == 5


def test_it_reads_stdin_for_a_dash(db, monkeypatch):
    out, _ = run("-", stdin=DATA.read_text(), monkeypatch=monkeypatch)

    assert "5 new" in out
    assert Transaction.objects.count() == 5


def test_it_lists_every_bad_row_and_imports_nothing(db, tmp_path):
    rows = json.loads(DATA.read_text())
    rows[1]["client_phone"] = "call me"
    rows[3]["transaction_date"] = "yesterday"
    path = write_rows(tmp_path, rows)
    err = io.StringIO()

    with pytest.raises(CommandError, match="2 of 5 rows are bad; nothing was imported"):
        call_command("import_transactions", path, stdout=io.StringIO(), stderr=err)

    report = err.getvalue()
    assert "index 1, id TXN002: client_phone:" in report
    assert "index 3, id TXN004: transaction_date:" in report
    assert not Transaction.objects.exists()


def test_skip_invalid_imports_the_rest_and_lists_the_bad(db, tmp_path):
    rows = json.loads(DATA.read_text())
    rows[0]["action"] = "Escalated"
    out, err = run(write_rows(tmp_path, rows), "--skip-invalid")

    assert "Imported 4 of 5 rows: 4 new, 0 updated, 0 unchanged, 1 skipped" in out
    assert "index 0, id TXN001: action:" in err
    assert not Transaction.objects.filter(public_id="TXN001").exists()
    assert Transaction.objects.count() == 4


def test_dry_run_writes_nothing(db):
    out, _ = run(str(DATA), "--dry-run")

    assert "Would import 5 of 5 rows: 5 new" in out
    assert "Dry run: nothing was written." in out
    assert not Transaction.objects.exists()


def test_a_second_import_updates_instead_of_duplicating(db, tmp_path):
    run(str(DATA))
    rows = json.loads(DATA.read_text())
    rows[2]["amount"] = 1300

    again, _ = run(str(DATA))
    changed, _ = run(write_rows(tmp_path, rows))

    assert "0 new, 0 updated, 5 unchanged" in again
    assert "0 new, 1 updated, 4 unchanged" in changed
    assert Transaction.objects.count() == 5
    assert Transaction.objects.get(public_id="TXN003").amount == 1300


def test_it_refuses_a_file_that_is_not_json(db, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("[{not json")

    with pytest.raises(CommandError, match="not valid JSON"):
        run(str(path))


def test_it_refuses_json_that_is_not_a_list(db, tmp_path):
    with pytest.raises(CommandError, match="expected a JSON array"):
        run(write_rows(tmp_path, {"id": "TXN001"}))


def test_it_says_when_the_file_is_missing(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run(str(tmp_path / "nowhere.json"))


def test_it_names_each_row_that_kept_its_status_instead_of_the_files(db, tmp_path):
    run(str(DATA))
    by_hand = Transaction.objects.get(public_id="TXN004")  # Disconnected in the file
    Transaction.objects.filter(pk=by_hand.pk).update(status="Pending")
    AuditEntry.objects.create(
        transaction=by_hand, field="status", old_value="Disconnected", new_value="Pending"
    )
    Transaction.objects.filter(public_id="TXN003").update(status="Connecting")  # a call
    rows = json.loads(DATA.read_text())
    for row in rows:
        row["action"] = "Not Answered"

    out, _ = run(write_rows(tmp_path, rows))

    assert out.splitlines()[:4] == [
        "TXN001: kept Resolved (the customer's verdict); "
        "the file's status Not Answered was not applied",
        "TXN002: kept Mark As Fraud (the customer's verdict); "
        "the file's status Not Answered was not applied",
        "TXN003: kept Connecting (a call is in progress); "
        "the file's status Not Answered was not applied",
        "TXN004: kept Pending (set by hand); the file's status Not Answered was not applied",
    ]
    assert "0 new, 1 updated, 4 unchanged" in out  # TXN005 takes the file's status
    assert "4 row(s) kept their status instead of the file's (listed above)." in out
    statuses = dict(Transaction.objects.values_list("public_id", "status"))
    assert statuses == {
        "TXN001": "Resolved",
        "TXN002": "Mark As Fraud",
        "TXN003": "Connecting",
        "TXN004": "Pending",
        "TXN005": "Not Answered",
    }


def test_it_refuses_connecting_and_imports_nothing(db, tmp_path):
    rows = json.loads(DATA.read_text())
    rows[2]["action"] = "Connecting"
    err = io.StringIO()

    path = write_rows(tmp_path, rows)

    with pytest.raises(CommandError, match="1 of 5 rows are bad; nothing was imported"):
        call_command("import_transactions", path, stdout=io.StringIO(), stderr=err)

    assert "index 2, id TXN003: action: only placing a call sets Connecting" in err.getvalue()
    assert not Transaction.objects.exists()


# --- what a hostile or broken file can hold -----------------------------------

ROW = {
    "id": "TXN900",
    "client_name": "Asha Rao",
    "card_number": "***4821",
    "client_phone": "+14155550101",
    "amount": "2500.75",
    "bank_name": "HDFC Bank",
    "merchant_name": "Croma",
    "transaction_date": "15/03/2025",
    "action": "Pending",
}


def refused_row_report(tmp_path, text):
    """The command's report on a one-row file with this raw text; checks nothing was stored."""
    path = tmp_path / "transactions.json"
    path.write_text(text, encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 of 1 rows are bad; nothing was imported"):
        call_command("import_transactions", str(path), stdout=io.StringIO(), stderr=err)
    assert not Transaction.objects.exists()
    return err.getvalue()


def with_amount(json_text):
    return json.dumps([ROW]).replace('"2500.75"', json_text)


@pytest.mark.parametrize(
    ("amount", "reason"),
    [
        ("1e400", "too large"),  # a float would be inf
        ('"1e400"', "too large"),
        ("NaN", "“NaN” is not a number"),
        ('"NaN"', "“NaN” is not a number"),
        ("Infinity", "“Infinity” is not a number"),
        ('"Infinity"', "“Infinity” is not a number"),
        ("-Infinity", "“-Infinity” is not a number"),
        ('"123456789012345678901234567890.5"', "too large"),  # more digits than quantize takes
    ],
)
def test_it_refuses_an_amount_that_is_not_a_finite_number_of_cents(db, tmp_path, amount, reason):
    report = refused_row_report(tmp_path, with_amount(amount))

    assert f"index 0, id TXN900: amount: {reason}" in report


def test_it_refuses_a_file_nested_too_deeply_to_read(db, tmp_path):
    path = tmp_path / "nested.json"
    path.write_text("[" * 100_000 + "]" * 100_000)

    with pytest.raises(CommandError, match="not valid JSON: nested too deeply"):
        run(str(path))
    assert not Transaction.objects.exists()


def test_it_refuses_a_nul_character_in_a_name(db, tmp_path):
    report = refused_row_report(tmp_path, json.dumps([{**ROW, "client_name": "Asha\x00Rao"}]))

    assert "index 0, id TXN900: client_name: contains U+0000, which cannot be stored" in report


def test_it_refuses_an_unpaired_surrogate_in_a_name(db, tmp_path):
    text = json.dumps([ROW]).replace('"Croma"', '"Cro\\ud800ma"')

    report = refused_row_report(tmp_path, text)

    assert "index 0, id TXN900: merchant_name: contains U+D800, which cannot be stored" in report


def test_it_refuses_fullwidth_digits_as_the_cards_last_four(db, tmp_path):
    text = json.dumps([{**ROW, "card_number": "４８２１"}], ensure_ascii=False)

    report = refused_row_report(tmp_path, text)

    assert "index 0, id TXN900: card_number: Give the card's last four digits" in report


def test_it_reads_an_amount_written_as_a_json_number_exactly(db, tmp_path):
    run(write_rows(tmp_path, [{**ROW, "amount": 0.1}, {**ROW, "id": "TXN901", "amount": 1e3}]))

    amounts = dict(Transaction.objects.values_list("public_id", "amount"))
    assert amounts == {"TXN900": Decimal("0.10"), "TXN901": Decimal("1000.00")}
