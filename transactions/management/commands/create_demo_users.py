"""Demo users for the two roles: `analyst` and `supervisor` (`make run` calls this)."""

import os
import secrets

from django.contrib.auth.models import Group, User
from django.core.management.base import BaseCommand
from django.db import transaction

from transactions.roles import ANALYSTS, SUPERVISORS

DEMO_USERS = [
    ("analyst", ANALYSTS, False),
    ("supervisor", SUPERVISORS, True),
]


class Command(BaseCommand):
    help = (
        "Create the demo users `analyst` and `supervisor`. The password comes from "
        "DEMO_PASSWORD, or is generated and printed once. Existing users are left alone."
    )

    def handle(self, *args, **options):
        for username, group_name, is_staff in DEMO_USERS:
            if User.objects.filter(username=username).exists():
                self.stdout.write(f"User “{username}” already exists; left unchanged.")
                continue
            from_env = os.environ.get("DEMO_PASSWORD", "")
            password = from_env or secrets.token_urlsafe(12)
            with transaction.atomic():
                user = User.objects.create_user(username, password=password, is_staff=is_staff)
                user.groups.add(Group.objects.get(name=group_name))
            if from_env:
                self.stdout.write(
                    f"Created “{username}” ({group_name}) with the password from DEMO_PASSWORD."
                )
            else:
                self.stdout.write(
                    f"Created “{username}” ({group_name}), password: {password}  "
                    "(shown only this once)"
                )
