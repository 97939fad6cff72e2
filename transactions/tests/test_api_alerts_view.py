"""POST /api/v1/alerts (alerts in) and GET /api/v1/alerts (changes, for systems that poll)."""

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.utils import timezone

from transactions.models import (
    QUEUE_CLEARED,
    ApiKey,
    AuditEntry,
    CallTrigger,
    QueueState,
    Status,
    Transaction,
)

URL = "/api/v1/alerts"


def alert(**fields):
    values = {
        "id": "TXN100",
        "client_name": "Asha Rao",
        "card_number": "4111 1111 1111 4821",
        "client_phone": "+14155550101",
        "amount": 2350.10,
        "currency": "INR",
        "bank_name": "Example Bank",
        "merchant_name": "Croma Electronics",
        "transaction_date": "2026-12-01",
        "external_ref": "CASE-1",
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not ...}


# --- authentication ---------------------------------------------------------------


def test_it_requires_a_key(api):
    response = api("POST", URL, alert(), key=None)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert not Transaction.objects.exists()


def test_it_rejects_a_wrong_key(api, api_key):
    row, key = api_key
    forged = key[:-4] + ("AAAA" if not key.endswith("AAAA") else "BBBB")
    assert api("POST", URL, alert(), key=forged).status_code == 401
    assert api("POST", URL, alert(), key="not-a-key").status_code == 401
    assert api("GET", URL, key=f"ivr_{row.prefix}_").status_code == 401
    assert not Transaction.objects.exists()


def test_it_rejects_a_revoked_key(api, api_key):
    api_key[0].revoke()
    assert api("POST", URL, alert()).status_code == 401
    assert not Transaction.objects.exists()


def test_it_rejects_a_session_without_a_key(api, client, sam):
    client.force_login(sam)
    response = api("GET", URL, key=None)
    assert response.status_code == 401


def test_it_needs_no_csrf_token(api, api_key):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    headers = {"Authorization": f"Bearer {api_key[1]}"}
    response = strict.post(URL, alert(), content_type="application/json", headers=headers)
    assert response.status_code == 201


def test_it_rejects_other_methods(api):
    for method in ("PUT", "PATCH", "DELETE", "OPTIONS"):
        response = api(method, URL, alert())
        assert response.status_code == 405, method
        assert response["Content-Type"] == "application/problem+json"


def test_it_answers_429_over_the_keys_rate_limit(api, api_key):
    ApiKey.objects.filter(pk=api_key[0].pk).update(rate_limit="2/1h")
    assert api("GET", URL).status_code == 200
    assert api("GET", URL).status_code == 200
    refused = api("POST", URL, alert())
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert 0 < int(refused["Retry-After"]) <= 3601
    assert not Transaction.objects.exists()


def test_each_key_has_its_own_rate_limit(api, api_key):
    ApiKey.objects.filter(pk=api_key[0].pk).update(rate_limit="1/1h")
    _, other = ApiKey.issue("cards-team", rate_limit="1/1h")
    assert api("GET", URL).status_code == 200
    assert api("GET", URL).status_code == 429
    assert api("GET", URL, key=other).status_code == 200


# --- alerts in ------------------------------------------------------------------------


def test_it_stores_a_new_alert_and_keeps_only_the_cards_last_four(api, api_key):
    response = api("POST", URL, alert())
    assert response.status_code == 201
    assert response["Location"] == "/api/v1/alerts/TXN100"
    body = response.json()
    assert body["id"] == "TXN100"
    assert body["status"] == "Pending"
    assert body["card_last4"] == "4821"
    assert "4111" not in response.content.decode()
    assert body["amount"] == "2350.10"
    assert body["external_ref"] == "CASE-1"
    assert body["attempts"] == []
    txn = Transaction.objects.get(public_id="TXN100")
    assert (txn.card_last4, txn.phone, txn.amount) == ("4821", "+14155550101", Decimal("2350.10"))
    assert txn.queue_state == QueueState.NONE  # no call asked for: analysts decide


def test_it_reads_the_seeds_date_and_an_amount_as_text(api):
    response = api("POST", URL, alert(transaction_date="15/03/2025", amount="1,250.5"))
    assert response.status_code == 201
    txn = Transaction.objects.get(public_id="TXN100")
    assert (str(txn.transaction_date), txn.amount) == ("2025-03-15", Decimal("1250.50"))


def test_it_stores_a_list_in_one_request(api):
    alerts = [alert(id=f"TXN{n}", client_phone=f"+1415555{n:04d}") for n in range(200, 210)]
    response = api("POST", URL, alerts)
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (10, 0, 0)
    assert [a["id"] for a in body["alerts"]] == [f"TXN{n}" for n in range(200, 210)]
    assert Transaction.objects.filter(public_id__startswith="TXN2").count() == 10


def test_the_same_alert_sent_again_changes_nothing(api):
    first = api("POST", URL, alert()).json()
    again = api("POST", URL, alert())
    assert again.status_code == 200
    assert again.json() == first
    assert Transaction.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_a_resent_list_is_counted_unchanged(api):
    alerts = [alert(id="TXN1"), alert(id="TXN2")]
    api("POST", URL, alerts)
    body = api("POST", URL, alerts).json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 2)


def test_a_changed_pending_alert_is_updated_and_audited_with_the_key(api, api_key):
    api("POST", URL, alert())
    response = api("POST", URL, alert(amount=99, client_phone="+919876543210"))
    assert response.status_code == 200
    assert response.json()["amount"] == "99.00"
    entries = {e.field: e for e in AuditEntry.objects.all()}
    assert set(entries) == {"amount", "phone"}
    assert entries["amount"].api_key == api_key[0]
    assert (entries["phone"].old_value, entries["phone"].new_value) == (
        "+14155550101",
        "+919876543210",
    )
    assert entries["amount"].source == "api"


@pytest.mark.parametrize("status", [Status.RESOLVED, Status.FRAUD, Status.NOT_ANSWERED])
def test_a_changed_alert_with_a_verdict_or_a_call_is_a_conflict(api, status):
    api("POST", URL, alert())
    txn = Transaction.objects.get(public_id="TXN100")
    txn.begin_call(trigger=CallTrigger.MANUAL)
    if status in (Status.RESOLVED, Status.FRAUD):
        txn.record_answer(status == Status.RESOLVED)
    response = api("POST", URL, [alert(id="TXN999"), alert(amount=1)])
    assert response.status_code == 409
    assert response.json()["ids"] == ["TXN100"]
    assert "TXN100" in response.json()["detail"]
    txn.refresh_from_db()
    assert txn.amount == Decimal("2350.10")
    assert not Transaction.objects.filter(public_id="TXN999").exists()  # all or nothing


def test_a_pending_alert_that_was_called_is_a_conflict_too(api, sam):
    api("POST", URL, alert())
    txn = Transaction.objects.get(public_id="TXN100")
    txn.begin_call(trigger=CallTrigger.MANUAL)
    txn.set_status_by(sam, Status.PENDING)
    assert api("POST", URL, alert(amount=1)).status_code == 409


def test_resending_an_alert_that_has_a_verdict_answers_it_as_stored(api):
    api("POST", URL, alert())
    txn = Transaction.objects.get(public_id="TXN100")
    txn.begin_call(trigger=CallTrigger.MANUAL)
    txn.record_answer(False)
    response = api("POST", URL, alert())
    assert response.status_code == 200
    assert response.json()["status"] == "Mark As Fraud"


# --- bad input ----------------------------------------------------------------------


def test_bad_alerts_are_listed_by_index_id_field_and_reason_and_none_is_stored(api):
    alerts = [
        alert(id="TXN1"),
        alert(id="TXN2", client_phone="12", amount=-1),
        alert(id="TXN3", card_number="12", call="now", colour="red", action="Resolved"),
        "not an alert",
        alert(id="TXN1"),
    ]
    response = api("POST", URL, alerts)
    assert response.status_code == 400
    body = response.json()
    assert body["type"] == "/api/v1/problems/invalid-alerts"
    found = {(e["index"], e["id"], e["field"]) for e in body["errors"]}
    assert found == {
        (1, "TXN2", "client_phone"),
        (1, "TXN2", "amount"),
        (2, "TXN3", "card_number"),
        (2, "TXN3", "call"),
        (2, "TXN3", "colour"),
        (2, "TXN3", "action"),
        (3, "", "alert"),
        (4, "TXN1", "id"),
    }
    assert all(e["reason"] for e in body["errors"])
    assert not Transaction.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"id": "TXN 1"}, "id"),
        ({"client_name": ""}, "client_name"),
        ({"amount": "NaN"}, "amount"),
        ({"amount": 1.234}, "amount"),
        ({"transaction_date": "yesterday"}, "transaction_date"),
        ({"currency": "rupees"}, "currency"),
        ({"external_ref": "x" * 101}, "external_ref"),
        ({"bank_name": ...}, "bank_name"),
    ],
)
def test_it_names_the_bad_field(api, fields, field):
    response = api("POST", URL, alert(**fields))
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_it_refuses_a_body_that_is_not_json(api):
    response = api("POST", URL, "{not json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_it_refuses_an_empty_list_and_a_bare_value(api):
    assert api("POST", URL, []).status_code == 400
    assert api("POST", URL, "42").status_code == 400


def test_it_refuses_more_than_a_thousand_alerts(api):
    alerts = [alert(id=f"T{n}") for n in range(1001)]
    response = api("POST", URL, alerts)
    assert response.status_code == 400
    assert "1,000" in response.json()["detail"]
    assert not Transaction.objects.exists()


def test_a_body_over_djangos_upload_limit_is_refused_before_the_api_reads_it(client, api_key):
    # DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB); 1,000 alerts at their longest are about 1 MB.
    big = [alert(id=f"B{n}", merchant_name="m" * 200) for n in range(1000)]
    body = json.dumps(big).encode() + b" " * 2_500_000
    headers = {"Authorization": f"Bearer {api_key[1]}"}
    response = client.post(URL, body, content_type="application/json", headers=headers)
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "The body is over the 2,621,440-byte limit."
    assert not Transaction.objects.exists()


def test_a_nul_in_an_alert_is_refused_as_a_problem(client, api_key):
    body = json.dumps([alert(client_name="Asha\x00")])
    headers = {"Authorization": f"Bearer {api_key[1]}"}
    response = client.post(URL, body, content_type="application/json", headers=headers)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "Null characters are not allowed."
    assert not Transaction.objects.exists()


def test_an_unusable_charset_is_refused_as_a_problem(client, api_key):
    headers = {"Authorization": f"Bearer {api_key[1]}"}
    response = client.generic(
        "POST", URL, b"[]", content_type="application/json; charset=rot13", headers=headers
    )
    assert response.status_code == 400
    assert response.json()["title"] == "Bad Request"
    assert "charset" in response.json()["detail"]


def test_a_thousand_alerts_at_their_longest_fit_in_one_request(api):
    longest = {"client_name": "n" * 200, "bank_name": "b" * 200, "merchant_name": "m" * 200}
    big = [alert(id=f"L{n:031d}", external_ref="r" * 100, **longest) for n in range(1000)]
    assert api("POST", URL, big).status_code == 200


def test_it_refuses_a_form_body(api):
    response = api("POST", URL, "id=TXN1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415


# --- asking for a call ------------------------------------------------------------------


@pytest.fixture
def always_open(settings):
    settings.CALLING_HOURS = "00:00-24:00"


def test_call_queue_puts_the_alert_in_the_automatic_calling_queue(api, api_key, always_open):
    response = api("POST", URL, [alert(call="queue"), alert(id="TXN101")])
    assert response.json()["calls_queued"] == 1
    queued = Transaction.objects.get(public_id="TXN100")
    assert (queued.queue_state, queued.queue_trigger) == (QueueState.QUEUED, CallTrigger.BULK)
    assert Transaction.objects.get(public_id="TXN101").queue_state == QueueState.NONE
    entry = AuditEntry.objects.get(field="queue_state")
    assert (entry.transaction, entry.api_key, entry.source) == (queued, api_key[0], "api")


def test_call_queue_outside_calling_hours_schedules_the_call(api, settings):
    settings.CALLING_HOURS = "00:00-00:01"
    response = api("POST", URL, [alert(call="queue")])
    assert response.json()["calls_scheduled"] == 1
    assert Transaction.objects.get().queue_state == QueueState.SCHEDULED


def test_resending_a_queued_alert_after_its_call_queues_nothing(api, always_open):
    api("POST", URL, alert(call="queue"))
    txn = Transaction.objects.get()
    Transaction.objects.update(**QUEUE_CLEARED)  # as the worker leaves it once the call is placed
    attempt = txn.begin_call(trigger=CallTrigger.BULK)
    attempt.ended_at = timezone.now()
    attempt.save()
    txn.record_call_end(attempt, Status.NOT_ANSWERED)
    body = api("POST", URL, [alert(call="queue")]).json()
    assert (body["unchanged"], body["calls_queued"], body["calls_scheduled"]) == (1, 0, 0)
    txn.refresh_from_db()
    assert txn.queue_state == QueueState.NONE


# --- changes, for systems that poll -------------------------------------------------------


def _change(public_id, when):
    Transaction.objects.filter(public_id=public_id).update(updated_at=when)


def test_it_pages_through_changes_oldest_first_and_then_waits_for_new_ones(api, make_transaction):
    base = timezone.now() - timedelta(hours=1)
    for n in range(5):
        make_transaction(public_id=f"C{n}")
    for n, public_id in enumerate(["C3", "C1", "C4", "C0", "C2"]):
        _change(public_id, base + timedelta(minutes=n // 2))  # ties, ordered by id
    first = api("GET", f"{URL}?limit=2").json()
    assert [a["id"] for a in first["alerts"]] == ["C1", "C3"]
    assert first["has_more"] is True
    second = api("GET", first["next"]).json()
    third = api("GET", second["next"]).json()
    assert [a["id"] for a in second["alerts"] + third["alerts"]] == ["C0", "C4", "C2"]
    assert third["has_more"] is False
    idle = api("GET", third["next"]).json()
    assert (idle["alerts"], idle["has_more"]) == ([], False)
    _change("C1", base + timedelta(minutes=10))
    assert [a["id"] for a in api("GET", idle["next"]).json()["alerts"]] == ["C1"]


def test_a_change_is_listed_only_once_it_has_settled(api, make_transaction, settings):
    settings.API_CHANGES_DELAY_SECONDS = 5
    make_transaction(public_id="NEW")
    assert api("GET", URL).json()["alerts"] == []
    _change("NEW", timezone.now() - timedelta(seconds=6))
    assert [a["id"] for a in api("GET", URL).json()["alerts"]] == ["NEW"]


def test_updated_since_starts_the_pages_at_that_time(api, make_transaction):
    base = timezone.now() - timedelta(hours=1)
    for n in range(3):
        make_transaction(public_id=f"S{n}")
        _change(f"S{n}", base + timedelta(minutes=n))
    since = (base + timedelta(minutes=1)).isoformat()
    response = api("GET", URL, data={"updated_since": since})
    assert [a["id"] for a in response.json()["alerts"]] == ["S1", "S2"]
    unencoded = since.replace("+", " ")  # "+00:00" written into a URL by hand
    assert len(api("GET", f"{URL}?updated_since={unencoded}").json()["alerts"]) == 2


@pytest.mark.parametrize(
    "query",
    [
        "updated_since=yesterday",
        "updated_since=2026-12-05T10:00:00",
        "after=garbage",
        "limit=0",
        "limit=1001",
        "limit=ten",
    ],
)
def test_it_refuses_bad_paging_parameters(api, query):
    response = api("GET", f"{URL}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_a_page_carries_each_alerts_calls(api, make_transaction, settings):
    settings.API_CHANGES_DELAY_SECONDS = 0
    txn = make_transaction(public_id="P1")
    txn.begin_call(trigger=CallTrigger.MANUAL)
    (entry,) = api("GET", URL).json()["alerts"]
    assert [a["trigger"] for a in entry["attempts"]] == ["manual"]
    assert entry["status"] == "Connecting"


# --- two identical requests at once ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_identical_requests_at_once_store_one_alert(sam):
    from django.test import Client

    from transactions.tests.concurrency import errors_in, run_together

    _, key = ApiKey.issue("racer", rate_limit="1000/1m")
    alerts = [alert(id=f"R{n}", client_phone=f"+1415555{n:04d}") for n in range(50)]

    def send():
        return Client().post(
            URL, alerts, content_type="application/json", headers={"Authorization": f"Bearer {key}"}
        )

    results = run_together(send, send)
    assert errors_in(results) == []
    assert sorted(r.status_code for r in results) == [200, 200]
    created = sorted(r.json()["created"] for r in results)
    assert created == [0, 50]
    assert Transaction.objects.filter(public_id__startswith="R").count() == 50


def test_the_readmes_example_alert_is_accepted(api):
    readme = (settings.BASE_DIR / "README.md").read_text()
    section = readme.split("## Integration API", 1)[1]
    example = re.search(r"-d '(\{.*?\})'", section, re.S)[1]
    response = api("POST", URL, example)
    assert response.status_code == 201
    assert response.json()["external_ref"] == "CASE-77"
