"""GET /api/v1/alerts/<id>: status, review flag, answers and every call attempt."""

from datetime import timedelta

from django.utils import timezone

from transactions.models import CallOutcome, CallTrigger

URL = "/api/v1/alerts/TXN001"


def test_it_requires_a_key(api, txn):
    response = api("GET", URL, key=None)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_it_rejects_other_methods(api, txn):
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert api(method, URL, {}).status_code == 405, method


def test_an_unknown_id_is_404(api, db):
    response = api("GET", "/api/v1/alerts/NOPE")
    assert response.status_code == 404
    assert "NOPE" in response.json()["detail"]


def test_it_shows_the_alert_as_stored(api, make_transaction):
    make_transaction(public_id="TXN001", external_ref="CASE-9", card_last4="4821")
    body = api("GET", URL).json()
    assert body["id"] == "TXN001"
    assert (body["external_ref"], body["card_last4"], body["amount"]) == (
        "CASE-9",
        "4821",
        "2350.10",
    )
    assert (body["status"], body["needs_review"]) == ("Pending", False)
    assert body["answers"] == {
        "authorized": None,
        "shared_card_details": None,
        "other_suspicious": None,
        "card_delivery": None,
    }
    assert body["attempts"] == []


def test_it_shows_the_answers_the_review_flag_and_each_call_oldest_first(api, txn):
    first = txn.begin_call(trigger=CallTrigger.BULK)
    now = timezone.now()
    first.__class__.objects.filter(pk=first.pk).update(
        ended_at=now, outcome=CallOutcome.NO_ANSWER, answered_by="", duration_seconds=0
    )
    second = txn.begin_call(trigger=CallTrigger.MANUAL)
    second.__class__.objects.filter(pk=second.pk).update(
        answered_at=now + timedelta(seconds=5), answered_by="human"
    )
    txn.record_answer(False)
    txn.record_details(shared_card_details=True, card_delivery="virtual")
    txn.record_answer(True)  # a later "yes" contradicts the fraud verdict
    body = api("GET", URL).json()
    assert (body["status"], body["needs_review"]) == ("Mark As Fraud", True)
    assert body["answers"]["authorized"] is False
    assert body["answers"]["card_delivery"] == "virtual"
    attempts = body["attempts"]
    assert [a["trigger"] for a in attempts] == ["bulk", "manual"]
    assert attempts[0]["outcome"] == "no-answer"
    assert attempts[0]["ended_at"].endswith("Z")
    assert attempts[1]["ended_at"] is None
    assert attempts[1]["answered_by"] == "human"
