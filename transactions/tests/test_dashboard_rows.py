"""GET /rows : the dashboard's live poll (changed-since token, out-of-band rows, 204 when quiet)."""

import time
from datetime import timedelta
from urllib.parse import unquote

import pytest
from django.core.signing import TimestampSigner, b62_encode
from django.urls import reverse
from django.utils import timezone

from transactions.models import CallAttempt, CallTrigger, QueueState, Status, Transaction
from transactions.templatetags.dashboard import row_version
from transactions.views.dashboard import PAGE_SIZE, POLL_SALT, POLL_TOKEN_MAX_AGE, poll_token

HTMX = {"HX-Request": "true"}


class _SignerOfThePast(TimestampSigner):
    """Signs as the dashboard did longer ago than a token lives."""

    def timestamp(self):
        return b62_encode(int(time.time()) - POLL_TOKEN_MAX_AGE - 60)


def _quiet_since_an_hour(user):
    """Make every row look unchanged for an hour; return user's token from ten minutes ago."""
    now = timezone.now()
    Transaction.objects.update(updated_at=now - timedelta(hours=1))
    return poll_token(user.pk, now - timedelta(minutes=10))


def _since_of(token):
    return int(TimestampSigner(salt=POLL_SALT).unsign(token).split(".")[1])


def _expired_token(user):
    since = int((timezone.now() - timedelta(minutes=10)).timestamp() * 1000)
    return _SignerOfThePast(salt=POLL_SALT).sign(f"{user.pk}.{since}")


def shown(*txns) -> str:
    """The `shown` parameter of a page showing these rows as they are now in the database."""
    for t in txns:
        t.refresh_from_db()
    return "~".join(f"{t.public_id}.{row_version(t.updated_at)}" for t in txns)


def poll(client, since, **params):
    return client.get(reverse("dashboard-rows"), {"since": since, **params}, headers=HTMX)


def test_it_redirects_anonymous_users_to_login(client, db):
    response = client.get(reverse("dashboard-rows"), {"since": "0"}, headers=HTMX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_forbids_users_without_a_role(client, eve):
    client.force_login(eve)
    assert poll(client, "0").status_code == 403


def test_it_rejects_post(analyst_client):
    response = analyst_client.post(reverse("dashboard-rows"), headers=HTMX)
    assert response.status_code == 405


def test_a_plain_browser_request_goes_to_the_dashboard_of_that_view(analyst_client):
    response = analyst_client.get(reverse("dashboard-rows"), {"since": "1", "q": "Asha"})
    assert response.status_code == 302
    assert response["Location"] == "/?q=Asha"


def test_it_rejects_a_bad_token(analyst_client):
    for bad in ("", "yesterday", "-5", str(10**16)):
        response = poll(analyst_client, bad)
        assert response.status_code == 400, bad
        assert "since" in response.content.decode()


def test_it_rejects_a_bad_filter(analyst_client):
    response = poll(analyst_client, "1", status="Bogus")
    assert response.status_code == 400


def test_nothing_changed_is_an_empty_204_from_one_query(
    analyst_client, alice, make_transaction, django_assert_num_queries
):
    for _ in range(3):
        make_transaction()
    since = _quiet_since_an_hour(alice)
    # No session, user or permission query: only "did anything change?".
    with django_assert_num_queries(1) as queries:
        response = poll(analyst_client, since, shown="TXN001.1")
    assert response.status_code == 204
    assert response.content == b""
    assert "updated_at" in queries.captured_queries[0]["sql"]


def test_a_quiet_poll_does_not_touch_the_session(analyst_client, alice, make_transaction):
    make_transaction()
    since = _quiet_since_an_hour(alice)
    response = poll(analyst_client, since)
    assert response.status_code == 204
    assert "Cookie" not in response.get("Vary", "")
    assert not response.cookies


def test_a_forged_token_takes_the_login_path(client, alice, make_transaction):
    make_transaction()
    since = _quiet_since_an_hour(alice)
    forged = since[:-1] + ("A" if since[-1] != "A" else "B")
    response = poll(client, forged)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_forged_token_is_refused_to_users_without_a_role(client, eve, alice, make_transaction):
    make_transaction()
    forged = str(int(timezone.now().timestamp() * 1000))  # the old, unsigned form
    _quiet_since_an_hour(alice)
    client.force_login(eve)
    assert poll(client, forged).status_code == 403


def test_an_expired_token_takes_the_login_path(client, eve, alice, make_transaction):
    make_transaction()
    _quiet_since_an_hour(alice)
    assert poll(client, _expired_token(alice)).status_code == 302
    client.force_login(eve)
    assert poll(client, _expired_token(alice)).status_code == 403


def test_an_expired_token_of_the_analyst_gets_a_fresh_one(analyst_client, alice, make_transaction):
    make_transaction()
    _quiet_since_an_hour(alice)
    response = poll(analyst_client, _expired_token(alice))
    page = response.content.decode()
    assert response.status_code == 200
    assert '<div id="poll"' in page
    new_since = response.context["poll_url"].split("since=")[1].split("&")[0]
    assert poll(analyst_client, unquote(new_since)).status_code == 204


def test_a_token_of_another_user_is_refused(analyst_client, sam, make_transaction):
    make_transaction()
    since = _quiet_since_an_hour(sam)
    Transaction.objects.update(updated_at=timezone.now())
    response = poll(analyst_client, since)
    assert response.status_code == 400
    assert "another user" in response.content.decode()
    assert response["HX-Refresh"] == "true"  # the page redraws itself for who is logged in


@pytest.mark.parametrize("who", ["anonymous", "eve"])
def test_answers_with_data_still_need_login_and_permission(client, eve, alice, txn, who):
    since = _quiet_since_an_hour(alice)
    txn.set_status_by(alice, Status.RESOLVED)
    if who == "eve":
        client.force_login(eve)
    response = poll(client, since, shown="TXN001.1")
    assert response.status_code == (403 if who == "eve" else 302)
    assert b"row-TXN001" not in response.content


def test_rows_the_page_could_not_update_need_login(client, alice, txn):
    since = _quiet_since_an_hour(alice)
    response = poll(client, since, stale="TXN001")
    assert response.status_code == 302


def test_a_changed_row_on_screen_comes_back_as_an_out_of_band_swap(
    analyst_client, alice, make_transaction
):
    changed = make_transaction(public_id="CHG")
    same = make_transaction(public_id="SAME")
    since = _quiet_since_an_hour(alice)
    on_screen = shown(changed, same)
    changed.set_status_by(alice, Status.RESOLVED)

    response = poll(analyst_client, since, shown=on_screen)
    page = response.content.decode()
    assert response.status_code == 200
    assert '<tr id="row-CHG" data-id="CHG"' in page
    assert 'class="txn status-resolved" hx-swap-oob="true">' in page
    assert "row-SAME" not in page


def test_a_row_the_page_already_shows_is_not_sent_again(analyst_client, alice, make_transaction):
    t = make_transaction(public_id="CHG")
    since = _quiet_since_an_hour(alice)
    t.set_status_by(alice, Status.RESOLVED)
    first = poll(analyst_client, since, shown="CHG.1")
    assert "row-CHG" in first.content.decode()

    # The next poll (same token: within the overlap) from a page showing the new version.
    again = poll(
        analyst_client,
        since,
        shown=shown(t),
        counts=first.context["counts_signature"],
    )
    page = again.content.decode()
    assert again.status_code == 200
    assert "row-CHG" not in page
    assert '<nav id="counts"' not in page  # the counts are those on screen
    assert '<div id="poll"' in page  # only the next token


def test_a_row_the_page_could_not_update_is_sent_even_unchanged(
    analyst_client, alice, make_transaction
):
    t = make_transaction(public_id="TYPING")
    since = _quiet_since_an_hour(alice)
    response = poll(analyst_client, since, shown=shown(t), stale="TYPING")
    assert response.status_code == 200
    assert 'id="row-TYPING"' in response.content.decode()


def test_the_answer_carries_fresh_counts_and_a_newer_token(analyst_client, alice, make_transaction):
    t = make_transaction(public_id="CHG")
    make_transaction()
    since = _quiet_since_an_hour(alice)
    on_screen = shown(t)
    t.set_status_by(alice, Status.FRAUD)

    response = poll(analyst_client, since, shown=on_screen, counts="2,0,0,0,0,0")
    page = response.content.decode()
    assert '<nav id="counts"' in page and 'hx-swap-oob="true"' in page
    counts = {c["status"]: c["n"] for c in response.context["counts"]}
    assert counts[Status.FRAUD] == 1
    assert counts[Status.PENDING] == 1
    new_since = unquote(response.context["poll_url"].split("since=")[1].split("&")[0])
    assert _since_of(new_since) > _since_of(since)
    assert '<div id="poll"' in page


def test_the_showing_line_follows_the_counts(analyst_client, alice, make_transaction):
    first = make_transaction(public_id="OLD")
    page = analyst_client.get("/")
    assert "Showing 1–1 of 1." in page.content.decode()
    since = _quiet_since_an_hour(alice)
    make_transaction(public_id="NEW")
    response = poll(
        analyst_client, since, shown=shown(first), counts=page.context["counts_signature"]
    )
    answer = response.content.decode()
    assert '<p class="muted" id="showing" hx-swap-oob="true">' in answer
    assert "Showing 1–2 of 2." in answer

    # Counts as on screen: the line is not sent again.
    again = poll(
        analyst_client, since, shown=shown(first), counts=response.context["counts_signature"]
    )
    assert 'id="showing"' not in again.content.decode()


def test_the_showing_line_of_a_later_page_and_a_status(analyst_client, alice, make_transaction):
    rows = [make_transaction(status=Status.FRAUD) for _ in range(PAGE_SIZE + 1)]
    since = _quiet_since_an_hour(alice)
    make_transaction(status=Status.FRAUD)
    response = poll(analyst_client, since, shown=shown(rows[0]), status=Status.FRAUD, page="2")
    answer = response.content.decode()
    n = PAGE_SIZE + 2
    assert f"Showing {n - 1}–{n} of {n} with status Fraud." in answer


def test_a_changed_row_not_on_screen_only_updates_the_counts(
    analyst_client, alice, make_transaction
):
    t = make_transaction(public_id="ELSEWHERE")
    since = _quiet_since_an_hour(alice)
    t.set_status_by(alice, Status.RESOLVED)
    # Not on this page (page 2 gets no new rows), so no row is sent.
    page = poll(analyst_client, since, shown="OTHER.1", page="2").content.decode()
    assert "row-ELSEWHERE" not in page
    assert '<nav id="counts"' in page


def test_a_new_transaction_in_the_view_goes_on_top(analyst_client, alice, make_transaction):
    make_transaction(public_id="OLD")
    since = _quiet_since_an_hour(alice)
    make_transaction(public_id="NEWONE", client_name="Kavya Iyer")
    make_transaction(public_id="NOTMINE", client_name="Someone Else")

    page = poll(analyst_client, since, shown="OLD.1", q="Kavya").content.decode()
    assert '<tbody hx-swap-oob="afterbegin:#rows">' in page
    assert 'id="row-NEWONE"' in page
    assert "row-NOTMINE" not in page


def test_new_transactions_wait_for_the_first_page(analyst_client, alice, make_transaction):
    since = _quiet_since_an_hour(alice)
    make_transaction(public_id="NEWONE")
    page = poll(analyst_client, since, page="3").content.decode()
    assert "row-NEWONE" not in page


def test_a_new_transaction_outside_the_status_filter_is_not_added(
    analyst_client, alice, make_transaction
):
    since = _quiet_since_an_hour(alice)
    make_transaction(public_id="NEWPENDING")
    page = poll(analyst_client, since, status=Status.FRAUD).content.decode()
    assert "row-NEWPENDING" not in page


def test_a_garbled_shown_list_is_read_as_rows_with_no_version(
    analyst_client, alice, make_transaction
):
    t = make_transaction(public_id="ODD")
    since = _quiet_since_an_hour(alice)
    Transaction.objects.filter(pk=t.pk).update(updated_at=timezone.now())
    response = poll(analyst_client, since, shown="ODD." + "9" * 5000 + "~.~~x.y~~")
    assert response.status_code == 200
    assert 'id="row-ODD"' in response.content.decode()


def test_the_quiet_check_counts_a_change_one_microsecond_after_the_token(
    analyst_client, alice, make_transaction
):
    t = make_transaction(public_id="EDGE")
    since = timezone.now().replace(microsecond=123000) - timedelta(minutes=1)
    token = poll_token(alice.pk, since)
    for offset, status in ((timedelta(0), 204), (timedelta(microseconds=1), 200)):
        Transaction.objects.filter(pk=t.pk).update(updated_at=since + offset)
        response = poll(analyst_client, token, shown="EDGE.1")
        assert response.status_code == status, offset
    assert 'id="row-EDGE"' in response.content.decode()


def test_a_row_changed_on_screen_costs_no_query_per_row(
    analyst_client, alice, make_transaction, django_assert_max_num_queries
):
    """Changed rows, new rows and counts: a handful of queries, however many rows changed."""
    rows = [_scheduled(make_transaction, n) for n in range(PAGE_SIZE)]
    for row in rows[:10]:
        CallAttempt.objects.create(transaction=row, ended_at=timezone.now(), error_code="21211")
    since = _quiet_since_an_hour(alice)
    on_screen = shown(*rows)
    Transaction.objects.update(updated_at=timezone.now(), needs_review=True)
    _scheduled(make_transaction, "NEW")
    # "Anything changed?", session, user, two permission queries, the changed rows,
    # the new rows, the status counts and the review count.
    with django_assert_max_num_queries(9):
        response = poll(analyst_client, since, shown=on_screen)
    page = response.content.decode()
    assert page.count('class="txn status-pending needs-review" hx-swap-oob="true">') == PAGE_SIZE
    assert page.count("Retry 2 of 3 at") == PAGE_SIZE // 2
    assert page.count('class="tag tag-review"') == PAGE_SIZE
    assert page.count('class="row-fail"') == 10
    assert 'id="row-TXNNEW"' in page


def _scheduled(make_transaction, n):
    """A row waiting for an automatic call: every other one a third try, the others bulk."""
    retry = n != "NEW" and n % 2 == 0
    return make_transaction(
        public_id=f"TXN{n}",
        queue_state=QueueState.SCHEDULED,
        queue_trigger=CallTrigger.RETRY if retry else CallTrigger.BULK,
        queue_call_number=2 if retry else None,
        queue_call_total=3 if retry else None,
        next_call_at=timezone.now() + timedelta(hours=1),
    )


def test_a_row_flagged_for_review_updates_the_toggles_count(
    analyst_client, alice, make_transaction
):
    t = make_transaction(public_id="FLAG", status=Status.FRAUD)
    since = _quiet_since_an_hour(alice)
    on_screen = shown(t)
    before = poll(analyst_client, since, shown=on_screen, stale="FLAG")  # the page's counts
    t.record_answer(authorized=True)  # a later call: "yes, that was me"

    response = poll(
        analyst_client, since, shown=on_screen, counts=before.context["counts_signature"]
    )
    page = response.content.decode()
    assert '<nav id="counts"' in page
    assert '<span class="count-label">Needs review</span> <span class="count-n">1</span>' in page
    row = page[page.index('id="row-FLAG"') :]
    assert '<span class="badge-text">Fraud</span>' in row
    assert "Needs review</span>" in row


def test_the_poll_of_the_review_view_adds_only_new_rows_that_need_review(
    analyst_client, alice, make_transaction
):
    since = _quiet_since_an_hour(alice)
    make_transaction(public_id="NEWFLAG", needs_review=True, status=Status.FRAUD)
    make_transaction(public_id="NEWCALM")
    page = poll(analyst_client, since, review="1").content.decode()
    assert 'id="row-NEWFLAG"' in page
    assert "row-NEWCALM" not in page
