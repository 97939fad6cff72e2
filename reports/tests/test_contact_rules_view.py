"""GET /reports/contact-rules: the rules' report, and its evidence download (supervisors)."""

import csv
import io

import pytest
from django.urls import reverse

from reports import figures

pytestmark = pytest.mark.django_db

URL = reverse("reports-contact-rules")
PERIOD = {"from": "2026-03-02", "to": "2026-03-03"}


def test_it_requires_a_sign_in(client):
    assert client.get(URL).status_code == 302


def test_it_refuses_a_user_without_a_role(client, eve):
    client.force_login(eve)
    assert client.get(URL).status_code == 403


def test_it_shows_each_rule_and_the_calls_that_broke_it(analyst_client, ledger):
    response = analyst_client.get(URL, PERIOD)
    assert response.status_code == 200
    page = response.content.decode()
    assert "A rule was broken" in page
    assert "Automatic calls beyond 3 within 72 hours about one alert" in page
    assert "2026-03-02 02:40 America/New_York" in page  # T9, on the number it had then
    assert 'href="/t/T3"' in page
    assert "Longest call: 600 s" in page


def test_a_clean_period_says_every_rule_was_kept(analyst_client, ledger):
    page = analyst_client.get(URL, {"from": "2026-03-01", "to": "2026-03-01"}).content.decode()
    assert "Every rule was kept" in page
    assert "no call in the period" in page


def test_analysts_read_it_but_do_not_download_the_evidence(analyst_client, ledger):
    page = analyst_client.get(URL, PERIOD).content.decode()
    assert "Download the evidence" not in page
    assert analyst_client.get(URL, {**PERIOD, "format": "csv"}).status_code == 403


def test_a_supervisor_downloads_the_evidence(supervisor_client, ledger):
    page = supervisor_client.get(URL, PERIOD).content.decode()
    assert "Download the evidence (CSV)" in page
    response = supervisor_client.get(URL, {**PERIOD, "format": "csv"})
    assert response.status_code == 200
    assert 'filename="contact-rules-2026-03-02-2026-03-03.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows[0]["transaction"] == "2026-03-02 to 2026-03-03, all banks"
    summary = {r["rule"]: (r["holds"], r["count"]) for r in rows if r["count"]}
    assert summary["Automatic calls beyond 3 within 72 hours about one alert"] == ("no", "1")
    assert summary["Calls by hand after the customer opted out"] == ("yes", "1")
    manual = [r for r in rows if r["rule"].startswith("Calls by hand outside") and r["transaction"]]
    assert [(r["transaction"], r["placed by"], r["customer's local time"]) for r in manual] == [
        ("T6", "alice", "2026-03-03 22:30 Asia/Calcutta")
    ]
    assert rows[-1]["rule"] == "Longest call"
    assert (rows[-1]["transaction"], rows[-1]["count"]) == ("T8", "600")


def test_bad_dates_are_a_400_with_the_reason(supervisor_client):
    response = supervisor_client.get(URL, {"from": "soon"})
    assert response.status_code == 400
    assert "“From” is not a date" in response.content.decode()


def test_the_page_lists_the_first_calls_and_the_evidence_every_one(
    supervisor_client, ledger, monkeypatch
):
    monkeypatch.setattr(figures, "LISTED", 1)
    page = supervisor_client.get(URL, PERIOD).content.decode()
    assert "calling hours (08:00-21:00) (the first 1 of 2)" in page
    response = supervisor_client.get(URL, {**PERIOD, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    outside = [r["transaction"] for r in rows if r["rule"].startswith("Automatic calls outside")]
    assert outside == ["", "T3", "T9"]  # the rule's summary line, then each call
