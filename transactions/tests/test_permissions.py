"""OneQueryModelBackend: one permission query a request, the same answers as Django's."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from transactions.permissions import OneQueryModelBackend, all_permissions
from transactions.roles import ANALYSTS, SUPERVISORS


def _permission_queries(queries):
    return [q["sql"] for q in queries if "auth_permission" in q["sql"]]


def test_a_dashboard_page_reads_permissions_with_one_query(analyst_client, txn):
    analyst_client.get("/")  # warm
    with CaptureQueriesContext(connection) as queries:
        page = analyst_client.get("/").content.decode()
    assert len(_permission_queries(queries.captured_queries)) == 1
    # The template's {{ perms }} answered from the same query: the call badge is there.
    assert 'class="badge status-pending callable"' in page


@pytest.mark.parametrize("who", ["alice", "sam", "eve"])
def test_it_answers_as_djangos_model_backend(request, db, who):
    user = request.getfixturevalue(who)
    extra = Permission.objects.get(codename="change_callattempt")
    user.user_permissions.add(extra)  # a permission of the user's own, beside the group's
    expected = ModelBackend().get_all_permissions(User.objects.get(pk=user.pk))
    assert all_permissions(user.pk) == expected
    fresh = User.objects.get(pk=user.pk)
    assert OneQueryModelBackend().get_all_permissions(fresh) == expected
    assert {p for p in expected if fresh.has_perm(p)} == expected
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


def test_superusers_have_every_permission_and_inactive_users_none(db):
    backend = OneQueryModelBackend()
    boss = User.objects.create_superuser("boss", "boss@bank.example", "x")
    assert backend.get_all_permissions(boss) == ModelBackend().get_all_permissions(
        User.objects.get(pk=boss.pk)
    )
    assert boss.has_perm("transactions.set_status")
    gone = User.objects.create_user("gone", is_active=False)
    gone.groups.add(Group.objects.get_or_create(name=SUPERVISORS)[0])
    assert backend.get_all_permissions(gone) == set()
    assert not gone.has_perm("transactions.view_transaction")


def test_the_json_api_and_the_admin_read_permissions_with_one_query_too(
    analyst_client, supervisor_client, txn
):
    for client, url in ((analyst_client, "/transactions"), (supervisor_client, "/admin/")):
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        assert len(_permission_queries(queries.captured_queries)) == 1, url
