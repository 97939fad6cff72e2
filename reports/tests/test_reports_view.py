"""GET /reports: who may see it, the period and bank, bad input, and each figure as CSV."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from reports import figures
from reports.charts import BUILDERS
from transactions.models import Transaction

from .conftest import BETA, MONDAY, TUESDAY, at

pytestmark = pytest.mark.django_db

URL = reverse("reports")
PERIOD = {"from": "2026-03-02", "to": "2026-03-03"}


def _csv(response):
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_it_requires_a_sign_in(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_it_refuses_a_user_without_a_role(client, eve):
    client.force_login(eve)
    assert client.get(URL).status_code == 403


def test_it_rejects_post(supervisor_client):
    assert supervisor_client.post(URL).status_code == 405


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_analysts_and_supervisors_see_every_chart_with_its_table(request, client, ledger, who):
    client.force_login(request.getfixturevalue(who))
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    page = response.content.decode()
    for key in BUILDERS:
        assert f'id="fig-{key}"' in page
        assert f'<title id="svg-{key}-title">' in page
    assert page.count('<table class="simple figure-table">') == len(BUILDERS)
    assert "8 alerts arrived; 6 were called, 4 answered by a person" in page


def test_the_header_links_to_reports_for_those_who_may_see_them(client, alice, eve):
    client.force_login(alice)
    assert f'<a href="{URL}">Reports</a>' in client.get(reverse("dashboard")).content.decode()
    client.force_login(eve)
    assert client.get(reverse("dashboard")).status_code == 403


def test_the_default_period_is_the_last_seven_days(analyst_client):
    today = timezone.localdate()
    page = analyst_client.get(URL).content.decode()
    assert f'name="from" value="{(today - timedelta(days=6)).isoformat()}"' in page
    assert f'name="to" value="{today.isoformat()}"' in page


def test_the_bank_filter_narrows_every_figure(analyst_client, ledger):
    response = analyst_client.get(URL, {**PERIOD, "bank": BETA})
    page = response.content.decode()
    assert "4 alerts arrived; 3 were called, 1 answered by a person" in page
    assert f'<option value="{BETA}" selected>' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"from": "02/03/2026"}, "“From” is not a date: use YYYY-MM-DD."),
        ({"to": "2026-02-30"}, "“To” is not a date: use YYYY-MM-DD."),
        ({"from": "2026-03-05", "to": "2026-03-01"}, "The period starts after it ends"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "Choose a period of at most 366 days."),
        ({"from": "1066-10-14"}, "“From” must be between 2000 and 2999."),
        ({"bank": "x" * 201}, "A bank’s name has at most 200 characters."),
        ({"format": "csv", "figure": "nope"}, "Unknown figure."),
    ],
)
def test_bad_input_is_a_400_that_says_why(analyst_client, query, message):
    response = analyst_client.get(URL, query)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'class="chart' not in page


def test_a_bad_date_is_never_reflected_as_markup(analyst_client):
    response = analyst_client.get(URL, {"from": '"><script>alert(1)</script>'})
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.content.decode()


def test_each_figure_downloads_as_csv(analyst_client, ledger):
    for key in BUILDERS:
        response = analyst_client.get(URL, {**PERIOD, "format": "csv", "figure": key})
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert f'filename="{key}-2026-03-02-2026-03-03.csv"' in response["Content-Disposition"]
    rows = _csv(analyst_client.get(URL, {**PERIOD, "format": "csv", "figure": "funnel"}))
    assert rows[0] == ["Step", "Alerts", "Share of alerts (%)"]
    assert rows[1:4] == [
        ["Alerts", "8", "100.0"],
        ["Called", "6", "75.0"],
        ["Answered by a person", "4", "50.0"],
    ]


def test_a_bank_name_that_looks_like_a_formula_is_neutralised_in_csv(
    analyst_client, make_transaction
):
    make_transaction(public_id="EVIL", bank_name="=HYPERLINK(1)")
    today = timezone.localdate().isoformat()
    response = analyst_client.get(
        URL,
        {"from": today, "to": today, "bank": "=HYPERLINK(1)", "format": "csv", "figure": "funnel"},
    )
    assert _csv(response)[1] == ["Alerts", "1", "100.0"]
    page = analyst_client.get(URL, {"from": today, "to": today}).content.decode()
    assert '<option value="=HYPERLINK(1)">' in page


def test_the_page_reads_the_rollup_and_says_how_fresh_it_is(analyst_client, ledger):
    when = at(date(2026, 3, 4), 6, 15)
    figures.store_day(MONDAY, when)
    figures.store_day(TUESDAY, when)
    # A change the rollup has not seen yet: the page shows the stored figures.
    Transaction.objects.filter(public_id="T7").delete()
    page = analyst_client.get(URL, PERIOD).content.decode()
    assert "Figures as of 4 Mar 2026 06:15" in page
    assert "8 alerts arrived" in page
