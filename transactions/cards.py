"""Card numbers: we keep the last four digits and nothing else (PCI DSS 3.4.1)."""

import re

from django.core.exceptions import ValidationError

_NON_DIGITS = re.compile(r"[\s\-*xX•.]")


def card_last4(value) -> tuple[str, bool]:
    """Reduce a card value to its last four digits.

    Accepts "1234", masked forms ("***1234", "XXXX-XXXX-XXXX-1234") and a full
    13–19 digit PAN. Returns (last4, was_full_number) so the caller can tell
    the user that a full number was given and dropped.
    """
    raw = str(value or "").strip()
    digits = _NON_DIGITS.sub("", raw)
    if not (digits.isascii() and digits.isdigit()) or len(digits) < 4:  # not "４８２１"
        raise ValidationError("Give the card's last four digits (for example ***1234).")
    if len(digits) > 4 and not 13 <= len(digits) <= 19:
        raise ValidationError(
            "A card number must be the last four digits or a full 13–19 digit number."
        )
    return digits[-4:], len(digits) > 4


def mask(last4: str) -> str:
    """The only form a card ever takes on a page, in the API or in an export."""
    return f"***{last4}"
