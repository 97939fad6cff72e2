"""Fixtures of the ledger's tests: a bank's receiver of outcome events (events_kit.py)."""

import pytest

from .events_kit import Receiver, endpoint_for


@pytest.fixture
def receiver():
    bank = Receiver().start()
    yield bank
    bank.stop()


@pytest.fixture
def endpoint(receiver):
    """The receiver as an endpoint for every event type."""
    return endpoint_for(receiver)
