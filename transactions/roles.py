"""The two roles and what each may do. The data migration and `make run`'s demo users use this."""

ANALYSTS = "Analysts"
SUPERVISORS = "Supervisors"

ANALYST_PERMISSIONS = [
    "transactions.view_transaction",
    "transactions.place_call",
    "transactions.edit_phone",
    "transactions.view_callattempt",
    "transactions.view_callevent",
    "transactions.view_auditentry",
    "reports.view_reports",
]
SUPERVISOR_PERMISSIONS = [
    *ANALYST_PERMISSIONS,
    "transactions.change_transaction",
    "transactions.set_status",
    "transactions.export_transactions",
]
ROLE_PERMISSIONS = {ANALYSTS: ANALYST_PERMISSIONS, SUPERVISORS: SUPERVISOR_PERMISSIONS}


def sync_roles(group_model, permission_model):
    """Create the groups and give each exactly its permissions (idempotent)."""
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            if not permission_model.objects.filter(content_type__app_label=app_label).exists():
                # An app migrated after this caller (reports): its own migration syncs again.
                continue
            wanted.append(
                permission_model.objects.get(content_type__app_label=app_label, codename=codename)
            )
        group.permissions.set(wanted)
