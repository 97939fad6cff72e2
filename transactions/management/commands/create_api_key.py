"""A key for one integration with the alerts API, printed once (its last line)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from transactions.models import ApiKey


class Command(BaseCommand):
    help = (
        "Create an API key for the alerts API. The key is printed once, as the last "
        "line; only its hash is kept. Revoke it in admin (API keys)."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who uses it, e.g. core-banking (unique).")
        parser.add_argument(
            "--rate-limit",
            default="",
            help="Requests allowed as N/period, e.g. 600/1m (the default).",
        )

    def handle(self, *args, name, rate_limit, **options):
        try:
            api_key, key = ApiKey.issue(name, rate_limit=rate_limit)
        except ValidationError as e:
            problems = [f"{field}: {' '.join(m)}" for field, m in e.message_dict.items()]
            raise CommandError("; ".join(problems)) from None
        self.stdout.write(
            f"Created API key “{api_key.name}” (rate limit {api_key.rate_limit}). "
            "Store it now; it is not shown again:"
        )
        self.stdout.write(key)
