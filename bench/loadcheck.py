"""The load test's database side: set up the calls' transactions, then read what happened.

loadcheck.py setup N     N transactions, their numbers chosen for a mix of personas
loadcheck.py report      every row's status and calls, and failed tasks, as JSON
"""

import json
import os
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ivr_project.settings")

import django

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.db.models import Count  # noqa: E402

from transactions.models import CallAttempt, Status, Transaction  # noqa: E402
from transactions.roles import ANALYSTS  # noqa: E402

USERNAME = "load-analyst"
PASSWORD = "load-test-password-not-secret"  # noqa: S105 (a throwaway database)

# The simulator's personas, by the number's last digit (simulator/personas.py),
# and the status each one's call must leave (voiceflow/flow.py).
EXPECTED = {
    "0": Status.RESOLVED,  # confirms by voice
    "1": Status.FRAUD,  # denies, physical card
    "2": Status.FRAUD,  # denies, virtual card
    "3": Status.NOT_ANSWERED,  # never answers
    "4": Status.NOT_ANSWERED,  # busy
    "5": Status.NOT_ANSWERED,  # voicemail
    "6": Status.DISCONNECTED,  # answers, stays silent
    "7": Status.DISCONNECTED,  # mumbles
    "8": Status.RESOLVED,  # confirms on the keypad
    "9": Status.FRAUD,  # denies on the keypad
    "failed": Status.DISCONNECTED,  # the line fails (number ends in 0000)
}
PERSONA_LABELS = {
    "0": "confirms by voice",
    "1": "denies, physical card",
    "2": "denies, virtual card",
    "3": "never answers",
    "4": "busy",
    "5": "voicemail",
    "6": "silent",
    "7": "mumbles",
    "8": "confirms on keypad",
    "9": "denies on keypad",
    "failed": "line fails",
}


def _phone(n: int, persona: str) -> str:
    if persona == "failed":
        return f"+9198{n:04d}0000"
    # The 5 keeps a number for persona 0 from ending in 0000 (the failing line).
    return f"+9197{n:05d}5{n % 10}{persona}"


def setup(count: int):
    user, _ = User.objects.get_or_create(username=USERNAME)
    user.set_password(PASSWORD)
    user.save()
    user.groups.add(Group.objects.get(name=ANALYSTS))
    personas = list(EXPECTED)
    rows, expected = [], {}
    for n in range(count):
        persona = personas[n % len(personas)]
        public_id = f"LT{n:05d}"
        rows.append(
            Transaction(
                public_id=public_id,
                client_name=f"Load Customer {n}",
                card_last4=f"{n % 10000:04d}",
                phone=_phone(n, persona),
                amount=Decimal("1234.50"),
                bank_name="Example Bank",
                merchant_name="Croma Pune",
                transaction_date=date(2025, 3, 15),
            )
        )
        expected[public_id] = {"persona": persona, "status": EXPECTED[persona]}
    Transaction.objects.bulk_create(rows)
    print(json.dumps({"username": USERNAME, "password": PASSWORD, "rows": expected}))


def report():
    from django_tasks_db.models import DBTaskResult

    rows = {
        t["public_id"]: t
        for t in Transaction.objects.filter(public_id__startswith="LT")
        .annotate(n_calls=Count("calls"))
        .values("public_id", "status", "queue_state", "n_calls")
    }
    attempts = CallAttempt.objects.filter(transaction__public_id__startswith="LT")
    tasks = DBTaskResult.objects.values("status").annotate(n=Count("id"))
    print(
        json.dumps(
            {
                "rows": rows,
                "attempts": attempts.count(),
                "ended": attempts.filter(ended_at__isnull=False).count(),
                "placing_errors": list(
                    attempts.exclude(error_code="", error_message="")
                    .exclude(transaction__phone__endswith="0000")
                    .values("transaction__public_id", "error_code", "error_message")[:20]
                ),
                "tasks": {t["status"]: t["n"] for t in tasks},
            },
            default=str,
        )
    )


if __name__ == "__main__":
    if sys.argv[1] == "setup":
        setup(int(sys.argv[2]))
    else:
        report()
