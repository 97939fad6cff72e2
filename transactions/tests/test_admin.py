import csv
import io

import pytest

from transactions.admin import PAN_DROPPED_MESSAGE
from transactions.models import AuditEntry, CallAttempt, CallEvent, Status, Transaction

CHANGELIST = "/admin/transactions/transaction/"


def change_url(txn):
    return f"{CHANGELIST}{txn.pk}/change/"


def form_data(client, txn, **overrides):
    """What the change form would post back unchanged, with `overrides` typed in."""
    page = client.get(change_url(txn))
    form = page.context["adminform"].form
    data = {}
    for field in form:
        value = field.value()
        data[field.name] = "" if value is None else str(value)
        if field.field.show_hidden_initial:
            data[form.add_initial_prefix(field.name)] = data[field.name]
    for inline in page.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
    data.update(overrides)
    return data


def run_action(client, action, *txns):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [str(t.pk) for t in txns]},
        follow=action != "export_csv",
    )


@pytest.mark.parametrize("who", ["alice", "eve"])
def test_only_staff_supervisors_reach_the_admin(client, request, who, txn):
    client.force_login(request.getfixturevalue(who))

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_anonymous_users_are_sent_to_the_admin_login(client, txn):
    assert client.get(CHANGELIST)["Location"].startswith("/admin/login/")


def test_the_list_shows_masked_cards_and_filters_by_status(supervisor_client, make_transaction):
    make_transaction(public_id="TXN001", card_last4="4821", status=Status.RESOLVED)
    make_transaction(public_id="TXN002", card_last4="1937")

    page = supervisor_client.get(CHANGELIST).content.decode()
    resolved = supervisor_client.get(CHANGELIST, {"status__exact": "Resolved"})

    assert "***4821" in page and "***1937" in page
    assert [t.public_id for t in resolved.context["cl"].result_list] == ["TXN001"]


@pytest.mark.parametrize("q", ["TXN002", "vikram", "5550177", "flipkart"])
def test_it_searches_by_id_name_phone_and_merchant(supervisor_client, make_transaction, q):
    make_transaction(public_id="TXN001")
    make_transaction(
        public_id="TXN002",
        client_name="Vikram Singh",
        phone="+14155550177",
        merchant_name="Flipkart",
    )

    response = supervisor_client.get(CHANGELIST, {"q": q})

    assert [t.public_id for t in response.context["cl"].result_list] == ["TXN002"]


def test_it_browses_by_transaction_date(supervisor_client, make_transaction):
    make_transaction(public_id="TXN001")

    response = supervisor_client.get(CHANGELIST, {"transaction_date__year": "2025"})

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 1
    assert (
        supervisor_client.get(CHANGELIST, {"transaction_date__year": "2024"})
        .context["cl"]
        .result_list.count()
        == 0
    )


def test_mark_resolved_is_audited(supervisor_client, sam, make_transaction):
    first, second = make_transaction(), make_transaction(status=Status.RESOLVED)

    response = run_action(supervisor_client, "mark_resolved", first, second)

    assert "1 transaction(s) marked Resolved (1 already were)." in response.content.decode()
    first.refresh_from_db()
    assert first.status == Status.RESOLVED
    entry = AuditEntry.objects.get()
    assert (entry.transaction, entry.user, entry.new_value, entry.source) == (
        first,
        sam,
        "Resolved",
        "admin",
    )


def test_mark_fraud_is_audited(supervisor_client, make_transaction):
    txn = make_transaction()

    run_action(supervisor_client, "mark_fraud", txn)

    txn.refresh_from_db()
    assert txn.status == Status.FRAUD
    assert AuditEntry.objects.get().new_value == "Mark As Fraud"


def test_export_csv_gives_the_selected_rows_masked(supervisor_client, make_transaction):
    chosen = make_transaction(public_id="TXN001", card_last4="4821")
    make_transaction(public_id="TXN002")

    response = run_action(supervisor_client, "export_csv", chosen)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="transactions-')
    lines = list(csv.reader(io.StringIO(response.getvalue().decode())))
    assert [line[0] for line in lines] == ["id", "TXN001"]
    assert lines[1][2] == "***4821"


def test_without_the_export_permission_there_is_no_export(client, make_transaction, sam):
    from django.contrib.auth.models import Permission

    sam.groups.clear()
    sam.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_transaction", "change_transaction"])
    )
    client.force_login(sam)
    txn = make_transaction()

    page = client.get(CHANGELIST)
    response = run_action(client, "export_csv", txn)

    assert "export_csv" not in page.content.decode()
    assert "mark_resolved" not in page.content.decode()
    assert "Content-Disposition" not in response
    assert not response["Content-Type"].startswith("text/csv")


def test_a_supervisor_may_not_delete(supervisor_client, txn):
    page = supervisor_client.get(CHANGELIST).content.decode()

    assert "delete_selected" not in page
    assert supervisor_client.get(f"{CHANGELIST}{txn.pk}/delete/").status_code == 403
    assert (
        supervisor_client.post(f"{CHANGELIST}{txn.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    assert Transaction.objects.filter(pk=txn.pk).exists()


def test_the_change_form_shows_only_the_last_four(supervisor_client, make_transaction):
    txn = make_transaction(card_last4="4821")

    form = supervisor_client.get(change_url(txn)).context["adminform"].form

    assert form["card_last4"].value() == "4821"
    assert form.fields["card_last4"].label == "Card (last four digits)"


def test_a_full_card_number_is_cut_to_its_last_four_and_the_user_told(supervisor_client, txn):
    data = form_data(supervisor_client, txn, card_last4="4111 1111 1111 1234")

    response = supervisor_client.post(change_url(txn), data, follow=True)

    assert PAN_DROPPED_MESSAGE in response.content.decode()
    txn.refresh_from_db()
    assert txn.card_last4 == "1234"


def test_a_card_value_that_is_no_card_is_refused(supervisor_client, txn):
    data = form_data(supervisor_client, txn, card_last4="12345678")

    response = supervisor_client.post(change_url(txn), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["card_last4"]
    txn.refresh_from_db()
    assert txn.card_last4 == "4821"


def test_a_refused_full_number_is_not_shown_back(supervisor_client, txn):
    # 20 digits: too long for a card, so the form comes back with an error.
    data = form_data(supervisor_client, txn, card_last4="4111 1111 1111 1111 9999", phone="12")

    page = supervisor_client.post(change_url(txn), data).content.decode()

    assert "4111 1111" not in page
    assert "41111111" not in page
    assert 'value="9999"' in page


def test_a_phone_change_is_normalised_and_audited(supervisor_client, sam, txn):
    data = form_data(supervisor_client, txn, phone="+1 415 555 0199")

    supervisor_client.post(change_url(txn), data)

    txn.refresh_from_db()
    assert txn.phone == "+14155550199"
    entry = AuditEntry.objects.get()
    assert (entry.field, entry.old_value, entry.new_value, entry.user, entry.source) == (
        "phone",
        "+14155550101",
        "+14155550199",
        sam,
        "admin",
    )


def test_a_bad_phone_is_refused(supervisor_client, txn):
    data = form_data(supervisor_client, txn, phone="12")

    response = supervisor_client.post(change_url(txn), data)

    assert response.context["adminform"].form.errors["phone"]
    txn.refresh_from_db()
    assert txn.phone == "+14155550101"


def test_a_status_change_in_the_form_is_audited(supervisor_client, txn):
    data = form_data(supervisor_client, txn, status="Mark As Fraud")

    supervisor_client.post(change_url(txn), data)

    txn.refresh_from_db()
    assert txn.status == Status.FRAUD
    assert AuditEntry.objects.get().source == "admin"


def test_connecting_cannot_be_set_by_hand(supervisor_client, txn):
    data = form_data(supervisor_client, txn, status="Connecting")

    response = supervisor_client.post(change_url(txn), data)

    assert response.context["adminform"].form.errors["status"] == [
        "Only placing a call sets Connecting."
    ]
    txn.refresh_from_db()
    assert txn.status == Status.PENDING


def test_a_stale_form_does_not_undo_what_a_call_did(supervisor_client, txn):
    data = form_data(supervisor_client, txn, client_name="Asha R. Rao")
    # Meanwhile the customer answers the call.
    Transaction.objects.filter(pk=txn.pk).update(status=Status.RESOLVED, authorized=True)

    supervisor_client.post(change_url(txn), data)

    txn.refresh_from_db()
    assert (txn.client_name, txn.status, txn.authorized) == ("Asha R. Rao", "Resolved", True)


def test_calls_and_their_events_are_shown_read_only(supervisor_client, txn):
    call = CallAttempt.objects.create(
        transaction=txn, call_sid="CA0123", error_code="21217", error_message="Invalid To"
    )
    CallEvent.objects.create(
        call=call, kind="answer", step="step0", speech_result="yes I did", confidence=0.93
    )

    txn_page = supervisor_client.get(change_url(txn)).content.decode()
    call_page = supervisor_client.get(f"/admin/transactions/callattempt/{call.pk}/change/")

    assert "CA0123" in txn_page
    assert "Invalid To (21217)" in txn_page
    assert f"/admin/transactions/callattempt/{call.pk}/change/" in txn_page
    assert call_page.status_code == 200
    assert "yes I did" in call_page.content.decode()
    assert not call_page.context["has_change_permission"]
    assert (
        supervisor_client.post(
            f"/admin/transactions/callattempt/{call.pk}/change/", {"call_sid": "CAforged"}
        ).status_code
        == 403
    )
    assert supervisor_client.get("/admin/transactions/callattempt/add/").status_code == 403


def test_audit_entries_are_read_only(supervisor_client, sam, txn):
    txn.set_status_by(sam, Status.FRAUD, source="admin")
    entry = AuditEntry.objects.get()

    listing = supervisor_client.get("/admin/transactions/auditentry/")
    change = f"/admin/transactions/auditentry/{entry.pk}/change/"

    assert listing.status_code == 200
    assert "Mark As Fraud" in listing.content.decode()
    assert not supervisor_client.get(change).context["has_change_permission"]
    assert supervisor_client.post(change, {"new_value": "Resolved"}).status_code == 403
    assert supervisor_client.get("/admin/transactions/auditentry/add/").status_code == 403
    assert (
        supervisor_client.get(f"/admin/transactions/auditentry/{entry.pk}/delete/").status_code
        == 403
    )


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("meera", ["MEERA"]),  # a name, any case
        ("oberoi luck", ["OBEROI"]),  # part of a merchant
        ("bank of bar", ["OBEROI"]),  # part of a bank
        ("+91 98765 4", ["MEERA"]),  # phone digits, whatever is typed around them
        ("oberoi", ["OBEROI"]),
        ("Lucknow Oberoi", []),  # words in another order are another text, as on the dashboard
        ("ab", []),  # too short to be a substring: only an exact ID
    ],
)
def test_the_admin_search_finds_what_the_dashboard_search_finds(
    supervisor_client, make_transaction, q, found
):
    make_transaction(public_id="MEERA", client_name="Meera Iyer", phone="+919876543210")
    make_transaction(public_id="OBEROI", merchant_name="Oberoi Lucknow", bank_name="Bank of Baroda")

    page = supervisor_client.get(CHANGELIST, {"q": q})

    shown = sorted(t.public_id for t in page.context["cl"].result_list)
    assert shown == found
    assert shown == sorted(Transaction.objects.search(q).values_list("public_id", flat=True))


def test_the_admin_search_finds_a_short_id_in_any_case(supervisor_client, make_transaction):
    make_transaction(public_id="AB")
    page = supervisor_client.get(CHANGELIST, {"q": "ab"})
    assert [t.public_id for t in page.context["cl"].result_list] == ["AB"]


def test_an_overlong_admin_search_says_so(supervisor_client, txn):
    page = supervisor_client.get(CHANGELIST, {"q": "x" * 201}).content.decode()
    assert "Search for at most 200 characters." in page


def test_a_supervisor_finds_rows_needing_review_and_keeps_their_status(
    supervisor_client, make_transaction, sam
):
    flagged = make_transaction(status=Status.FRAUD, needs_review=True)
    make_transaction(status=Status.FRAUD)
    page = supervisor_client.get(CHANGELIST, {"needs_review__exact": "1"})
    assert [t.pk for t in page.context["cl"].result_list] == [flagged.pk]

    run_action(supervisor_client, "keep_status_after_review", flagged)

    flagged.refresh_from_db()
    assert (flagged.status, flagged.needs_review) == (Status.FRAUD, False)
    entry = AuditEntry.objects.get(transaction=flagged)
    assert (entry.user, entry.field, entry.source) == (sam, "needs_review", "admin")


def test_an_edit_of_the_rows_data_is_audited_with_old_and_new_values(supervisor_client, txn, sam):
    data = form_data(
        supervisor_client,
        txn,
        client_name="Asha R. Rao",
        card_last4="1937",
        amount="99.50",
        bank_name="Other Bank",
        merchant_name="Reliance Digital",
    )
    assert supervisor_client.post(change_url(txn), data).status_code == 302
    entries = {e.field: (e.old_value, e.new_value, e.user, e.source) for e in txn.audit.all()}
    assert entries == {
        "client_name": ("Asha Rao", "Asha R. Rao", sam, "admin"),
        "card_last4": ("4821", "1937", sam, "admin"),
        "amount": ("2350.10", "99.50", sam, "admin"),
        "bank_name": ("Example Bank", "Other Bank", sam, "admin"),
        "merchant_name": ("Croma Electronics", "Reliance Digital", sam, "admin"),
    }
    txn.refresh_from_db()
    assert (txn.client_name, txn.card_last4, str(txn.amount)) == ("Asha R. Rao", "1937", "99.50")
