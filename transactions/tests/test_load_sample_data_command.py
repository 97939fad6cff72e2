import io
import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

from transactions.cards import card_last4
from transactions.models import FINAL_STATUSES, Status, Transaction
from transactions.phones import normalise_phone

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "sample_transactions.json"


def run():
    out = io.StringIO()
    call_command("load_sample_data", stdout=out)
    return out.getvalue()


def test_it_loads_the_twenty_samples_into_an_empty_database(db):
    assert run() == "Loaded 20 sample transactions.\n"
    assert Transaction.objects.count() == 20


def test_it_leaves_a_database_with_transactions_alone(db, make_transaction):
    make_transaction(public_id="TXN001", client_name="Someone Real")

    assert run() == "1 transaction(s) already present; sample data not loaded.\n"
    assert list(Transaction.objects.values_list("client_name", flat=True)) == ["Someone Real"]


def test_loaddata_finds_the_fixture_by_name(db):
    call_command("loaddata", "sample_transactions", verbosity=0)

    assert Transaction.objects.count() == 20


def test_the_samples_are_valid_and_varied(db):
    run()
    rows = list(Transaction.objects.all())

    for txn in rows:
        txn.full_clean()
        assert normalise_phone(txn.phone) == txn.phone
        assert card_last4(txn.card_last4) == (txn.card_last4, False)
        assert txn.currency == "INR"
    # The simulator picks a scripted customer by the phone's last digit: all ten appear.
    assert {txn.phone[-1] for txn in rows} == set("0123456789")
    assert {txn.status for txn in rows} >= {
        Status.PENDING,
        Status.RESOLVED,
        Status.FRAUD,
        Status.NOT_ANSWERED,
        Status.DISCONNECTED,
    }
    assert Status.CONNECTING not in {txn.status for txn in rows}
    answered = [txn for txn in rows if txn.status in FINAL_STATUSES]
    assert answered and all(txn.authorized is not None for txn in answered)
    assert any(txn.amount != int(txn.amount) for txn in rows)  # paise appear
    assert len({txn.bank_name for txn in rows}) >= 5
    assert len({txn.merchant_name for txn in rows}) >= 10


def test_the_samples_use_only_fictional_phone_numbers():
    for row in json.loads(FIXTURE.read_text()):
        phone = row["fields"]["phone"]
        # US 555-0100..0199 is reserved for fiction; Ofcom keeps 020 7946 0xxx for drama.
        assert phone.startswith(("+1415555010", "+1415555011", "+442079460")), phone
        if phone.startswith("+1"):
            assert 100 <= int(phone[-4:]) <= 199


def test_new_transactions_can_be_added_after_the_samples(db, make_transaction):
    # loaddata sets primary keys itself; the database's id sequence must follow.
    run()

    txn = make_transaction(public_id="TXN100")

    assert txn.pk > 20
