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
    # Outcome events to the bank: endpoints set up and switched off (never deleted: their
    # delivery history stays), events and every delivery attempt read, redelivered.
    "transactions.view_webhookendpoint",
    "transactions.add_webhookendpoint",
    "transactions.change_webhookendpoint",
    "transactions.view_outcomeevent",
    "transactions.redeliver_outcomeevent",
    "transactions.view_delivery",
    "transactions.view_deliveryattempt",
    # Keys to the alerts API: issue, revoke (a change), list. Never delete: audit names them.
    "transactions.add_apikey",
    "transactions.change_apikey",
    "transactions.view_apikey",
]
ROLE_PERMISSIONS = {ANALYSTS: ANALYST_PERMISSIONS, SUPERVISORS: SUPERVISOR_PERMISSIONS}


def sync_roles(group_model, permission_model):
    """Create the groups and give each exactly its permissions (idempotent).

    A permission of a model that an earlier migration does not know yet is
    skipped: the migration that creates the model syncs the roles again.
    """
    for name, perms in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=name)
        wanted = []
        for dotted in perms:
            app_label, codename = dotted.split(".")
            wanted += permission_model.objects.filter(
                content_type__app_label=app_label, codename=codename
            )
        group.permissions.set(wanted)
