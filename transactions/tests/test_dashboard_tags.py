"""The dashboard's formatting filters."""

from decimal import Decimal

import pytest

from transactions.templatetags.dashboard import group_indian, money, status_label


@pytest.mark.parametrize(
    ("whole", "grouped"),
    [
        ("0", "0"),
        ("999", "999"),
        ("1000", "1,000"),
        ("100000", "1,00,000"),
        ("12345678", "1,23,45,678"),
        ("1234567890", "1,23,45,67,890"),
    ],
)
def test_it_groups_rupees_in_lakhs_and_crores(whole, grouped):
    assert group_indian(whole) == grouped


def test_money_shows_the_currency_and_two_decimals():
    assert money(Decimal("2350.1"), "INR") == "₹2,350.10"
    assert money(Decimal("1234567"), "USD") == "$1,234,567.00"
    assert money(Decimal("5"), "AED") == "5.00 AED"


def test_money_rounds_half_up():
    assert money(Decimal("0.005"), "INR") == "₹0.01"


def test_status_labels_are_words():
    assert status_label("Mark As Fraud") == "Fraud"
    assert status_label("Not Answered") == "Not Answered"


def test_the_rows_calling_hours_warning_follows_the_autocall_rule(settings):
    """The row's cached time-zone lookup answers as voiceflow.autocall does, hour by hour."""
    from datetime import UTC, datetime, timedelta

    from transactions.models import Transaction
    from voiceflow import autocall
    from voiceflow.templatetags.autocall import outside_calling_hours

    settings.CALLING_HOURS = "08:00-21:00"
    phones = ["+919876543210", "+442071234567", "+12125550123", "+18005550123", "12ab", ""]
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for phone in phones:
        txn = Transaction(phone=phone)
        for hour in range(24):
            now = start + timedelta(hours=hour, minutes=30)
            expected = autocall.outside_calling_hours(txn, now)
            assert outside_calling_hours(txn, now) is expected, (phone, now)
