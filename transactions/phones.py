"""Phone numbers: validated and stored in E.164 with Google's libphonenumber."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError


def normalise_phone(value, region: str | None = None) -> str:
    """Return `value` as E.164 (+919876543210) or raise ValidationError saying why."""
    raw = str(value or "").strip()
    if not raw:
        raise ValidationError("Enter a phone number.")
    if len(raw) > 32:
        raise ValidationError("That phone number is too long.")
    try:
        number = phonenumbers.parse(raw, region or settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException:
        raise ValidationError(
            "“%(value)s” is not a phone number. Use international form, e.g. +919876543210.",
            params={"value": raw},
        ) from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            "“%(value)s” is not a valid phone number for its country.",
            params={"value": raw},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
