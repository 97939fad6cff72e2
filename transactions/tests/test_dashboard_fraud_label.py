"""One word for fraud wherever an analyst reads it: "Fraud".

The stored and API value stays "Mark As Fraud" (URLs, form values and data
attributes carry it); no text a person reads shows it.
"""

from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from transactions.models import Status
from transactions.views.dashboard import poll_token

HTMX = {"HX-Request": "true"}
VALUE = Status.FRAUD.value  # "Mark As Fraud"
READ_ATTRIBUTES = {"title", "aria-label", "hx-confirm", "placeholder", "alt"}


class _ReadText(HTMLParser):
    """What a person reads or hears: text, and the attributes a browser shows or speaks."""

    def __init__(self):
        super().__init__()
        self.parts = []

    def handle_starttag(self, tag, attrs):
        self.parts += [v or "" for k, v in attrs if k in READ_ATTRIBUTES]

    def handle_data(self, data):
        self.parts.append(data)


def read_text(response) -> str:
    parser = _ReadText()
    parser.feed(response.content.decode())
    return " ".join(" ".join(parser.parts).split())


@pytest.fixture
def fraud(make_transaction, sam):
    txn = make_transaction(public_id="TXN001")
    txn.set_status_by(sam, Status.FRAUD, source="dashboard")  # in the history too
    return txn


@pytest.mark.parametrize("params", [{}, {"status": VALUE}, {"q": "Asha", "status": VALUE}])
def test_the_dashboard_says_fraud(supervisor_client, fraud, params):
    response = supervisor_client.get("/", params)
    text = read_text(response)
    assert VALUE not in text
    assert "Fraud" in text
    if params:
        assert "with status Fraud." in text


def test_the_detail_and_its_history_say_fraud(supervisor_client, fraud):
    text = read_text(supervisor_client.get("/t/TXN001"))
    assert VALUE not in text
    assert "Pending Fraud" in text  # the history's From and To


def test_the_poll_says_fraud(supervisor_client, sam, fraud):
    since = poll_token(sam.pk, datetime(2000, 1, 1, tzinfo=UTC))
    response = supervisor_client.get("/rows", {"since": since, "shown": "TXN001"}, headers=HTMX)
    text = read_text(response)
    assert "Fraud" in text
    assert VALUE not in text


def test_messages_say_fraud(supervisor_client, make_transaction):
    make_transaction(public_id="TXN002")
    by_form = supervisor_client.post("/t/TXN002/status", {"status": VALUE}, headers=HTMX)
    assert "Status set to Fraud." in read_text(by_form)
    again = supervisor_client.post("/set_action/TXN002", {"action": VALUE}, headers=HTMX)
    assert "Already Fraud." in read_text(again)
    for response in (by_form, again):
        assert VALUE not in read_text(response)
    # The JSON API keeps its value.
    answer = supervisor_client.post("/set_action/TXN002", {"action": VALUE})
    assert answer.json()["action"] == VALUE
