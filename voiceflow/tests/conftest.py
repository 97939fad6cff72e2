"""Twilio's REST API as a local stand-in (twilio_standin.py), and calls placed through it."""

import socket

import pytest

from transactions.models import CallAttempt
from voiceflow.calls import request_call

from .twilio_standin import TwilioStandIn


@pytest.fixture
def twilio_api(settings):
    """The stand-in for Twilio's REST API; the real twilio client is pointed at it."""
    stand_in = TwilioStandIn(settings.TWILIO_SID, settings.TWILIO_AUTH_TOKEN).start()
    settings.TWILIO_API_BASE_URL = stand_in.url
    yield stand_in
    stand_in.stop()


@pytest.fixture
def always_open(settings):
    """Calling hours open round the clock: tests run at any real time of day.

    Calling hours have tests of their own (test_autocall_hours.py).
    """
    settings.CALLING_HOURS = "00:00-24:00"


@pytest.fixture
def refused_url():
    """A local address where nothing listens: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        host, port = sock.getsockname()
    return f"http://{host}:{port}"


@pytest.fixture
def place(twilio_api):
    """Place a call for a transaction through the stand-in; returns the attempt (with its SID)."""

    def place_call(txn, **kwargs) -> CallAttempt:
        return request_call(txn, **kwargs)

    return place_call


@pytest.fixture
def call(txn, place):
    """A call placed for `txn`, the customer not yet answered."""
    return place(txn)
