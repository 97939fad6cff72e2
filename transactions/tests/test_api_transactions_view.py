from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from transactions.models import CallAttempt, Status, Transaction

URL = "/transactions"


def test_it_sends_anonymous_users_to_the_login_page(client, db):
    response = client.get(URL)

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/transactions"


def test_it_forbids_a_user_without_a_role(client, eve):
    client.force_login(eve)

    response = client.get(URL)

    assert response.status_code == 403
    assert response.json() == {"error": "You do not have permission to do that."}


def test_it_rejects_post(analyst_client):
    assert analyst_client.post(URL).status_code == 405


def test_it_lists_transactions_in_the_flask_apps_shape(analyst_client, make_transaction):
    txn = make_transaction(
        public_id="TXN001",
        amount=Decimal("2500.75"),
        card_last4="1234",
        status=Status.FRAUD,
        authorized=False,
        shared_card_details=True,
        other_suspicious=False,
        card_delivery="virtual",
    )

    response = analyst_client.get(URL)

    assert response.status_code == 200
    assert response["X-Total-Count"] == "1"
    assert response.json() == [
        {
            "id": "TXN001",
            "client_name": "Asha Rao",
            "card_number": "***1234",
            "client_phone": "+14155550101",
            "amount": 2500.75,
            "bank_name": "Example Bank",
            "merchant_name": "Croma Electronics",
            "transaction_date": "15/03/2025",
            "action": "Mark As Fraud",
            "answers": {
                "authorized": False,
                "shared_card_details": True,
                "other_suspicious": False,
                "card_delivery": "virtual",
            },
            "last_error": None,
            "needs_review": False,
            "on_call": False,
            "updated_at": txn.updated_at.isoformat(),
        }
    ]


def test_unanswered_questions_are_null(analyst_client, make_transaction):
    make_transaction()

    (row,) = analyst_client.get(URL).json()

    assert row["answers"] == {
        "authorized": None,
        "shared_card_details": None,
        "other_suspicious": None,
        "card_delivery": None,
    }


def test_last_error_is_the_latest_calls_failure(analyst_client, make_transaction):
    txn = make_transaction()
    ended = timezone.now()
    CallAttempt.objects.create(
        transaction=txn,
        call_sid="CA2",
        error_code="21214",
        error_message="To unreachable",
        ended_at=ended,
    )
    # Placed earlier, though written later: the latest is the latest placed.
    CallAttempt.objects.create(
        transaction=txn,
        call_sid="CA1",
        error_code="21217",
        error_message="Invalid To number",
        ended_at=ended,
    )
    CallAttempt.objects.filter(call_sid="CA1").update(
        created_at=timezone.now() - timedelta(hours=1)
    )

    (row,) = analyst_client.get(URL).json()

    assert row["last_error"] == "To unreachable (21214)"


def test_a_later_call_that_did_not_fail_clears_last_error(analyst_client, make_transaction):
    """As on the dashboard: the latest call's failure, not the latest failure."""
    txn = make_transaction()
    CallAttempt.objects.create(
        transaction=txn, error_code="21214", error_message="To unreachable", ended_at=timezone.now()
    )
    CallAttempt.objects.create(transaction=txn, outcome="confirmed", ended_at=timezone.now())

    (row,) = analyst_client.get(URL).json()

    assert row["last_error"] is None


def test_it_says_which_rows_need_review_and_are_on_the_line(analyst_client, make_transaction):
    make_transaction(public_id="FLAG", status=Status.RESOLVED, needs_review=True)
    busy = make_transaction(public_id="BUSY", status=Status.FRAUD)
    CallAttempt.objects.create(transaction=busy)

    rows = {row["id"]: row for row in analyst_client.get(URL).json()}

    assert (rows["FLAG"]["needs_review"], rows["FLAG"]["on_call"]) == (True, False)
    assert (rows["BUSY"]["needs_review"], rows["BUSY"]["on_call"]) == (False, True)


def test_the_number_of_queries_does_not_grow_with_the_rows(analyst_client, make_transaction):
    def queries_for_the_list():
        with CaptureQueriesContext(connection) as queries:
            rows = analyst_client.get(URL).json()
        assert all(row["last_error"] for row in rows)
        return len(queries)

    txn = make_transaction()
    CallAttempt.objects.create(transaction=txn, error_message="failure")
    one_row = queries_for_the_list()
    for n in range(5):
        txn = make_transaction()
        CallAttempt.objects.create(transaction=txn, error_message=f"failure {n}")

    assert queries_for_the_list() == one_row


def test_it_filters_by_status_and_searches(analyst_client, make_transaction):
    make_transaction(public_id="TXN001", client_name="Asha Rao", status=Status.RESOLVED)
    make_transaction(public_id="TXN002", client_name="Vikram Singh", merchant_name="Flipkart")
    make_transaction(public_id="TXN003", client_name="Priya Nair", phone="+14155550177")

    def ids(**params):
        return [row["id"] for row in analyst_client.get(URL, params).json()]

    assert ids(status="Resolved") == ["TXN001"]
    assert ids(q="flipkart") == ["TXN002"]
    assert ids(q="txn003") == ["TXN003"]
    assert ids(q="555 0177") == ["TXN003"]
    assert ids(q="Vikram", status="Resolved") == []


def test_it_pages_with_limit_and_offset_and_counts_all(analyst_client, make_transaction):
    for day in range(1, 8):
        make_transaction(public_id=f"TXN{day:03d}", transaction_date=date(2025, 3, day))

    response = analyst_client.get(URL, {"limit": 3, "offset": 2})

    assert response["X-Total-Count"] == "7"
    # Newest first, as on the dashboard.
    assert [row["id"] for row in response.json()] == ["TXN005", "TXN004", "TXN003"]


def test_it_defaults_to_500_rows(analyst_client, make_transaction):
    txn = make_transaction()
    Transaction.objects.bulk_create(
        [
            Transaction(
                public_id=f"BULK{n:04d}",
                client_name="Someone",
                card_last4="1234",
                phone=txn.phone,
                amount=1,
                bank_name="Bank",
                merchant_name="Shop",
                transaction_date=txn.transaction_date,
            )
            for n in range(501)
        ]
    )

    response = analyst_client.get(URL)

    assert len(response.json()) == 500
    assert response["X-Total-Count"] == "502"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "ten"}, "limit must be a whole number"),
        ({"limit": "0"}, "limit must be between 1 and 5000"),
        ({"limit": "5001"}, "limit must be between 1 and 5000"),
        ({"offset": "-1"}, "offset must be between"),
        ({"status": "Escalated"}, "status must be one of"),
    ],
)
def test_it_explains_a_bad_parameter(analyst_client, db, params, message):
    response = analyst_client.get(URL, params)

    assert response.status_code == 400
    assert message in response.json()["error"]


def test_it_is_never_cached(analyst_client, db):
    assert "no-cache" in analyst_client.get(URL)["Cache-Control"]
