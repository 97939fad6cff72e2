"""Per-user limits (calls placed by hand): counted in the database, shared by every process."""

import time

import pytest
from django.urls import reverse

from ivr_project import ratelimit
from ivr_project.tests.another_process import in_another_process, output, start_in_another_process

# A day's window: the count cannot roll over to a new window halfway through a test.
DAILY = "3/24h"

CALLS = (
    "c = Client()\n"
    "c.force_login(User.objects.get(username='alice'))\n"
    "for _ in range({n}):\n"
    "    print(c.post('/call/NOPE').status_code)\n"
)


@pytest.mark.django_db(transaction=True)
def test_calls_placed_in_another_web_process_count(analyst_client, settings):
    settings.CALL_RATE_LIMIT = DAILY

    assert in_another_process(CALLS.format(n=3), CALL_RATE_LIMIT=DAILY) == ["404"] * 3
    assert analyst_client.post(reverse("call", args=["NOPE"])).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_processes_asking_at_once_get_the_limit_and_no_more(alice):
    rate = "5/24h"
    workers = [start_in_another_process(CALLS.format(n=4), CALL_RATE_LIMIT=rate) for _ in range(2)]
    statuses = [status for worker in workers for status in output(worker)]

    assert sorted(statuses) == ["404"] * 5 + ["429"] * 3


def test_a_count_starts_again_in_the_next_window(db, monkeypatch):
    now = 1_800_000_000.0  # the start of a minute
    monkeypatch.setattr(time, "time", lambda: now)
    assert [ratelimit.hit("test", "alice", "2/1m") for _ in range(3)] == [1, 2, 3]

    now += 60
    assert ratelimit.hit("test", "alice", "2/1m") == 1


def test_counts_are_kept_per_scope_and_key(db):
    assert ratelimit.hit("test", "alice", "2/1m") == 1
    assert ratelimit.hit("test", "sam", "2/1m") == 1
    assert ratelimit.hit("other", "alice", "2/1m") == 1
    assert ratelimit.hit("test", "alice", "2/1m") == 2


def test_ended_windows_are_swept(db, monkeypatch):
    from ivr_project.models import RateCount

    now = 1_800_000_000.0
    monkeypatch.setattr(time, "time", lambda: now)
    for key in ("alice", "sam"):
        ratelimit.hit("test", key, "2/1m")

    now += 3600
    ratelimit.hit("test", "eve", "2/1m")

    assert RateCount.objects.count() == 1


@pytest.mark.parametrize("rate", ["", "5", "5/", "x/5m", "5/5d", "-1/5m", "5/0m", "0/5m"])
def test_a_malformed_rate_is_refused_with_its_reason(rate):
    with pytest.raises(ValueError, match="10/5m"):
        ratelimit.parse_rate(rate)


@pytest.mark.parametrize(
    ("rate", "parsed"), [("5/5m", (5, 300)), ("20/1m", (20, 60)), ("1/h", (1, 3600))]
)
def test_it_reads_a_rate(rate, parsed):
    assert ratelimit.parse_rate(rate) == parsed
