"""GET / : the analysts' table, its filters, sorting, pages and fragments."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from transactions.models import CallAttempt, CallTrigger, QueueState, Status
from transactions.templatetags.dashboard import status_label

HTMX = {"HX-Request": "true"}


def test_it_redirects_anonymous_users_to_login(client, db):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_forbids_users_without_a_role(client, eve):
    client.force_login(eve)
    assert client.get("/").status_code == 403


def test_it_rejects_post(analyst_client):
    assert analyst_client.post("/").status_code == 405


def test_it_shows_a_row_with_masked_card_and_indian_amount(analyst_client, make_transaction):
    make_transaction(
        public_id="TXN042",
        client_name="Ravi Kumar",
        card_last4="9876",
        amount=Decimal("1234567.5"),
        merchant_name="Flipkart",
    )
    page = analyst_client.get("/").content.decode()
    assert 'id="row-TXN042"' in page
    assert "Ravi Kumar" in page
    assert "***9876" in page
    assert "₹12,34,567.50" in page
    assert "Flipkart" in page


def test_it_escapes_what_customers_and_imports_put_in_names(analyst_client, make_transaction):
    make_transaction(client_name="<script>alert(1)</script>")
    page = analyst_client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_it_serves_htmx_from_static_files_with_no_inline_script(analyst_client, txn):
    page = analyst_client.get("/").content.decode()
    assert "/static/vendor/htmx/htmx-2.0.11.min.js" in page
    assert "<script>" not in page
    assert " style=" not in page
    assert '"allowEval":false' in page


def test_it_searches_by_name_merchant_and_phone(analyst_client, make_transaction):
    make_transaction(public_id="A1", client_name="Meera Nair", merchant_name="Zomato")
    make_transaction(public_id="B2", client_name="Arjun Das", phone="+919812345678")
    page = analyst_client.get("/", {"q": "meera"}).content.decode()
    assert "row-A1" in page and "row-B2" not in page
    page = analyst_client.get("/", {"q": "98123"}).content.decode()
    assert "row-B2" in page and "row-A1" not in page


def test_it_filters_by_status_and_counts_every_status(analyst_client, make_transaction):
    make_transaction(public_id="P1")
    make_transaction(public_id="P2")
    make_transaction(public_id="F1", status=Status.FRAUD)
    response = analyst_client.get("/", {"status": Status.FRAUD})
    page = response.content.decode()
    assert "row-F1" in page and "row-P1" not in page
    counts = {c["status"]: c["n"] for c in response.context["counts"]}
    # Counts ignore the status filter (they are the filters), so all show.
    assert counts[Status.PENDING] == 2
    assert counts[Status.FRAUD] == 1
    assert counts[Status.RESOLVED] == 0
    assert response.context["total"] == 3


def test_the_count_links_keep_the_search_and_mark_the_active_filter(
    analyst_client, make_transaction
):
    make_transaction(public_id="F1", client_name="Meera", status=Status.FRAUD)
    page = analyst_client.get("/", {"q": "Meera", "status": Status.FRAUD}).content.decode()
    fraud = '<a href="?q=Meera&amp;status=Mark+As+Fraud" hx-get="?q=Meera&amp;status=Mark+As+Fraud"'
    assert f'{fraud} class="count status-fraud active" aria-current="true"' in page
    assert '<span class="count-label">Fraud</span> <span class="count-n">1</span>' in page
    assert '<a href="?q=Meera" hx-get="?q=Meera" class="count count-all">' in page


def test_counts_follow_the_search(analyst_client, make_transaction):
    make_transaction(public_id="P1", client_name="Meera")
    make_transaction(public_id="P2", client_name="Arjun")
    response = analyst_client.get("/", {"q": "Meera"})
    assert response.context["total"] == 1


def test_a_searchs_counts_and_page_come_from_its_one_index_search(
    analyst_client, make_transaction, django_assert_num_queries
):
    """Searching costs no query beyond the plain page: the search lists each match's status."""
    make_transaction(public_id="M1", client_name="Meera Nair")
    make_transaction(public_id="M2", client_name="Meera Iyer", status=Status.FRAUD)
    make_transaction(public_id="M3", client_name="Meera Das", status=Status.FRAUD)
    make_transaction(public_id="A1", client_name="Arjun Das", status=Status.FRAUD)
    analyst_client.get("/")  # warm
    with CaptureQueriesContext(connection) as plain:
        analyst_client.get("/")
    with django_assert_num_queries(len(plain.captured_queries)):
        response = analyst_client.get("/", {"q": "meera", "status": Status.FRAUD})
    page = response.content.decode()
    assert "row-M2" in page and "row-M3" in page and "row-M1" not in page
    assert "row-A1" not in page
    counts = {c["status"]: c["n"] for c in response.context["counts"]}
    assert (counts[Status.PENDING], counts[Status.FRAUD], response.context["total"]) == (1, 2, 3)
    assert "Showing 1–2 of 2 matching “meera” with status Fraud." in page


def test_it_sorts_by_amount_both_ways(analyst_client, make_transaction):
    make_transaction(public_id="SMALL", amount=Decimal("10"))
    make_transaction(public_id="BIG", amount=Decimal("99999"))
    page = analyst_client.get("/", {"sort": "amount"}).content.decode()
    assert page.index("row-SMALL") < page.index("row-BIG")
    page = analyst_client.get("/", {"sort": "-amount"}).content.decode()
    assert page.index("row-BIG") < page.index("row-SMALL")


def test_it_sorts_by_date_newest_first_by_default(analyst_client, make_transaction):
    make_transaction(public_id="OLD", transaction_date=date(2024, 1, 1))
    make_transaction(public_id="NEW", transaction_date=date(2025, 6, 1))
    page = analyst_client.get("/").content.decode()
    assert page.index("row-NEW") < page.index("row-OLD")


def test_it_shows_fifty_a_page_with_plain_links(analyst_client, make_transaction):
    for n in range(51):
        make_transaction(public_id=f"N{n:03d}", transaction_date=date(2025, 1, 1))
    response = analyst_client.get("/")
    page = response.content.decode()
    assert page.count('class="txn ') == 50
    assert 'href="?page=2"' in page
    second = analyst_client.get("/", {"page": "2"}).content.decode()
    assert second.count('class="txn ') == 1


def test_a_page_past_the_end_shows_the_last_page(analyst_client, txn):
    response = analyst_client.get("/", {"page": "99"})
    assert response.status_code == 200
    assert "row-TXN001" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"status": "Bogus"}, "Unknown status"),
        ({"sort": "name"}, "Unknown sort"),
        ({"q": "x" * 201}, "at most 200"),
    ],
)
def test_it_rejects_bad_filters_with_a_clear_message(analyst_client, params, words):
    response = analyst_client.get("/", params)
    assert response.status_code == 400
    assert words in response.content.decode()


@pytest.mark.parametrize("headers", [{}, HTMX])
def test_a_search_too_short_says_why(analyst_client, make_transaction, headers):
    make_transaction(public_id="AS", client_name="Asha Rao")
    make_transaction(public_id="TXN002", client_name="Asha Rao")
    response = analyst_client.get("/", {"q": "as"}, headers=headers)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Type at least 3 letters or digits to search names, merchants and phones" in page
    assert "row-AS" in page  # an ID typed in full still matches
    assert "row-TXN002" not in page


def test_a_search_long_enough_gives_no_hint(analyst_client, make_transaction):
    make_transaction(public_id="TXN010")
    page = analyst_client.get("/", {"q": "TXN01"}).content.decode()
    assert "Type at least" not in page
    assert "row-TXN010" in page


def test_a_card_is_found_by_its_last_four(analyst_client, make_transaction):
    make_transaction(public_id="CARD", card_last4="7788")
    make_transaction(public_id="OTHER", card_last4="1122")
    page = analyst_client.get("/", {"q": "7788"}).content.decode()
    assert "row-CARD" in page
    assert "row-OTHER" not in page


def test_an_htmx_request_gets_only_the_results_fragment(analyst_client, txn):
    response = analyst_client.get("/", {"q": "Asha"}, headers=HTMX)
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="results"')
    assert "<html" not in page
    assert "row-TXN001" in page
    assert "HX-Request" in response["Vary"]


def test_a_history_restore_gets_the_whole_page(analyst_client, txn):
    headers = {**HTMX, "HX-History-Restore-Request": "true"}
    response = analyst_client.get("/", headers=headers)
    assert "<html" in response.content.decode()


def test_the_poll_url_carries_the_view_and_a_token(analyst_client, txn):
    response = analyst_client.get("/", {"q": "Asha", "status": "Pending"})
    poll_url = response.context["poll_url"]
    assert poll_url.startswith(reverse("dashboard-rows") + "?")
    assert "q=Asha" in poll_url and "status=Pending" in poll_url and "since=" in poll_url


def test_analysts_get_phone_editing_but_no_supervisor_controls(analyst_client, txn):
    page = analyst_client.get("/").content.decode()
    assert 'name="client_phone"' in page
    assert "Export CSV" not in page


def test_supervisors_get_the_export_of_the_current_view(supervisor_client, txn):
    page = supervisor_client.get("/", {"q": "Asha"}).content.decode()
    assert 'href="/export.csv?q=Asha"' in page


def test_callable_badges_start_a_call_and_others_do_not(analyst_client, make_transaction):
    make_transaction(public_id="CALLME", status=Status.NOT_ANSWERED)
    make_transaction(public_id="DONE", status=Status.RESOLVED)
    make_transaction(public_id="BUSY", status=Status.CONNECTING)
    make_transaction(public_id="FRAUD1", status=Status.FRAUD)
    page = analyst_client.get("/").content.decode()
    assert 'hx-post="/call/CALLME"' in page
    assert 'hx-post="/call/DONE"' not in page
    assert 'hx-post="/call/BUSY"' not in page
    # Calling about a row marked as fraud asks first.
    fraud_row = page[page.index('id="row-FRAUD1"') :]
    fraud_row = fraud_row[: fraud_row.index("</tr>")]
    assert 'hx-post="/call/FRAUD1"' in fraud_row
    assert "hx-confirm=" in fraud_row


def test_badges_say_the_status_in_words(analyst_client, make_transaction):
    make_transaction(public_id="F9", status=Status.FRAUD)
    make_transaction(public_id="N9", status=Status.NOT_ANSWERED)
    page = analyst_client.get("/").content.decode()
    assert '<span class="badge-text">Fraud</span>' in page
    assert '<span class="badge-text">Not Answered</span>' in page


def test_a_row_shows_the_latest_call_failure(analyst_client, make_transaction):
    t = make_transaction(status=Status.DISCONNECTED)
    CallAttempt.objects.create(
        transaction=t, error_code="21211", error_message="Twilio rejected the number"
    )
    page = analyst_client.get("/").content.decode()
    assert "Twilio rejected the number (21211)" in page


def test_a_later_successful_call_hides_the_old_failure(analyst_client, make_transaction):
    t = make_transaction(status=Status.NOT_ANSWERED)
    ended = timezone.now()
    CallAttempt.objects.create(
        transaction=t, error_code="21211", error_message="Rejected", ended_at=ended
    )
    CallAttempt.objects.create(transaction=t, twilio_status="no-answer", ended_at=ended)
    page = analyst_client.get("/").content.decode()
    assert "Rejected (21211)" not in page


def test_a_row_called_many_times_shows_its_latest_calls_failure(analyst_client, make_transaction):
    t = make_transaction(status=Status.DISCONNECTED)
    ended = timezone.now()
    CallAttempt.objects.create(
        transaction=t, error_code="21211", error_message="Newest", ended_at=ended
    )
    for n in range(20):
        CallAttempt.objects.create(
            transaction=t, error_code="13224", error_message=f"Older {n}", ended_at=ended
        )
    # The latest by when it was placed, not by id (an id says nothing of time).
    CallAttempt.objects.exclude(error_message="Newest").update(
        created_at=timezone.now() - timedelta(hours=1)
    )
    page = analyst_client.get("/").content.decode()
    assert "Newest (21211)" in page
    assert "Older" not in page


def test_a_row_shows_an_opt_out(analyst_client, make_transaction):
    make_transaction(opted_out_at=timezone.now())
    page = analyst_client.get("/").content.decode()
    assert "Opted out" in page


def test_a_row_shows_its_place_in_the_call_queue(analyst_client, make_transaction):
    make_transaction(queue_state=QueueState.QUEUED, next_call_at=timezone.now())
    page = analyst_client.get("/").content.decode()
    assert 'class="tag tag-queue' in page
    assert "Queued" in page


def test_the_header_links_the_softphone_while_simulating(analyst_client, settings, txn):
    settings.SIMULATION = True
    page = analyst_client.get("/").content.decode()
    assert reverse("simulator:softphone") in page


def test_the_header_has_no_softphone_with_real_twilio(analyst_client, settings, txn):
    settings.SIMULATION = False
    page = analyst_client.get("/").content.decode()
    assert "Softphone" not in page


def test_the_header_has_a_post_logout_form(analyst_client, txn):
    page = analyst_client.get("/").content.decode()
    assert f'method="post" action="{reverse("logout")}"' in page


def test_a_page_costs_the_same_queries_whatever_its_rows_hold(
    analyst_client, make_transaction, django_assert_num_queries
):
    """No query per row: the latest call of each row, its labels and links come in bulk."""
    first = make_transaction(public_id="ONE", status=Status.NOT_ANSWERED)
    CallAttempt.objects.create(
        transaction=first, call_sid="CA" + "1" * 32, error_code="21211", error_message="Bad"
    )
    analyst_client.get("/")  # warm: the first request loads what every later one reuses
    with CaptureQueriesContext(connection) as one_row:
        analyst_client.get("/")
    for n in range(30):
        row = make_transaction(public_id=f"MANY{n}", status=Status.NOT_ANSWERED)
        CallAttempt.objects.create(
            transaction=row, call_sid=f"CA{n:032d}", error_code="13224", error_message="Busy"
        )
    with django_assert_num_queries(len(one_row.captured_queries)):
        page = analyst_client.get("/").content.decode()
    assert page.count('class="row-fail"') == 31


def _scheduled(make_transaction, n, **fields):
    """A row waiting for an automatic call: every other one a third try, the others bulk."""
    retry = n % 2 == 0
    return make_transaction(
        public_id=f"SCH{n:02d}",
        queue_state=QueueState.SCHEDULED,
        queue_trigger=CallTrigger.RETRY if retry else CallTrigger.BULK,
        queue_call_number=2 if retry else None,
        queue_call_total=3 if retry else None,
        next_call_at=timezone.now() + timedelta(hours=1),
        **fields,
    )


def test_a_page_of_fifty_scheduled_rows_takes_a_few_queries(
    analyst_client, make_transaction, django_assert_max_num_queries
):
    for n in range(50):
        row = _scheduled(make_transaction, n, needs_review=n % 5 == 0)
        if n % 3 == 0:
            CallAttempt.objects.create(transaction=row, ended_at=timezone.now(), error_code="21211")
        elif n % 7 == 0:
            CallAttempt.objects.create(transaction=row)  # on the line
    # Session, user, two permission queries, the status tally, the review count, the page.
    with django_assert_max_num_queries(7):
        page = analyst_client.get("/").content.decode()
    assert page.count('class="txn ') == 50
    assert page.count(">Retry 2 of 3 at ") == 25
    assert page.count(">Scheduled at ") == 25
    assert page.count('class="tag tag-review"') == 10
    assert page.count('class="row-fail"') == 17
    assert page.count('<span class="badge-line">☎ On the line</span>') == 5


def test_a_row_shows_its_retry_from_the_queue_columns(analyst_client, make_transaction):
    due = timezone.now() + timedelta(days=2)  # not today anywhere: the label shows the day
    make_transaction(
        public_id="RETRY",
        queue_state=QueueState.SCHEDULED,
        queue_trigger=CallTrigger.RETRY,
        queue_call_number=2,
        queue_call_total=3,
        next_call_at=due,
    )
    page = analyst_client.get("/").content.decode()
    local = timezone.localtime(due)
    assert f">Retry 2 of 3 at {local:%-d %b %H:%M} IST</span>" in page


@pytest.mark.parametrize(("zone", "name"), [("Asia/Kolkata", "IST"), ("Europe/London", "GMT")])
def test_a_scheduled_time_names_the_analysts_time_zone(
    analyst_client, make_transaction, settings, zone, name
):
    settings.TIME_ZONE = zone
    # In January: London keeps GMT. Early in the local day's future, not today anywhere.
    due = timezone.make_aware(datetime(2031, 1, 15, 21, 30), ZoneInfo(zone))
    make_transaction(public_id="LATER", queue_state=QueueState.SCHEDULED, next_call_at=due)
    page = analyst_client.get("/").content.decode()
    assert f">Scheduled at 15 Jan 21:30 {name}</span>" in page
    assert f'title="15 Jan 2031 21:30 {name}"' in page


def test_a_row_that_needs_review_says_so_beside_its_status(analyst_client, make_transaction):
    make_transaction(public_id="FLAG", status=Status.RESOLVED, needs_review=True)
    make_transaction(public_id="CALM", status=Status.RESOLVED)
    page = analyst_client.get("/").content.decode()
    flagged = _row_of(page, "FLAG")
    assert '<span class="badge-text">Resolved</span>' in flagged
    assert "Needs review</span>" in flagged
    assert 'class="txn status-resolved needs-review"' in flagged
    assert "Needs review</span>" not in _row_of(page, "CALM")


def test_the_review_filter_shows_only_rows_that_need_review(analyst_client, make_transaction):
    make_transaction(
        public_id="FLAG1", client_name="Meera", status=Status.RESOLVED, needs_review=True
    )
    make_transaction(public_id="FLAG2", client_name="Arjun", status=Status.FRAUD, needs_review=True)
    make_transaction(public_id="CALM", client_name="Meera", status=Status.RESOLVED)
    response = analyst_client.get("/", {"review": "1"})
    page = response.content.decode()
    assert "row-FLAG1" in page and "row-FLAG2" in page and "row-CALM" not in page
    counts = {c["status"]: c["n"] for c in response.context["counts"]}
    assert (counts[Status.RESOLVED], counts[Status.FRAUD], response.context["total"]) == (1, 1, 2)
    assert "Showing 1–2 of 2 that need review." in page

    # With a search and a status: all three narrow the rows.
    response = analyst_client.get("/", {"review": "1", "q": "Meera", "status": Status.RESOLVED})
    page = response.content.decode()
    assert "row-FLAG1" in page and "row-FLAG2" not in page and "row-CALM" not in page
    assert response.context["total"] == 1


def test_the_review_toggle_counts_the_rows_and_keeps_the_view(analyst_client, make_transaction):
    make_transaction(client_name="Meera", needs_review=True, status=Status.FRAUD)
    make_transaction(client_name="Meera", needs_review=True, status=Status.RESOLVED)
    make_transaction(client_name="Arjun", needs_review=True, status=Status.FRAUD)
    make_transaction(client_name="Meera")
    page = analyst_client.get("/", {"q": "Meera", "sort": "amount"}).content.decode()
    on = "?q=Meera&amp;review=1&amp;sort=amount"
    assert f'<a href="{on}" hx-get="{on}" class="count count-review"' in page
    assert '<span class="count-label">Needs review</span> <span class="count-n">2</span>' in page

    page = analyst_client.get("/", {"q": "Meera", "review": "1"}).content.decode()
    # On: it turns itself off, and the status filters keep it.
    assert (
        '<a href="?q=Meera" hx-get="?q=Meera" class="count count-review active" aria-current="true"'
        in page
    )
    assert 'href="?q=Meera&amp;status=Mark+As+Fraud&amp;review=1"' in page
    assert '<input type="hidden" name="review" value="1" form="search">' in page


def test_the_poll_and_the_export_keep_the_review_filter(supervisor_client, txn):
    response = supervisor_client.get("/", {"review": "1", "q": "Asha"})
    assert "review=1" in response.context["poll_url"]
    assert 'href="/export.csv?q=Asha&amp;review=1"' in response.content.decode()


def test_it_rejects_a_bad_review_value(analyst_client):
    response = analyst_client.get("/", {"review": "yes"})
    assert response.status_code == 400
    assert "review must be 1" in response.content.decode()


@pytest.mark.parametrize("status", [Status.PENDING, Status.NOT_ANSWERED, Status.FRAUD])
def test_a_row_on_the_line_says_so_and_offers_no_call(analyst_client, make_transaction, status):
    busy = make_transaction(public_id="BUSY", status=status)
    CallAttempt.objects.create(transaction=busy, call_sid="CA" + "5" * 32)
    make_transaction(public_id="FREE", status=status)
    page = analyst_client.get("/").content.decode()
    row = _row_of(page, "BUSY")
    assert 'hx-post="/call/BUSY"' not in row
    assert "<button" not in row.split('class="c-status"')[1]
    assert f'<span class="badge-text">{status_label(status)}</span>' in row
    assert '<span class="badge-line">☎ On the line</span>' in row
    assert 'aria-busy="true"' in row
    assert 'hx-post="/call/FREE"' in page


def test_a_call_that_ended_gives_the_call_button_back(analyst_client, make_transaction):
    t = make_transaction(public_id="ENDED", status=Status.NOT_ANSWERED)
    CallAttempt.objects.create(transaction=t, ended_at=timezone.now())
    page = analyst_client.get("/").content.decode()
    assert 'hx-post="/call/ENDED"' in page
    assert "On the line" not in page


def test_resolved_rows_are_never_call_buttons_even_when_flagged(analyst_client, make_transaction):
    make_transaction(public_id="DONE", status=Status.RESOLVED, needs_review=True)
    page = analyst_client.get("/").content.decode()
    assert 'hx-post="/call/DONE"' not in page


def test_cells_are_aligned_by_their_class(analyst_client, txn):
    page = analyst_client.get("/").content.decode()
    row = _row_of(page, "TXN001")
    assert '<td class="c-amount num">₹2,350.10</td>' in row
    assert '<th scope="col" class="c-amount" aria-sort="none">' in page


def _row_of(page, public_id):
    start = page.index(f'<tr id="row-{public_id}"')
    return page[start : page.index("</tr>", start)]


def test_analysts_can_cancel_the_selected_rows_automatic_calls(analyst_client, make_transaction):
    make_transaction(public_id="QUEUED", queue_state=QueueState.QUEUED)
    page = analyst_client.get("/").content.decode()
    start = page.index('<form id="bulk"')
    form = page[start : page.index("</form>", start)]
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'formaction="/calls/bulk/cancel" hx-post="/calls/bulk/cancel"' in form
    assert ">Cancel automatic calls</button>" in form


def test_the_cancel_button_is_hidden_without_the_permission(client, eve, make_transaction):
    eve.user_permissions.add(Permission.objects.get(codename="view_transaction"))
    client.force_login(eve)
    make_transaction(queue_state=QueueState.QUEUED)
    assert "Cancel automatic calls" not in client.get("/").content.decode()
