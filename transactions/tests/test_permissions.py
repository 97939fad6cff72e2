"""Who may do what: the roles' permissions, read by Django's ModelBackend."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from transactions.roles import ANALYST_PERMISSIONS, ANALYSTS, SUPERVISOR_PERMISSIONS, SUPERVISORS


def _permission_queries(queries):
    return [q["sql"] for q in queries if "auth_permission" in q["sql"]]


def test_a_dashboard_page_reads_permissions_once_however_many_rows(
    analyst_client, make_transaction
):
    def permission_queries():
        with CaptureQueriesContext(connection) as queries:
            page = analyst_client.get("/").content.decode()
        return len(_permission_queries(queries.captured_queries)), page

    make_transaction(public_id="TXN001")
    one_row, _ = permission_queries()
    for n in range(5):
        make_transaction(public_id=f"MORE{n}")
    many_rows, page = permission_queries()
    # ModelBackend: the user's own permissions, then their groups', cached for the request.
    assert one_row == many_rows <= 2
    # The template's {{ perms }} answered from the same cache: the call badge is there.
    assert 'class="badge status-pending callable"' in page


@pytest.mark.parametrize(
    ("who", "role"),
    [("alice", ANALYST_PERMISSIONS), ("sam", SUPERVISOR_PERMISSIONS), ("eve", [])],
)
def test_a_user_has_their_roles_and_their_own_permissions(request, db, who, role):
    user = request.getfixturevalue(who)
    extra = Permission.objects.get(codename="change_callattempt")
    user.user_permissions.add(extra)  # a permission of the user's own, beside the group's
    fresh = User.objects.get(pk=user.pk)
    assert fresh.get_all_permissions() == {*role, "transactions.change_callattempt"}
    assert all(fresh.has_perm(p) for p in role)
    assert not fresh.has_perm("transactions.delete_transaction")


def test_analysts_see_the_dashboard_but_may_not_set_a_status(analyst_client, txn):
    assert analyst_client.get("/").status_code == 200
    url = reverse("transaction_set_status", args=[txn.public_id])
    assert analyst_client.post(url, {"status": "Resolved"}).status_code == 403


def test_supervisors_may_set_a_status_and_export(supervisor_client, txn):
    url = reverse("transaction_set_status", args=[txn.public_id])
    assert supervisor_client.post(url, {"status": "Resolved"}).status_code == 302
    assert supervisor_client.get(reverse("dashboard-export")).status_code == 200


def test_a_user_removed_from_their_group_loses_access_on_the_next_request(
    analyst_client, alice, txn
):
    assert analyst_client.get("/").status_code == 200
    alice.groups.remove(Group.objects.get(name=ANALYSTS))
    assert analyst_client.get("/").status_code == 403


def test_a_user_moved_to_supervisors_gains_their_permissions_on_the_next_request(
    analyst_client, alice, txn
):
    url = reverse("transaction_set_status", args=[txn.public_id])
    assert analyst_client.post(url, {"status": "Resolved"}).status_code == 403
    alice.groups.add(Group.objects.get(name=SUPERVISORS))
    assert analyst_client.post(url, {"status": "Resolved"}).status_code == 302


def test_superusers_have_every_permission_and_inactive_users_none(make_user):
    boss = make_user("boss", is_superuser=True, is_staff=True)
    assert boss.get_all_permissions() == {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type")
    }
    assert boss.has_perm("transactions.set_status")
    gone = make_user("gone", SUPERVISORS, is_active=False)
    assert gone.get_all_permissions() == set()
    assert not gone.has_perm("transactions.view_transaction")


def test_the_json_api_and_the_admin_read_permissions_once_a_request(
    analyst_client, supervisor_client, txn
):
    for client, url in ((analyst_client, "/transactions"), (supervisor_client, "/admin/")):
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(_permission_queries(queries.captured_queries)) <= 2, url
