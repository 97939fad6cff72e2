import io
import re

from django.contrib.auth.models import User
from django.core.management import call_command

from transactions.roles import ANALYSTS, SUPERVISORS


def run():
    out = io.StringIO()
    call_command("create_demo_users", stdout=out)
    return out.getvalue()


def test_it_creates_an_analyst_and_a_supervisor_with_the_password_from_the_environment(
    db, monkeypatch
):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-password-for-tests")

    out = run()

    assert "demo-password-for-tests" not in out
    analyst, supervisor = (
        User.objects.get(username="analyst"),
        User.objects.get(username="supervisor"),
    )
    assert list(analyst.groups.values_list("name", flat=True)) == [ANALYSTS]
    assert list(supervisor.groups.values_list("name", flat=True)) == [SUPERVISORS]
    assert (analyst.is_staff, supervisor.is_staff) == (False, True)
    assert not analyst.is_superuser and not supervisor.is_superuser
    assert analyst.check_password("demo-password-for-tests")
    assert supervisor.has_perm("transactions.set_status")
    assert not analyst.has_perm("transactions.set_status")


def test_it_generates_and_prints_each_password_once(db, monkeypatch):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)

    out = run()

    passwords = dict(re.findall(r"Created “(\w+)” \(\w+\), password: (\S+)", out))
    assert set(passwords) == {"analyst", "supervisor"}
    for username, password in passwords.items():
        assert len(password) >= 12
        assert User.objects.get(username=username).check_password(password)

    again = run()

    assert "password" not in again
    assert "User “analyst” already exists; left unchanged." in again
    assert "User “supervisor” already exists; left unchanged." in again


def test_it_leaves_an_existing_user_alone(db, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "new-password-ignored")
    User.objects.create_user("analyst", password="their-own-password")

    out = run()

    assert "User “analyst” already exists; left unchanged." in out
    assert User.objects.get(username="analyst").check_password("their-own-password")
    assert User.objects.get(username="supervisor").check_password("new-password-ignored")
