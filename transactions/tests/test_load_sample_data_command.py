import io
import json
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from django.conf import settings
from django.core.management import call_command

from transactions.cards import card_last4
from transactions.models import FINAL_STATUSES, Status, Transaction
from transactions.phones import normalise_phone
from voiceflow.autocall import calling_window_opening

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "sample_transactions.json"
INDIA = ZoneInfo("Asia/Kolkata")


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


def test_it_loads_nothing_when_real_twilio_would_place_the_calls(db, settings):
    # The sample numbers are well-formed Indian mobiles: real people may hold them.
    settings.SIMULATION = False

    assert "sample data not loaded" in run()
    assert Transaction.objects.count() == 0


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


@pytest.mark.parametrize("at", ["09:30", "13:00", "20:30"])
def test_the_samples_can_be_called_during_an_indian_working_day(db, settings, at):
    # Indian banks and rupees: the customers are in India, and the time zone comes from the
    # number, not the default (US or UK numbers would all be asleep at these hours).
    settings.DEFAULT_CUSTOMER_TIME_ZONE = "America/Los_Angeles"
    now = datetime.combine(date(2026, 11, 2), time.fromisoformat(at), INDIA)
    run()

    for txn in Transaction.objects.all():
        number = phonenumbers.parse(txn.phone)
        assert number.country_code == 91, txn.phone
        assert phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
        assert calling_window_opening(txn.phone, now) is None, txn.phone


def test_each_sample_keeps_its_scripted_customer():
    # The simulator picks the customer by the last digit; TXN001..TXN020 end in 01..20.
    for row in json.loads(FIXTURE.read_text()):
        number = row["fields"]["phone"][-2:]
        assert number == row["fields"]["public_id"][-2:], row["fields"]["public_id"]


def test_new_transactions_can_be_added_after_the_samples(db, make_transaction):
    # loaddata sets primary keys itself; the database's id sequence must follow.
    run()

    txn = make_transaction(public_id="TXN100")

    assert txn.pk > 20
