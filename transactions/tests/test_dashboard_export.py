"""GET /export.csv : supervisors export the dashboard's current filtered view."""

import csv
import io

from django.urls import reverse

from transactions.models import Status, Transaction

URL = reverse("dashboard-export")


def test_it_redirects_anonymous_users_to_login(client, db):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_analysts_may_not_export(analyst_client, txn):
    assert analyst_client.get(URL).status_code == 403


def test_it_rejects_post(supervisor_client):
    assert supervisor_client.post(URL).status_code == 405


def test_it_rejects_a_bad_filter(supervisor_client):
    response = supervisor_client.get(URL, {"status": "Bogus"})
    assert response.status_code == 400
    assert "Unknown status" in response.content.decode()


def test_it_exports_the_filtered_view_with_masked_cards(supervisor_client, make_transaction):
    make_transaction(public_id="KEEP1", client_name="Meera", status=Status.FRAUD)
    make_transaction(public_id="KEEP2", client_name="Meera", status=Status.FRAUD)
    make_transaction(public_id="OTHERSTATUS", client_name="Meera")
    make_transaction(public_id="OTHERNAME", client_name="Arjun", status=Status.FRAUD)

    response = supervisor_client.get(URL, {"q": "Meera", "status": Status.FRAUD})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="transactions-')
    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert sorted(r["id"] for r in rows) == ["KEEP1", "KEEP2"]
    assert {r["card_number"] for r in rows} == {"***4821"}


def test_a_large_export_is_streamed_whole_across_its_reads(supervisor_client, make_transaction):
    """Many reads of the database (500 rows each): every row arrives, once, in order."""
    template = make_transaction(public_id="T0000")
    fields = {
        f.attname: getattr(template, f.attname)
        for f in Transaction._meta.concrete_fields
        if not f.primary_key and f.attname != "public_id"
    }
    Transaction.objects.bulk_create(
        Transaction(public_id=f"T{n:04d}", **fields) for n in range(1, 4500)
    )

    response = supervisor_client.get(URL, {"sort": "date"})

    assert response.streaming
    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert [r["id"] for r in rows] == [f"T{n:04d}" for n in range(4500)]


def test_it_exports_only_the_rows_that_need_review_when_asked(supervisor_client, make_transaction):
    make_transaction(public_id="FLAG", status=Status.RESOLVED, needs_review=True)
    make_transaction(public_id="CALM", status=Status.RESOLVED)

    response = supervisor_client.get(URL, {"review": "1"})

    rows = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert [r["id"] for r in rows] == ["FLAG"]
