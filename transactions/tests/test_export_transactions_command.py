import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from transactions.importer import import_rows

DATA = Path(__file__).parent / "data" / "flask_transactions.json"


def export_to_stdout():
    out = io.StringIO()
    call_command("export_transactions", stdout=out)
    return out.getvalue()


def test_an_import_exports_back_to_the_same_rows(db):
    rows = json.loads(DATA.read_text())
    import_rows(rows)

    exported = json.loads(export_to_stdout())

    # The file is the Flask app's, so its rows come back as stored:
    # phones in E.164, cards masked, amounts as numbers, dates dd/mm/yyyy, a blank action Pending.
    expected = [dict(row) for row in rows]
    expected[1].update(
        card_number="***1111", client_phone="+14155550102", transaction_date="16/03/2025"
    )
    expected[2]["amount"] = 1249.5
    expected[4]["action"] = "Pending"
    assert exported == expected


def test_a_normalised_file_round_trips_exactly(db, tmp_path):
    import_rows(json.loads(DATA.read_text()))
    first = tmp_path / "first.json"
    call_command("export_transactions", str(first), stdout=io.StringIO())

    call_command("import_transactions", str(first), stdout=io.StringIO())
    second = tmp_path / "second.json"
    call_command("export_transactions", str(second), stdout=io.StringIO())

    assert first.read_text() == second.read_text()
    assert len(json.loads(first.read_text())) == 5


def test_it_writes_an_empty_list_when_there_is_nothing(db):
    assert json.loads(export_to_stdout()) == []


def test_it_never_writes_a_full_card_number(db):
    import_rows(json.loads(DATA.read_text()))

    text = export_to_stdout()

    assert "4111" not in text
    assert all(row["card_number"].startswith("***") for row in json.loads(text))


def test_it_reports_a_path_it_cannot_write(db, tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export_transactions", str(tmp_path / "no" / "such" / "dir.json"))
