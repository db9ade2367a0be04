"""The three daily report slots, their keys, and which are due for catch-up."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from logistic.domain.errors import InvalidInput
from logistic.domain.report_slot import ReportSlot, due_slots, slots_between

TAIPEI = "Asia/Taipei"
# Taipei has no daylight saving; the others change their clocks, some at midnight
# (Santiago, Havana), one by half an hour (Lord Howe), one is off the hour (Kathmandu).
ZONES = [
    TAIPEI,
    "UTC",
    "Europe/London",
    "America/New_York",
    "America/Santiago",
    "America/Havana",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
]

zones = st.sampled_from(ZONES)
instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2090, 1, 1))
slots = st.builds(ReportSlot, day=days, hour=st.sampled_from([0, 8, 16]), zone=zones)


def test_a_morning_in_taipei_belongs_to_the_eight_o_clock_slot() -> None:
    slot = ReportSlot.at(datetime(2026, 11, 25, 0, 30, tzinfo=UTC), TAIPEI)

    assert slot == ReportSlot(date(2026, 11, 25), 8, TAIPEI)
    assert slot.starts_at == datetime(2026, 11, 25, 8, tzinfo=ZoneInfo(TAIPEI))
    assert slot.key("json") == "reports/2026/11/25/0800.json"
    assert slot.key("csv") == "reports/2026/11/25/0800.csv"
    assert slot.name == "2026-11-25T0800"


def test_midnight_slots_are_keyed_by_the_local_date() -> None:
    # 16:30 UTC on the 24th is 00:30 on the 25th in Taipei.
    slot = ReportSlot.at(datetime(2026, 11, 24, 16, 30, tzinfo=UTC), TAIPEI)

    assert slot.key("json") == "reports/2026/11/25/0000.json"
    assert slot.previous().key("json") == "reports/2026/11/24/1600.json"
    assert ReportSlot.day_prefix(date(2026, 11, 25)) == "reports/2026/11/25/"


@given(instant=instants, zone=zones)
def test_the_slot_of_an_instant_starts_at_or_before_it_and_the_next_one_after(
    instant: datetime, zone: str
) -> None:
    slot = ReportSlot.at(instant, zone)

    assert slot.starts_at <= instant < slot.next().starts_at
    # The same instant on the zone's own wall clock (ambiguous in a fall-back hour) agrees.
    assert ReportSlot.at(instant.astimezone(ZoneInfo(zone)), zone) == slot


@given(slot=slots, offset=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=7)))
def test_every_instant_of_a_slot_gives_the_same_key(slot: ReportSlot, offset: timedelta) -> None:
    instant = min(slot.starts_at_utc + offset, slot.next().starts_at_utc - timedelta(seconds=1))

    again = ReportSlot.at(instant, slot.zone)

    assert again == slot
    assert again.key("json") == slot.key("json")
    assert ReportSlot.from_key(slot.key("json"), slot.zone) == slot


@given(slot=slots)
def test_a_slot_name_parses_back_to_the_slot(slot: ReportSlot) -> None:
    assert ReportSlot.parse(slot.name, slot.zone) == slot
    with_colon = f"{slot.day.isoformat()}T{slot.hour:02d}:00"
    assert ReportSlot.parse(with_colon, slot.zone) == slot


@given(slot=slots)
def test_next_and_previous_are_inverse_and_in_order(slot: ReportSlot) -> None:
    assert slot.next().previous() == slot
    assert slot.previous().next() == slot
    assert slot.previous().starts_at < slot.starts_at < slot.next().starts_at
    assert slot.previous() < slot < slot.next()


@given(day=days, zone=zones)
def test_every_local_day_has_exactly_three_slots(day: date, zone: str) -> None:
    midnight = datetime.combine(day, time(), tzinfo=ZoneInfo(zone))
    next_midnight = datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(zone))

    found = slots_between(midnight, next_midnight, zone)

    assert [(slot.day, slot.hour) for slot in found] == [(day, 0), (day, 8), (day, 16)]


@given(start=days, length=st.integers(min_value=0, max_value=40), zone=zones)
def test_slots_across_days_are_three_a_day_without_gaps(
    start: date, length: int, zone: str
) -> None:
    tz = ZoneInfo(zone)
    begin = datetime.combine(start, time(), tzinfo=tz)
    end = datetime.combine(start + timedelta(days=length), time(), tzinfo=tz)

    found = slots_between(begin, end, zone)

    assert len(found) == 3 * length
    assert all(later == earlier.next() for earlier, later in pairwise(found))


def test_slots_between_excludes_the_end_and_includes_the_start() -> None:
    start = ReportSlot(date(2026, 11, 25), 0, TAIPEI)

    found = slots_between(start.starts_at, start.next().next().starts_at, TAIPEI)

    assert found == (start, start.next())
    assert slots_between(start.starts_at, start.starts_at, TAIPEI) == ()


@given(
    now=instants,
    grace=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=3)),
    zone=zones,
)
def test_due_slots_are_those_that_started_within_the_grace_window(
    now: datetime, grace: timedelta, zone: str
) -> None:
    due = due_slots(now, grace, zone)

    assert all(now - grace <= slot.starts_at <= now for slot in due)
    assert all(later == earlier.next() for earlier, later in pairwise(due))
    current = ReportSlot.at(now, zone)
    if due:
        assert due[-1] == current
        assert due[0].previous().starts_at < now - grace
    else:
        assert current.starts_at < now - grace


def test_a_restart_within_the_grace_window_catches_up_the_missed_slot() -> None:
    # 09:30 in Taipei, eight hours of grace: 08:00 is due, midnight is not (9.5 hours ago).
    now = datetime(2026, 11, 25, 1, 30, tzinfo=UTC)

    assert [slot.name for slot in due_slots(now, timedelta(hours=8), TAIPEI)] == ["2026-11-25T0800"]
    assert [slot.name for slot in due_slots(now, timedelta(hours=10), TAIPEI)] == [
        "2026-11-25T0000",
        "2026-11-25T0800",
    ]
    assert due_slots(now, timedelta(hours=1), TAIPEI) == ()


def test_a_negative_grace_window_is_refused() -> None:
    with pytest.raises(InvalidInput):
        due_slots(datetime(2026, 11, 25, tzinfo=UTC), timedelta(hours=-1), TAIPEI)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2026-11-25",
        "2026-11-25T0900",
        "2026-11-25T08:30",
        "2026-11-25T0830",
        "2026-11-25T24:00",
        "2026-02-30T0800",
        "2026-13-01T0800",
        "2026-11-25 08:00",
        "2026-11-25T08:00:00",
        "2026-11-25T0800Z",
        "２０２６-11-25T0800",
        "26-11-25T0800",
    ],
)
def test_malformed_or_off_slot_texts_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput):
        ReportSlot.parse(text, TAIPEI)


@pytest.mark.parametrize(
    "key",
    ["reports/2026/11/25/0900.json", "reports/2026/11/25/0800", "other/2026/11/25/0800.json"],
)
def test_keys_of_no_report_are_refused(key: str) -> None:
    with pytest.raises(InvalidInput):
        ReportSlot.from_key(key, TAIPEI)


def test_an_unknown_zone_or_a_naive_instant_is_refused() -> None:
    with pytest.raises(InvalidInput):
        ReportSlot(date(2026, 11, 25), 8, "Mars/Olympus_Mons")
    with pytest.raises(InvalidInput):
        ReportSlot.at(datetime(2026, 11, 25, 8), TAIPEI)
    with pytest.raises(InvalidInput):
        ReportSlot(date(2026, 11, 25), 8, TAIPEI).key("../json")
