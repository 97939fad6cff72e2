"""Webhooks stay cheap: a few queries by primary key or unique index, whatever the table's size."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from transactions.models import EventType, OutcomeEvent

WEBHOOKS = [
    ("/voice/TXN001/step0", {}),
    ("/voice/TXN001/step0/response", {"SpeechResult": "hmm"}),
    ("/voice/TXN001/step0/response", {"Digits": "2"}),
    ("/voice/TXN001/step1/response", {"Digits": "2"}),
    ("/status/TXN001", {"CallStatus": "ringing", "SequenceNumber": "1"}),
    ("/status/TXN001", {"CallStatus": "completed", "SequenceNumber": "3"}),
]


def test_each_webhook_takes_a_few_queries_and_none_grows_with_the_table(
    twilio_post, call, make_transaction
):
    for n in range(20):
        make_transaction(public_id=f"OTHER{n}")
    for path, params in WEBHOOKS:
        with CaptureQueriesContext(connection) as ctx:
            response = twilio_post(path, {"CallSid": call.call_sid, **params})
        assert response.status_code == 200
        sql = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"]]
        # A verdict also records its outcome event in the same transaction (the
        # outbox): the row's calls for the payload, the event, the endpoints wanting it.
        records_event = any('INSERT INTO "transactions_outcomeevent"' in q for q in sql)
        assert len(sql) <= (9 if records_event else 6), (path, sql)
        for statement in sql:
            # Every statement is about this call or this row: by id, by SID or by the
            # call's or row's foreign key (all indexed); none reads the whole table.
            # Webhook endpoints are a handful of rows, set up by supervisors.
            assert (
                '"id" = ' in statement
                or '"call_id" = ' in statement
                or '"call_sid" = ' in statement
                or '"transaction_id" = ' in statement
                or 'FROM "transactions_webhookendpoint"' in statement
                or statement.startswith("INSERT")
            ), statement
    assert OutcomeEvent.objects.filter(type=EventType.FRAUD_CONFIRMED).exists()
