"""Calling hours: automatic calls wait for 08:00–21:00 in the customer's own time zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from transactions.models import QueueState, Transaction
from voiceflow import autocall

from .autocall_kit import (
    INDIA,
    LONDON,
    LOS_ANGELES,
    NEW_YORK,
    US_TOLL_FREE,
    WINTER_AFTERNOON,
)

pytestmark = pytest.mark.django_db


def _enqueue(make_transaction, now, *phones):
    rows = [make_transaction(phone=p) for p in phones]
    autocall.enqueue_calls(Transaction.objects.filter(pk__in=[r.pk for r in rows]), now=now)
    for row in rows:
        row.refresh_from_db()
    return rows


def test_it_takes_the_time_zone_from_the_number():
    assert autocall.customer_time_zone(INDIA).key in ("Asia/Kolkata", "Asia/Calcutta")
    assert autocall.customer_time_zone(LONDON).key == "Europe/London"
    assert autocall.customer_time_zone(NEW_YORK).key == "America/New_York"
    assert autocall.customer_time_zone(LOS_ANGELES).key == "America/Los_Angeles"


def test_it_uses_the_default_zone_for_a_number_spanning_several(settings):
    settings.DEFAULT_CUSTOMER_TIME_ZONE = "America/Chicago"
    assert autocall.customer_time_zone(US_TOLL_FREE) == ZoneInfo("America/Chicago")
    settings.DEFAULT_CUSTOMER_TIME_ZONE = "Asia/Kolkata"
    assert autocall.customer_time_zone(US_TOLL_FREE) == ZoneInfo("Asia/Kolkata")


def test_it_queues_numbers_inside_their_hours_and_schedules_the_others(make_transaction):
    # 14:00 UTC: India 19:30, London 14:00, New York 09:00 (open); Los Angeles 06:00 (closed).
    india, london, new_york, los_angeles = _enqueue(
        make_transaction, WINTER_AFTERNOON, INDIA, LONDON, NEW_YORK, LOS_ANGELES
    )
    for row in (india, london, new_york):
        assert row.queue_state == QueueState.QUEUED
        assert row.next_call_at == WINTER_AFTERNOON
    assert los_angeles.queue_state == QueueState.SCHEDULED
    # 08:00 PST is 16:00 UTC.
    assert los_angeles.next_call_at == datetime(2026, 1, 15, 16, 0, tzinfo=UTC)


def test_it_defers_each_country_to_its_own_morning(make_transaction):
    # 03:00 UTC: India 08:30 (open), London 03:00, New York 22:00 the evening before.
    night = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    india, london, new_york = _enqueue(make_transaction, night, INDIA, LONDON, NEW_YORK)
    assert india.queue_state == QueueState.QUEUED
    assert london.queue_state == QueueState.SCHEDULED
    assert london.next_call_at == datetime(2026, 1, 15, 8, 0, tzinfo=UTC)
    assert new_york.queue_state == QueueState.SCHEDULED
    assert new_york.next_call_at == datetime(2026, 1, 15, 13, 0, tzinfo=UTC)


def test_it_follows_summer_time(make_transaction):
    # 06:30 UTC on 1 July is 07:30 BST: London opens at 07:00 UTC.
    summer = datetime(2026, 7, 1, 6, 30, tzinfo=UTC)
    (london,) = _enqueue(make_transaction, summer, LONDON)
    assert london.next_call_at == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)


def test_india_is_closed_late_in_the_evening(make_transaction):
    # 16:00 UTC is 21:30 in India: the window closed at 21:00, it opens 08:00 IST (02:30 UTC).
    (india,) = _enqueue(make_transaction, datetime(2026, 1, 15, 16, 0, tzinfo=UTC), INDIA)
    assert india.queue_state == QueueState.SCHEDULED
    assert india.next_call_at == datetime(2026, 1, 16, 2, 30, tzinfo=UTC)


def test_the_window_closes_at_its_closing_minute():
    nine_pm_london = datetime(2026, 1, 15, 21, 0, tzinfo=UTC)
    assert autocall.calling_window_opening(LONDON, nine_pm_london - timedelta(seconds=1)) is None
    assert autocall.calling_window_opening(LONDON, nine_pm_london) == datetime(
        2026, 1, 16, 8, 0, tzinfo=UTC
    )


def test_calling_hours_come_from_settings(settings):
    settings.CALLING_HOURS = "10:00-18:00"
    assert autocall.calling_window_opening(LONDON, WINTER_AFTERNOON) is None
    assert autocall.calling_window_opening(LONDON, datetime(2026, 1, 15, 9, 0, tzinfo=UTC)) == (
        datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    )


def test_scheduled_calls_join_the_queue_when_the_window_opens(make_transaction):
    night = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    (london,) = _enqueue(make_transaction, night, LONDON)
    autocall.promote_scheduled(datetime(2026, 1, 15, 7, 59, tzinfo=UTC))
    london.refresh_from_db()
    assert london.queue_state == QueueState.SCHEDULED
    autocall.promote_scheduled(datetime(2026, 1, 15, 8, 0, tzinfo=UTC))
    london.refresh_from_db()
    assert london.queue_state == QueueState.QUEUED


def test_a_queued_call_whose_window_closed_waits_for_the_next_one(make_transaction):
    # Queued at 20:59 London time, but no slot before 21:00.
    evening = datetime(2026, 1, 15, 20, 59, 59, tzinfo=UTC)
    (london,) = _enqueue(make_transaction, evening, LONDON)
    assert london.queue_state == QueueState.QUEUED
    given = autocall.dispatch(evening + timedelta(seconds=2), lambda pk, slot: None)
    london.refresh_from_db()
    assert given == []
    assert london.queue_state == QueueState.SCHEDULED
    assert london.next_call_at == datetime(2026, 1, 16, 8, 0, tzinfo=UTC)


def test_outside_calling_hours_flags_a_row_for_the_dashboard(make_transaction):
    row = make_transaction(phone=LOS_ANGELES)
    assert autocall.outside_calling_hours(row, WINTER_AFTERNOON)
    assert not autocall.outside_calling_hours(row, datetime(2026, 1, 15, 20, 0, tzinfo=UTC))


def _open_only_where(phone, now):
    """CALLING_HOURS that are open now for `phone`'s zone (an hour-and-a-half window)."""
    local = now.astimezone(autocall.customer_time_zone(phone))
    opens, closes = local - timedelta(minutes=30), local + timedelta(minutes=60)
    if opens.date() != closes.date():
        return None
    return f"{opens:%H:%M}-{closes:%H:%M}"


def test_a_phone_edit_reschedules_a_waiting_call_for_the_new_numbers_hours(
    make_transaction, settings, alice
):
    # India and New York are ten and a half hours apart: a window open in one is shut
    # in the other. Whichever fits the moment the test runs is the new number.
    now = datetime.now(UTC)
    old, new = (INDIA, NEW_YORK) if _open_only_where(NEW_YORK, now) else (NEW_YORK, INDIA)
    settings.CALLING_HOURS = _open_only_where(new, now)
    (row,) = _enqueue(make_transaction, now, old)
    assert row.queue_state == QueueState.SCHEDULED  # waits for the old number's morning

    row.set_phone_by(alice, new)
    given = autocall.dispatch(datetime.now(UTC), lambda pk, slot: None)

    row.refresh_from_db()
    assert [pk for pk, _ in given] == [row.pk]  # called now, in the new number's hours
    assert row.queue_state == QueueState.CALLING
