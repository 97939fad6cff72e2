"""Amounts, dates and card digits as the voice says them."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voiceflow.speech import amount_in_words, number_in_words, spell_digits, spoken_date


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("2350.10", "two thousand three hundred and fifty rupees and ten paise"),
        ("0.05", "five paise"),
        ("0.01", "one paisa"),
        ("0.99", "ninety-nine paise"),
        ("1.00", "one rupee"),
        ("1.01", "one rupee and one paisa"),
        ("0", "zero rupees"),
        ("100", "one hundred rupees"),
        ("105", "one hundred and five rupees"),
        ("2050", "two thousand and fifty rupees"),
        ("100000", "one lakh rupees"),
        ("150000.50", "one lakh fifty thousand rupees and fifty paise"),
        ("10000000", "one crore rupees"),
        (
            "12345678.90",
            (
                "one crore twenty-three lakh forty-five thousand six hundred and seventy-eight "
                "rupees and ninety paise"
            ),
        ),
        ("1000000000", "one hundred crore rupees"),
        (
            "999999999999.99",
            (
                "ninety-nine thousand nine hundred and ninety-nine crore "
                "ninety-nine lakh ninety-nine thousand nine hundred and ninety-nine rupees "
                "and ninety-nine paise"
            ),
        ),
    ],
)
def test_amounts_are_said_in_rupees_and_paise(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_the_paise_are_exact_where_floats_are_not():
    # 2350.10 as a float is 2350.0999...; the seed said "nine paise".
    assert amount_in_words(Decimal("2350.10")).endswith("and ten paise")
    assert amount_in_words(0.1 + 0.2) == "thirty paise"


def test_finer_than_a_paisa_rounds_half_up():
    assert amount_in_words(Decimal("12.345")) == "twelve rupees and thirty-five paise"
    assert amount_in_words(Decimal("0.004")) == "zero rupees"


def test_a_negative_amount_is_refused():
    with pytest.raises(ValueError, match="zero or more"):
        amount_in_words(Decimal("-1"))


def test_other_currencies_are_said_with_their_code():
    assert amount_in_words(Decimal("12.50"), "usd") == "twelve point 5 0 U S D"
    assert amount_in_words(Decimal("12"), "USD") == "twelve U S D"


@given(st.integers(min_value=0, max_value=10**13))
def test_every_number_reads_back(n):
    words = number_in_words(n)
    assert words and "  " not in words and not words.startswith("and")
    assert _parse(words) == n


UNITS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
)
TENS = "twenty thirty forty fifty sixty seventy eighty ninety"


def _parse(words: str) -> int:
    """Words back to a number (the test's own reader, Indian system)."""
    units = dict(map(reversed, enumerate(UNITS.split())))
    tens = {w: 10 * i for i, w in enumerate(TENS.split(), 2)}
    scales = {"thousand": 1_000, "lakh": 100_000, "crore": 10_000_000}
    total, current = 0, 0
    for word in words.replace("-", " ").split():
        if word == "and":
            continue
        if word in units:
            current += units[word]
        elif word in tens:
            current += tens[word]
        elif word == "hundred":
            current *= 100
        elif word == "crore":
            total = (total + current) * scales[word]
            current = 0
        else:
            total += current * scales[word]
            current = 0
    return total + current


def test_dates_are_said_as_dates():
    assert spoken_date(date(2025, 3, 15)) == "15 March 2025"
    assert spoken_date(date(2024, 12, 1)) == "1 December 2024"


def test_card_digits_are_said_one_by_one():
    assert spell_digits("4821") == "4 8 2 1"
    assert spell_digits("0007") == "0 0 0 7"
