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
