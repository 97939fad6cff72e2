"""Numbers, money, dates and card digits as a voice should say them.

Amounts use exact Decimal arithmetic and the Indian system (lakh, crore):
2350.10 → "two thousand three hundred and fifty rupees and ten paise".
"""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

_ONES = [
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
]  # fmt: skip
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
# Indian grouping, largest first: crore = 10^7, lakh = 10^5.
_SCALES = ((10_000_000, "crore"), (100_000, "lakh"), (1_000, "thousand"))
_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def number_in_words(n: int) -> str:
    """A whole number in words, Indian system: 150000 → "one lakh fifty thousand"."""
    if n < 0:
        raise ValueError("Only amounts of zero or more are spoken.")
    if n == 0:
        return "zero"
    parts = []
    for size, name in _SCALES:
        count, n = divmod(n, size)
        if count:
            # Above 99 crore the count itself is read out: "one hundred crore".
            parts.append(f"{number_in_words(count)} {name}")
    hundreds, rest = divmod(n, 100)
    if hundreds:
        parts.append(f"{_ONES[hundreds]} hundred")
    if rest:
        # British usage: "two thousand and fifty", "three hundred and five".
        parts.append(("and " if parts else "") + _below_hundred(rest))
    return " ".join(parts)


def amount_in_words(amount, currency: str = "INR") -> str:
    """Money as it is said: Decimal("2350.10") → "... rupees and ten paise".

    Amounts are stored with two decimal places; anything finer is rounded
    half-up to the paisa.
    """
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        raise ValueError("Only amounts of zero or more are spoken.")
    whole, cents = divmod(int(value * 100), 100)
    if currency.upper() != "INR":
        # Other currencies: the number, then the currency code letter by letter.
        code = " ".join(currency.upper())
        if cents:
            return f"{number_in_words(whole)} point {spell_digits(f'{cents:02d}')} {code}"
        return f"{number_in_words(whole)} {code}"
    rupees = f"{number_in_words(whole)} rupee{'' if whole == 1 else 's'}"
    paise = f"{number_in_words(cents)} {'paisa' if cents == 1 else 'paise'}"
    if whole and cents:
        return f"{rupees} and {paise}"
    if cents:
        return paise
    return rupees


def spoken_date(value: date) -> str:
    """A date as a date, not as digits: 15 March 2025."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def spell_digits(text: str) -> str:
    """Digits one by one, so "4821" is not read as "four thousand eight hundred...": "4 8 2 1"."""
    return " ".join(ch for ch in str(text) if not ch.isspace())
