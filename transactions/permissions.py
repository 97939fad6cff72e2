"""The authentication backend: Django's ModelBackend, a user's permissions read in one query.

ModelBackend reads a user's permissions with two ORM queries (their own, then
their groups'); on the dashboard, building them cost more than fetching the
page's rows. This backend reads both with one constant SQL statement and keeps
them exactly where ModelBackend does, for the rest of the request, so
permission_required, has_perm and {{ perms }} answer as before, in every view
and the admin. The user is read afresh on every request, so someone removed
from a group loses access on their next one.
"""

from functools import cache

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, connections


@cache
def _sql(connection_alias) -> str:
    q = connections[connection_alias].ops.quote_name
    perm, ctype = Permission._meta.db_table, ContentType._meta.db_table
    own = User.user_permissions.through._meta.db_table
    in_group = User.groups.through._meta.db_table
    granted = Group.permissions.through._meta.db_table
    # Names of tables and columns only: the user id is a parameter.
    return (
        f"SELECT ct.{q('app_label')}, p.{q('codename')} FROM {q(perm)} p"  # noqa: S608
        f" INNER JOIN {q(ctype)} ct ON ct.{q('id')} = p.{q('content_type_id')}"
        f" WHERE p.{q('id')} IN (SELECT g.{q('permission_id')} FROM {q(granted)} g"
        f" INNER JOIN {q(in_group)} m ON m.{q('group_id')} = g.{q('group_id')}"
        f" WHERE m.{q('user_id')} = %s)"
        f" OR p.{q('id')} IN (SELECT {q('permission_id')} FROM {q(own)} WHERE {q('user_id')} = %s)"
    )


def all_permissions(user_id, using=DEFAULT_DB_ALIAS) -> set[str]:
    """{"app_label.codename"} of a user's own and their groups' permissions (one query)."""
    with connections[using].cursor() as cursor:
        cursor.execute(_sql(using), [user_id, user_id])
        return {f"{app_label}.{codename}" for app_label, codename in cursor.fetchall()}


class OneQueryModelBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if (
            user_obj.is_active
            and not user_obj.is_anonymous
            and not user_obj.is_superuser  # every permission: ModelBackend's own query
            and obj is None
            and not hasattr(user_obj, "_perm_cache")
        ):
            using = user_obj._state.db or DEFAULT_DB_ALIAS
            user_obj._perm_cache = all_permissions(user_obj.pk, using)
        return super().get_all_permissions(user_obj, obj)
